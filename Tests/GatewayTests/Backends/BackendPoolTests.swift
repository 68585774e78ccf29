import AsyncHTTPClient
import Foundation
import GatewayAPI
import Logging
import Synchronization
import Testing

@testable import Gateway

/// The pool's bookkeeping (health, failures, cool-down, loaded models, sessions, in-flight) and how it
/// feeds the policy; no request is sent.
@Suite("Backend pool")
struct BackendPoolTests {
    static func pool(_ backends: [Backend], tuning: BackendTuning = BackendTuning()) -> BackendPool {
        let runtime = RuntimeSettings(.init(ollamaURL: "http://127.0.0.1:1", reasoningFormat: .reasoningContent))
        return BackendPool(backends: backends, tuning: tuning) { backend in
            OllamaClient(http: HTTPClient.shared, runtime: runtime, logger: Logger(label: "test"), backendURL: backend.url)
        }
    }

    static func tags(_ names: String...) -> OllamaTagsResponse {
        OllamaTagsResponse(models: names.map { OllamaModelSummary(name: $0, model: $0) })
    }

    static func running(_ name: String, until: Date) -> OllamaPsResponse {
        OllamaPsResponse(models: [
            OllamaRunningModel(name: name, model: name, expiresAt: until.formatted(.iso8601))
        ])
    }

    let a = Backend(name: "a", url: "http://127.0.0.1:1")
    let b = Backend(name: "b", url: "http://127.0.0.1:2")

    @Test("models by discovery: a request goes where the model is")
    func byModel() {
        let pool = Self.pool([a, b])
        pool.discovered("a", version: "1", tags: Self.tags("x:latest"), running: nil)
        pool.discovered("b", version: "1", tags: Self.tags("y:latest", "x:7b"), running: nil)
        #expect(pool.plan(model: "y").map(\.name) == ["b"])
        #expect(pool.plan(model: "y:latest").map(\.name) == ["b"])
        #expect(pool.plan(model: "x").map(\.name) == ["a"])
        #expect(pool.plan(model: "x:7b").map(\.name) == ["b"])
    }

    @Test("disabled backends and backends not allowed the model are left out")
    func allowedModels() {
        var onlyY = b
        onlyY.models = ["y"]
        var off = a
        off.enabled = false
        let pool = Self.pool([off, onlyY, Backend(name: "c", url: "http://127.0.0.1:3")])
        #expect(pool.plan(model: "x").map(\.name) == ["c"])
        #expect(Set(pool.plan(model: "y").map(\.name)) == ["b", "c"])
    }

