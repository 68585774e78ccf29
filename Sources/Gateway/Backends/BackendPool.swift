import AsyncHTTPClient
import Foundation
import GatewayAPI
import Logging
import Synchronization

/// The Ollama servers behind the gateway and what it knows of each: their models, what is loaded and
/// until when, their health, their failures, and the requests in flight there. Routes ask it where a
/// request goes (`plan`); the discovery service and the requests themselves keep it up to date.
///
/// One `Mutex` guards it all: every operation is a few dictionary reads or writes, and a routing
/// decision must see one consistent picture.
public final class BackendPool: Sendable {
    /// What the pool knows of one backend.
    struct Member: Sendable {
        var backend: Backend
        var client: OllamaClient
        let nameHash: UInt64
        /// Ollama's names (normalized: `x:latest`) → their listing; nil until the list was read once.
        var models: [String: OllamaModelSummary]?
        /// What `/api/ps` said, and when each model stops being loaded.
        var running: [OllamaRunningModel] = []
        var loadedUntil: [String: Date] = [:]
        var version: String?
        /// The last probe's verdict; nil before the first.
        var healthy: Bool?
        var lastError: String?
        var lastProbe: Date?
        /// Requests that failed in a row; reset by a request it served.
        var consecutiveFailures = 0
        /// Out after repeated failures until then; afterwards the next request tries it again (and one
        /// more failure takes it out again at once).
        var coolingUntil: ContinuousClock.Instant?
        var inFlight = 0
        // Figures since start, for the admin API.
        var requests = 0
        var failures = 0

        init(backend: Backend, client: OllamaClient) {
            self.backend = backend
            self.client = client
            self.nameHash = StableHash.mix(StableHash.of(backend.name))
        }

        func isCooling(at now: ContinuousClock.Instant) -> Bool {
            coolingUntil.map { now < $0 } ?? false
        }

        func isLoaded(_ model: String, at now: Date) -> Bool {
            loadedUntil[model].map { $0 > now } ?? false
        }
    }

    struct State: Sendable {
        var members: [Member] = []
        /// Session → the backend that served it last (by name), most recent last; bounded.
        var sessions: [UInt64: String] = [:]
        var sessionOrder: [UInt64] = []
    }

    /// Where a request goes: the backend's name and a client bound to it.
    public struct Target: Sendable {
        public let name: String
        let client: OllamaClient
    }

    let policy: RoutingPolicy
    let tuning: BackendTuning
    private let makeClient: @Sendable (Backend) -> OllamaClient
    /// The URL a backend is at now: the first configuration backend follows the admin API's `ollama_url`.
    private let currentURL: @Sendable (Backend) -> String
    private let state: Mutex<State>

    static let maxRememberedSessions = 10_000

    init(
        backends: [Backend], tuning: BackendTuning = BackendTuning(),
        currentURL: @escaping @Sendable (Backend) -> String = { $0.url },
        makeClient: @escaping @Sendable (Backend) -> OllamaClient
    ) {
        self.policy = RoutingPolicy(maxAttempts: tuning.maxAttempts)
        self.tuning = tuning
        self.makeClient = makeClient
        self.currentURL = currentURL
        self.state = Mutex(State(members: backends.map { Member(backend: $0, client: makeClient($0)) }))
    }

    // MARK: - Definitions

    public var backends: [Backend] { statuses().map(\.backend) }

    /// Whether there is more than one backend to route between (with one, requests go to it whatever
    /// its state: its own error says more than "no backend available").
    var isSeveral: Bool { state.withLock { $0.members.count > 1 } }

    /// Replaces the backends of one source with `backends`, keeping what is known of those that stay
    /// (by name, when their URL did not change).
    func replace(source: Backend.Source, with backends: [Backend]) {
        state.withLock { state in
            var kept: [String: Member] = [:]
            for member in state.members { kept[member.backend.name] = member }
            var members = state.members.filter { $0.backend.source != source }
            for backend in backends {
                if var member = kept[backend.name], member.backend.url == backend.url, member.backend.source == source {
                    if member.backend.authHeader != backend.authHeader { member.client = makeClient(backend) }
                    member.backend = backend
                    members.append(member)
                } else {
                    members.append(Member(backend: backend, client: makeClient(backend)))
                }
            }
            state.members = members
        }
    }

    /// The client of a backend by name, for the routes that address one backend.
    func target(named name: String) -> Target? {
        state.withLock { state in
            state.members.first { $0.backend.name == name }.map { Target(name: $0.backend.name, client: $0.client) }
        }
    }

    /// Every enabled backend, for discovery and for management requests that apply to all.
    func enabledTargets() -> [Target] {
        state.withLock { state in
            state.members.filter(\.backend.enabled).map { Target(name: $0.backend.name, client: $0.client) }
        }
    }

    /// Every backend, disabled ones included (discovery keeps their state for the admin API).
    func allTargets() -> [Target] {
        state.withLock { state in state.members.map { Target(name: $0.backend.name, client: $0.client) } }
    }

