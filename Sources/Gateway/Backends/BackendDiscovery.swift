import GatewayAPI
import Logging
import NIOCore
import ServiceLifecycle

extension BackendPool {
    /// Probes every backend once, all at the same time: `/api/version` (health), `/api/ps` (what is
    /// loaded, until when) and, when `withTags` or its list was never read, `/api/tags`. Each probe
    /// has `probeTimeout`; one that fails takes its backend out until a later probe succeeds.
    func probeAll(withTags: Bool, logger: Logger) async {
        let timeout = tuning.probeTimeout
        let needsTags = Set(statuses().filter { $0.models == nil }.map(\.backend.name))
        await withTaskGroup(of: Void.self) { group in
            for target in allTargets() {
                let readTags = withTags || needsTags.contains(target.name)
                group.addTask {
                    await self.probe(target, readTags: readTags, timeout: timeout, logger: logger)
                }
            }
        }
    }

    /// Asks every enabled backend for its version now, as `/health/ready` does: the answer is about
    /// this moment, and a busy machine gets the time a single Ollama always had (10 s).
    func checkAll(logger: Logger) async {
        await withTaskGroup(of: Void.self) { group in
            for target in enabledTargets() {
                group.addTask {
                    await self.probe(target, readTags: false, readRunning: false, timeout: .seconds(10), logger: logger)
                }
            }
        }
    }

    func probe(_ target: Target, readTags: Bool, readRunning: Bool = true, timeout: Duration, logger: Logger) async {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        let none = Optional<OllamaShowRequest>.none
        do {
            let version = try await target.client.exchange(
                .GET, "/api/version", body: none, as: OllamaVersionResponse.self, deadline: deadline)
            var running: OllamaPsResponse?
            if readRunning {
                running = try await target.client.exchange(.GET, "/api/ps", body: none, as: OllamaPsResponse.self, deadline: deadline)
            }
            var tags: OllamaTagsResponse?
            if readTags {
                tags = try await target.client.exchange(.GET, "/api/tags", body: none, as: OllamaTagsResponse.self, deadline: deadline)
            }
            let wasOut = statuses().first { $0.backend.name == target.name }.map { $0.healthy == false || $0.coolingDown } ?? false
            discovered(target.name, version: version.version, tags: tags, running: running)
            if wasOut { logger.notice("backend answers again", metadata: ["backend": "\(target.name)"]) }
        } catch is CancellationError {
            return
        } catch {
            let reason = (error as? GatewayError)?.message ?? "\(error)"
            let wasHealthy = statuses().first { $0.backend.name == target.name }?.healthy != false
            probeFailed(target.name, reason: reason)
            if wasHealthy {
                logger.warning("backend does not answer", metadata: ["backend": "\(target.name)", "error": "\(reason)"])
            }
        }
    }

    /// Every enabled backend's models, merged (a model several backends have is listed once, as the
    /// first of them lists it); each backend's list is remembered for routing. Fails only when no
    /// backend answered, with the last failure.
    func readTags() async throws -> OllamaTagsResponse {
        let targets = enabledTargets()
        let lists = try await askAll(targets, "/api/tags", as: OllamaTagsResponse.self) { name, tags in
            self.discovered(name, version: nil, tags: tags, running: nil)
        }
        var seen = Set<String>()
        var merged: [OllamaModelSummary] = []
        for target in targets {
            for model in lists[target.name]?.models ?? [] where seen.insert(ModelInfo.normalized(model.name)).inserted {
                merged.append(model)
            }
        }
        return OllamaTagsResponse(models: merged)
    }

    /// Every enabled backend's loaded models, merged (a model loaded on several is listed once per
    /// backend: each holds its own memory); what each said is remembered for routing.
    func readRunning() async throws -> OllamaPsResponse {
        let targets = enabledTargets()
        let lists = try await askAll(targets, "/api/ps", as: OllamaPsResponse.self) { name, running in
            self.discovered(name, version: nil, tags: nil, running: running)
        }
        return OllamaPsResponse(models: targets.flatMap { lists[$0.name]?.models ?? [] })
    }

    /// Sends `GET path` to every target at once; the answers by backend name (each handed to `answered`
    /// as it comes). Fails only when none answered, with the last failure.
    private func askAll<Answer: Decodable & Sendable>(
        _ targets: [Target], _ path: String, as: Answer.Type, answered: (String, Answer) -> Void
    ) async throws -> [String: Answer] {
        let none = Optional<OllamaShowRequest>.none
        var answers: [String: Answer] = [:]
        var lastError: (any Error)?
        await withTaskGroup(of: (String, Result<Answer, any Error>).self) { group in
            for target in targets {
                group.addTask {
                    do {
                        let answer = try await target.client.exchange(
                            .GET, path, body: none, as: Answer.self, deadline: .now() + .seconds(10))
                        return (target.name, .success(answer))
                    } catch {
                        return (target.name, .failure(error))
                    }
                }
            }
            for await (name, result) in group {
                switch result {
                case .success(let answer):
                    answers[name] = answer
                    answered(name, answer)
                case .failure(let error):
                    lastError = error
                }
            }
        }
        guard !answers.isEmpty else { throw lastError ?? OllamaClient.noBackend(for: nil, lastFailure: nil) }
        return answers
    }
}

/// Probes the backends on an interval until the gateway shuts down: health and what is loaded every
/// `probeInterval`, the model lists every `tagsEvery` probes (the model registry also reads them).
struct BackendDiscoveryService: Service {
    let pool: BackendPool
    /// The backends defined from the admin API, re-read every round (another instance may change them).
    let directory: BackendDirectory?
    let logger: Logger
    var tagsEvery = 6

    func run() async throws {
        // The state is the round: the model lists are read every `tagsEvery` rounds.
        await PeriodicWork.run(every: pool.tuning.probeInterval, state: 0) { [pool, directory, logger, tagsEvery] round in
            do {
                try await directory?.reload(logger: logger)
            } catch {
                logger.warning("could not read the backends from the database", metadata: ["error": "\(error)"])
            }
            await pool.probeAll(withTags: round % tagsEvery == 0, logger: logger)
            round += 1
        }
    }
}