    @Test("loaded by /api/ps until its expiry")
    func loadedUntil() {
        let pool = Self.pool([a, b])
        pool.discovered("a", version: "1", tags: Self.tags("x"), running: nil)
        pool.discovered("b", version: "1", tags: Self.tags("x"), running: Self.running("x:latest", until: Date() + 60))
        for _ in 0..<20 { #expect(pool.plan(model: "x").first?.name == "b") }
        pool.discovered("b", version: "1", tags: nil, running: Self.running("x:latest", until: Date() - 1))
        pool.started("b")
        #expect(pool.plan(model: "x").first?.name == "a")
    }

    @Test("without the loaded preference, a loaded backend is only as good as any other")
    func preferLoadedOff() {
        var tuning = BackendTuning()
        tuning.preferLoaded = false
        let pool = Self.pool([a, b], tuning: tuning)
        pool.discovered("b", version: "1", tags: nil, running: Self.running("x:latest", until: Date() + 60))
        pool.started("b")
        for _ in 0..<10 { #expect(pool.plan(model: "x").first?.name == "a") }
    }

    @Test("Ollama's times: nanoseconds and offsets")
    func times() {
        #expect(BackendPool.parseTime("2024-06-04T14:38:31.837532163-07:00") == Date(timeIntervalSince1970: 1_717_537_111))
        #expect(BackendPool.parseTime("2026-12-06T10:00:00Z") != nil)
        #expect(BackendPool.parseTime("2318-01-01T00:00:00.5Z").map { $0 > Date() } == true)
        #expect(BackendPool.parseTime("soon") == nil)
    }

    @Test("repeated failures cool a backend down; a success before the threshold forgives; a probe does not end it")
    func coolDown() {
        var tuning = BackendTuning()
        tuning.failureThreshold = 2
        let pool = Self.pool([a, b], tuning: tuning)
        pool.failed("a", reason: "refused")
        pool.succeeded("a")
        pool.failed("a", reason: "refused")
        #expect(Set(pool.plan(model: "x").map(\.name)) == ["a", "b"])
        pool.failed("a", reason: "refused")
        #expect(pool.plan(model: "x").map(\.name) == ["b"])
        #expect(pool.statuses().first { $0.backend.name == "a" }?.state == "cooling_down")
        // Its /api/version answering says nothing of its chats.
        pool.discovered("a", version: "1", tags: nil, running: nil)
        #expect(pool.plan(model: "x").map(\.name) == ["b"])
    }

    @Test("a cool-down ends by itself; then one more failure takes the backend out again, a success keeps it")
    func coolDownEnds() async throws {
        var tuning = BackendTuning()
        tuning.failureThreshold = 2
        tuning.coolDown = .milliseconds(50)
        let pool = Self.pool([a, b], tuning: tuning)
        pool.failed("a", reason: "refused")
        pool.failed("a", reason: "refused")
        #expect(pool.plan(model: "x").map(\.name) == ["b"])
        try await Task.sleep(for: .milliseconds(80))
        #expect(Set(pool.plan(model: "x").map(\.name)) == ["a", "b"])
        pool.failed("a", reason: "refused")
        #expect(pool.plan(model: "x").map(\.name) == ["b"])
        try await Task.sleep(for: .milliseconds(80))
        pool.succeeded("a")
        pool.failed("a", reason: "refused")
        #expect(Set(pool.plan(model: "x").map(\.name)) == ["a", "b"])
    }

    @Test("a failed probe takes a backend out until one succeeds, unless none is left; cooling down, none is tried")
    func probes() {
        var tuning = BackendTuning()
        tuning.failureThreshold = 1
        let pool = Self.pool([a, b], tuning: tuning)
        pool.probeFailed("a", reason: "refused")
        #expect(pool.plan(model: "x").map(\.name) == ["b"])
        pool.probeFailed("b", reason: "refused")
        #expect(Set(pool.plan(model: "x").map(\.name)) == ["a", "b"], "a missed probe must not refuse every request")
        #expect(pool.statuses().map(\.state) == ["unavailable", "unavailable"])
        pool.discovered("b", version: "1", tags: nil, running: nil)
        #expect(pool.plan(model: "x").map(\.name) == ["b"])
        pool.failed("a", reason: "refused")
        pool.failed("b", reason: "refused")
        #expect(pool.plan(model: "x").isEmpty)
    }

    @Test("a single backend is always tried: its own error says more than 'no backend'")
    func single() {
        let pool = Self.pool([a])
        pool.probeFailed("a", reason: "refused")
        for _ in 0..<5 { pool.failed("a", reason: "refused") }
        #expect(pool.plan(model: "x").map(\.name) == ["a"])
    }

    @Test("in flight: the least busy gets the next request")
    func inFlight() {
        let pool = Self.pool([a, b])
        pool.started("a")
        #expect(pool.plan(model: "x").first?.name == "b")
        pool.started("b")
        pool.started("b")
        #expect(pool.plan(model: "x").first?.name == "a")
        pool.finished("b")
        pool.finished("b")
        pool.finished("b")  // never below zero
        #expect(pool.statuses().map(\.inFlight) == [1, 0])
    }

    @Test("a session keeps its backend, even when another is less busy")
    func sessions() {
        let pool = Self.pool([a, b])
        let session: UInt64 = 77
        let first = pool.plan(model: "x", session: session)[0].name
        pool.remember(session: session, servedBy: first)
        for _ in 0..<5 { pool.started(first) }
        #expect(pool.plan(model: "x", session: session)[0].name == first)
        // Until it is out.
        pool.probeFailed(first, reason: "down")
        pool.discovered(first == "a" ? "b" : "a", version: "1", tags: nil, running: nil)
        #expect(pool.plan(model: "x", session: session)[0].name != first)
    }

    @Test("remembered sessions are bounded, the newest kept")
    func sessionBound() {
        let pool = Self.pool([a, b])
        let count = UInt64(3 * BackendPool.maxRememberedSessions)
        for session in 0..<count {
            pool.remember(session: session, servedBy: "b")
        }
        #expect(pool.rememberedSessions <= 2 * BackendPool.maxRememberedSessions)
        pool.started("b")
        #expect(pool.plan(model: "x", session: count - 1)[0].name == "b")
    }

    @Test("admin backends replace their own source only, keeping what is known of those that stay")
    func replace() {
        let pool = Self.pool([a])
        let c = Backend(name: "c", url: "http://127.0.0.1:3", source: .database)
        pool.replace(source: .database, with: [c])
        pool.discovered("c", version: "9", tags: Self.tags("z"), running: nil)
        var heavier = c
        heavier.weight = 5
        pool.replace(source: .database, with: [heavier])
        let status = pool.statuses().first { $0.backend.name == "c" }
        #expect(status?.backend.weight == 5)
        #expect(status?.version == "9")
        #expect(pool.plan(model: "z").map(\.name) == ["c"])
        pool.replace(source: .database, with: [])
        #expect(pool.backends.map(\.name) == ["a"])
    }

    /// The pool's cost per decision (lock, snapshot, policy), printed for BENCHMARKS.md.
    @Test("cost per routing decision, pool included")
    func cost() {
        let backends = (0..<4).map { Backend(name: "b\($0)", url: "http://127.0.0.1:\($0 + 1)", weight: 1 + $0 % 2) }
        let pool = Self.pool(backends)
        for (index, backend) in backends.enumerated() {
            let running = index == 3 ? Self.running("sim-chat:latest", until: Date() + 600) : nil
            pool.discovered(backend.name, version: "1", tags: Self.tags("sim-chat", "sim-think", "sim-embed"), running: running)
        }
        let rounds = 100_000
        var sink = 0
        let elapsed = ContinuousClock().measure {
            for round in 0..<rounds {
                sink &+= pool.plan(model: "sim-chat", session: round % 2 == 0 ? nil : UInt64(round)).count
            }
        }
        let perDecision = (Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9) / Double(rounds)
        print("backend pool: \(Int(perDecision)) ns per routing decision over 4 backends (\(sink % 2))")
        #expect(perDecision < 500_000)
    }

    @Test("the ticket frees the backend's in-flight count when the request ends, and names the backend")
    func ticketReleases() {
        let pool = Self.pool([a, b])
        let sink = CollectingSink()
        let ticket = RequestTicket(
            event: UsageEvent(
                requestID: "r", time: Date(), endpoint: "/api/chat", streamed: false, status: 0, promptTokens: 0,
                completionTokens: 0, cancelled: false, latency: .zero),
            sink: sink)
        pool.started("a")
        ticket.setBackend("a") { pool.finished("a") }
        #expect(pool.statuses()[0].inFlight == 1)
        ticket.finish(status: 200)
        #expect(pool.statuses()[0].inFlight == 0)
        #expect(sink.events.first?.backend == "a")
        // A backend set after the end is freed at once.
        pool.started("b")
        ticket.setBackend("b") { pool.finished("b") }
        #expect(pool.statuses()[1].inFlight == 0)
    }
}

final class CollectingSink: UsageSink {
    private let collected = Mutex<[UsageEvent]>([])
    var events: [UsageEvent] { collected.withLock { $0 } }
    func streamStarted() {}
    func requestFinished(_ event: UsageEvent, key: AuthenticatedKey?) { collected.withLock { $0.append(event) } }
}