    // MARK: - Routing

    /// The backends to try for `model` (an Ollama name), best first; empty when none can serve it.
    public func plan(model: String, session: UInt64? = nil) -> [Target] {
        // One backend, as most run: it gets every request it may serve, whatever its state (nil: several).
        let single: [Target]? = state.withLock { state in
            guard state.members.count == 1 else { return nil }
            let member = state.members[0]
            guard member.backend.enabled, member.backend.models.isEmpty || member.backend.allows(ModelInfo.normalized(model))
            else { return [] }
            return [Target(name: member.backend.name, client: member.client)]
        }
        if let single { return single }
        let normalized = ModelInfo.normalized(model)
        let now = ContinuousClock.now
        let wallNow = Date()
        return state.withLock { state in
            let single = state.members.count == 1
            var candidates: [RoutingCandidate] = []
            candidates.reserveCapacity(state.members.count)
            var remembered: Int?
            let rememberedName = session.flatMap { state.sessions[$0] }
            for (index, member) in state.members.enumerated() {
                guard member.backend.enabled, member.backend.allows(normalized) else { continue }
                candidates.append(
                    RoutingCandidate(
                        index: index, priority: member.backend.priority, weight: member.backend.weight,
                        available: single || !member.isCooling(at: now), healthy: member.healthy != false,
                        hasModel: member.models.map { $0[normalized] != nil },
                        loaded: tuning.preferLoaded && member.isLoaded(normalized, at: wallNow),
                        inFlight: member.inFlight, nameHash: member.nameHash))
                if member.backend.name == rememberedName { remembered = index }
            }
            let order = policy.order(candidates, session: session, remembered: remembered, random: UInt64.random(in: 0...UInt64.max))
            return order.map { Target(name: state.members[$0].backend.name, client: state.members[$0].client) }
        }
    }

    /// Remembers which backend served a session, so that its next request goes there while it can.
    func remember(session: UInt64, servedBy name: String) {
        state.withLock { state in
            guard state.sessions.updateValue(name, forKey: session) == nil else { return }
            state.sessionOrder.append(session)
            // Beyond twice the bound, the oldest sessions are forgotten down to the bound (amortized O(1)).
            if state.sessionOrder.count > 2 * Self.maxRememberedSessions {
                let drop = state.sessionOrder.count - Self.maxRememberedSessions
                for old in state.sessionOrder[..<drop] { state.sessions.removeValue(forKey: old) }
                state.sessionOrder.removeFirst(drop)
            }
        }
    }

    /// Model (normalized) → the enabled backends whose lists have it, by name.
    func servingBackends() -> [String: [String]] {
        state.withLock { state in
            var serving: [String: [String]] = [:]
            for member in state.members where member.backend.enabled {
                for model in (member.models ?? [:]).keys where member.backend.allows(model) {
                    serving[model, default: []].append(member.backend.name)
                }
            }
            return serving
        }
    }

    var rememberedSessions: Int { state.withLock { $0.sessions.count } }

    // MARK: - Requests' outcomes

    /// A request is under way there (counted until `finished`).
    func started(_ name: String) {
        update(name) {
            $0.inFlight += 1
            $0.requests += 1
        }
    }

    func finished(_ name: String) {
        update(name) { $0.inFlight = max(0, $0.inFlight - 1) }
    }

    /// The backend answered a request: whatever failures came before are forgotten, and the model
    /// that answered is loaded there now (until the next `/api/ps` says otherwise, or Ollama's default
    /// keep-alive of five minutes passes), which routing prefers when there is a choice.
    func succeeded(_ name: String, model: String? = nil) {
        state.withLock { state in
            guard let index = state.members.firstIndex(where: { $0.backend.name == name }) else { return }
            state.members[index].consecutiveFailures = 0
            state.members[index].coolingUntil = nil
            guard let model, state.members.count > 1 else { return }
            let now = Date()
            let normalized = ModelInfo.normalized(model)
            if !state.members[index].isLoaded(normalized, at: now) {
                state.members[index].loadedUntil[normalized] = now.addingTimeInterval(300)
            }
        }
    }

    /// The backend failed a request (unreachable, 5xx, busy, timeout). After `failureThreshold` in a
    /// row it cools down: no request goes there until the cool-down ends. Its probes answering does
    /// not end it: an Ollama whose runner fails still answers `/api/version`.
    func failed(_ name: String, reason: String) {
        update(name) { member in
            member.consecutiveFailures += 1
            member.failures += 1
            member.lastError = reason
            if member.consecutiveFailures >= tuning.failureThreshold {
                member.coolingUntil = .now + tuning.coolDown
            }
        }
    }

    // MARK: - Discovery

    /// A probe's findings: the backend answers, with these models and these loaded.
    func discovered(_ name: String, version: String?, tags: OllamaTagsResponse?, running: OllamaPsResponse?) {
        let now = Date()
        update(name) { member in
            member.healthy = true
            member.lastProbe = now
            if let version { member.version = version }
            if let tags {
                var models: [String: OllamaModelSummary] = [:]
                for summary in tags.models { models[ModelInfo.normalized(summary.name)] = summary }
                member.models = models
            }
            if let running {
                member.running = running.models
                member.loadedUntil = Self.loadedUntil(running.models, now: now)
            }
        }
    }

    /// A probe failed: the backend is out until one succeeds.
    func probeFailed(_ name: String, reason: String) {
        update(name) { member in
            member.healthy = false
            member.lastProbe = Date()
            member.lastError = reason
        }
    }

    static func loadedUntil(_ running: [OllamaRunningModel], now: Date) -> [String: Date] {
        var loaded: [String: Date] = [:]
        for model in running {
            // No or unreadable expiry: loaded for now (the next probe will tell).
            let until = model.expiresAt.flatMap(Self.parseTime) ?? now.addingTimeInterval(60)
            loaded[ModelInfo.normalized(model.name)] = until
        }
        return loaded
    }

    /// Ollama's RFC 3339 times carry nanoseconds and an offset; Foundation's parser wants at most
    /// milliseconds, so the fraction is cut.
    static func parseTime(_ text: String) -> Date? {
        var text = text
        if let dot = text.firstIndex(of: ".") {
            let fractionEnd = text[dot...].dropFirst().firstIndex { !$0.isNumber } ?? text.endIndex
            text.removeSubrange(dot..<fractionEnd)
        }
        return try? Date(text, strategy: .iso8601)
    }

    private func update(_ name: String, _ change: (inout Member) -> Void) {
        state.withLock { state in
            guard let index = state.members.firstIndex(where: { $0.backend.name == name }) else { return }
            change(&state.members[index])
        }
    }

    // MARK: - Reading

    /// What the pool knows of each backend now, for `/health/ready`, the admin API and listings.
    public func statuses() -> [BackendStatus] {
        let now = ContinuousClock.now
        let wallNow = Date()
        return state.withLock { state in
            state.members.map { member in
                var backend = member.backend
                backend.url = currentURL(backend)
                return BackendStatus(
                    backend: backend, healthy: member.healthy, coolingDown: member.isCooling(at: now),
                    lastError: member.lastError, version: member.version,
                    models: member.models.map { $0.values.sorted { $0.name < $1.name } },
                    running: member.running.filter { member.isLoaded(ModelInfo.normalized($0.name), at: wallNow) },
                    inFlight: member.inFlight, requests: member.requests, failures: member.failures)
            }
        }
    }
}

/// One backend as the pool sees it now.
public struct BackendStatus: Sendable {
    public var backend: Backend
    /// The last probe's verdict; nil before the first.
    public var healthy: Bool?
    public var coolingDown: Bool
    public var lastError: String?
    public var version: String?
    /// Its models (nil until read), and those loaded now.
    public var models: [OllamaModelSummary]?
    public var running: [OllamaRunningModel]
    public var inFlight: Int
    public var requests: Int
    public var failures: Int

    /// `ok`, `unavailable`, `cooling_down`, `disabled` or `unknown` (not probed yet).
    public var state: String {
        if !backend.enabled { return "disabled" }
        if coolingDown { return "cooling_down" }
        switch healthy {
        case true?: return "ok"
        case false?: return "unavailable"
        case nil: return "unknown"
        }
    }
}

/// The pool of the backends the configuration lists (one, at `ollamaURL`, when it lists none). The
/// first follows `RuntimeSettings.ollamaURL`, which the admin API's `ollama_url` changes, as the only
/// Ollama did before there could be several.
func makeBackendPool(
    configuration: GatewayConfiguration, http: HTTPClient, runtime: RuntimeSettings, tracer: OTLPTracer?, logger: Logger
) -> BackendPool {
    let backends =
        configuration.backends.isEmpty
        ? [
            Backend(
                name: "ollama", url: configuration.ollamaURL,
                authHeader: configuration.ollamaAuthHeader.map { BackendHeader(name: $0.name, value: $0.value) })
        ] : configuration.backends
    // The first backend is the one `ollama_url` moves, when it is the configuration's Ollama URL.
    let primary = backends[0].url == configuration.ollamaURL ? backends[0].name : nil
    let follows: @Sendable (Backend) -> Bool = { $0.source == .configuration && $0.name == primary }
    return BackendPool(
        backends: backends, tuning: configuration.backendTuning,
        currentURL: { follows($0) ? runtime.ollamaURL : $0.url },
        makeClient: { backend in
            OllamaClient(
                http: http, runtime: runtime, authHeader: backend.authHeader.map { ($0.name, $0.value) },
                logger: logger.with(backend: backend.name), tracer: tracer,
                backendURL: follows(backend) ? nil : backend.url)
        })
}

extension Logger {
    func with(backend name: String) -> Logger {
        var logger = self
        logger[metadataKey: "backend"] = "\(name)"
        return logger
    }
}
