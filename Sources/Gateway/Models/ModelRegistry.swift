import GatewayAPI
import Logging
import Synchronization

/// The models Ollama has, what they can do, and the admin's settings for them: the gateway's
/// `ModelDirectory`. Discovered at start-up, refreshed periodically and on demand, so a model pulled
/// into Ollama is callable without anyone clicking "Refresh".
public final class ModelRegistry: ModelDirectory {
    struct State {
        var models: [String: ModelInfo] = [:]
        var settings: [String: ModelSettings] = [:]
        /// Every name a client may use (Ollama's, without `:latest`, display names, aliases) → Ollama's name.
        var index: [String: String] = [:]
        /// `/api/show` answers by digest: a model only changes when its digest does.
        var shown: [String: OllamaShowResponse] = [:]
        var lastRefresh: ContinuousClock.Instant?
        var lastRefreshFailed = false
        /// Whether any refresh has succeeded yet.
        var loaded = false
    }

    let upstream: OllamaClient
    let store: any ModelSettingsStore
    let logger: Logger
    /// How soon an unknown name may trigger another refresh.
    let onDemandInterval: Duration
    private let state = Mutex(State())

    public init(upstream: OllamaClient, store: any ModelSettingsStore, logger: Logger, onDemandInterval: Duration = .seconds(5)) {
        self.upstream = upstream
        self.store = store
        self.logger = logger
        self.onDemandInterval = onDemandInterval
    }

    // MARK: - Discovery

    /// Reads the models from Ollama (and the settings from the store) and rebuilds the index.
    public func refresh() async throws {
        do {
            let settings = try await store.loadModelSettings()
            let tags = try await upstream.tags()
            let known = state.withLock { $0.shown }
            var shown: [String: OllamaShowResponse] = [:]
            try await withThrowingTaskGroup(of: (String, OllamaShowResponse?).self) { group in
                for model in tags.models {
                    let key = model.digest ?? model.name
                    if let cached = known[key] {
                        shown[key] = cached
                        continue
                    }
                    group.addTask {
                        // A model /api/show cannot describe is still listed, with what /api/tags says.
                        (key, try? await self.upstream.show(model.name))
                    }
                }
                for try await (key, response) in group {
                    if let response { shown[key] = response }
                }
            }
            var models: [String: ModelInfo] = [:]
            for summary in tags.models {
                models[summary.name] = ModelInfo(summary: summary, show: shown[summary.digest ?? summary.name])
            }
            // A model Ollama no longer has keeps its settings, shown as unavailable.
            for name in settings.keys where models[name] == nil {
                models[name] = ModelInfo(name: name, available: false)
            }
            state.withLock { state in
                state.models = models
                state.settings = settings
                state.shown = shown
                state.index = Self.index(models: models, settings: settings)
                state.lastRefresh = .now
                state.lastRefreshFailed = false
                state.loaded = true
            }
            logger.debug("models refreshed", metadata: ["models.count": "\(tags.models.count)"])
        } catch {
            state.withLock {
                $0.lastRefresh = .now
                $0.lastRefreshFailed = true
            }
            throw error
        }
    }

    static func index(models: [String: ModelInfo], settings: [String: ModelSettings]) -> [String: String] {
        var index: [String: String] = [:]
        for name in models.keys.sorted() {
            index[name] = name
            if name.hasSuffix(":latest") { index[ModelInfo.shorthand(name), default: name] = name }
        }
        // Names the admin chose win over Ollama's own shorthand.
        for (name, entry) in settings.sorted(by: { $0.key < $1.key }) {
            for extra in entry.extraNames { index[extra] = name }
        }
        return index
    }

    // MARK: - Resolution

    public func resolve(_ requestedName: String) async throws(GatewayError) -> ResolvedModel {
        guard !requestedName.isEmpty else { throw .invalid("'model' must not be empty.", param: "model") }
        // Requests that arrive before the first list was read wait for it rather than get a 404.
        await loadIfNeverLoaded()
        if let resolved = try lookup(requestedName) { return resolved }
        // Perhaps the model was pulled since the last refresh.
        if refreshAllowed() {
            do {
                try await refresh()
            } catch {
                logger.warning("model refresh failed", metadata: ["error": "\(error)"])
            }
            if let resolved = try lookup(requestedName) { return resolved }
        }
        // Without a successful look at Ollama, let Ollama itself answer (a 502 says more than a 404).
        if state.withLock({ $0.lastRefreshFailed }) {
            return ResolvedModel(requestedName: requestedName, upstreamName: requestedName)
        }
        throw .modelNotFound(requestedName)
    }

    private func lookup(_ requestedName: String) throws(GatewayError) -> ResolvedModel? {
        let found: (ModelInfo, ModelSettings)? = state.withLock { state in
            guard let name = state.index[requestedName] ?? state.index[ModelInfo.normalized(requestedName)],
                let info = state.models[name]
            else { return nil }
            return (info, state.settings[name] ?? ModelSettings())
        }
        guard let (info, settings) = found else { return nil }
        guard settings.enabled, info.available else { throw .modelNotFound(requestedName) }
        let overrides: ParameterLayer
        do {
            overrides = try ParameterLayer(ollamaStyle: settings.overrides)
        } catch {
            // Overrides are validated when saved; one that no longer parses is the admin's to fix.
            logger.error("invalid overrides ignored", metadata: ["model": "\(info.name)", "error": "\(error.message)"])
            overrides = ParameterLayer()
        }
        return ResolvedModel(
            requestedName: requestedName, upstreamName: info.name, overrides: overrides,
            capabilities: info.capabilities.isEmpty ? nil : info.capabilities, contextLength: info.contextLength)
    }

    private func refreshAllowed() -> Bool {
        state.withLock { state in
            if let last = state.lastRefresh, ContinuousClock.now - last < onDemandInterval { return false }
            state.lastRefresh = .now
            return true
        }
    }

    // MARK: - Listing and settings

    /// A listing asked for before any refresh succeeded (the start-up one may still run, or may
    /// have failed) reads the list itself rather than come back empty.
    private func loadIfNeverLoaded() async {
        guard !state.withLock({ $0.loaded }) else { return }
        do {
            try await refresh()
        } catch {
            logger.debug("could not read the models from Ollama", metadata: ["error": "\(error)"])
        }
    }

    /// The models for a client's listing: a 503 when Ollama does not answer, where an empty or stale
    /// list would read as "this gateway has no such models".
    public func listing() async throws(GatewayError) -> [ModelEntry] {
        // A list read once may be stale: try Ollama again (at most every few seconds). A list never
        // read is read by `entries()`.
        if state.withLock({ $0.loaded && $0.lastRefreshFailed }), refreshAllowed() {
            try? await refresh()
        }
        let entries = await entries()
        if state.withLock({ $0.lastRefreshFailed }) {
            throw GatewayError(
                .serviceUnavailable, "Ollama does not answer, so the gateway cannot list its models; try again shortly.",
                code: "upstream_unreachable")
        }
        return entries
    }

    /// Every model with its settings, Ollama's newest first.
    public func entries() async -> [ModelEntry] {
        await loadIfNeverLoaded()
        return state.withLock { state in
            state.models.values
                .sorted { ($0.modifiedAt ?? 0, $0.name) > ($1.modifiedAt ?? 0, $1.name) }
                .map { ModelEntry(info: $0, settings: state.settings[$0.name] ?? ModelSettings()) }
        }
    }

    /// The entry a public name designates, if that model is enabled and available.
    public func callableEntry(named name: String) async -> ModelEntry? {
        await loadIfNeverLoaded()
        return state.withLock { state in
            guard let model = state.index[name] ?? state.index[ModelInfo.normalized(name)], let info = state.models[model]
            else { return nil }
            let entry = ModelEntry(info: info, settings: state.settings[model] ?? ModelSettings())
            return entry.isCallable ? entry : nil
        }
    }

    /// Saves the admin's settings for a model after checking them; returns warnings (unknown option names).
    @discardableResult
    public func updateSettings(_ settings: ModelSettings, forModel model: String) async throws -> [String] {
        let warnings = try ModelSettings.validate(overrides: settings.overrides)
        try state.withLock { state throws(GatewayError) in
            for name in settings.extraNames {
                if let owner = state.index[name], owner != model, state.settings[owner]?.extraNames.contains(name) == true || owner == name {
                    throw .invalid("The name '\(name)' already belongs to the model '\(owner)'.", param: "aliases")
                }
            }
        }
        try await store.saveModelSettings(settings, forModel: model)
        state.withLock { state in
            state.settings[model] = settings
            if state.models[model] == nil { state.models[model] = ModelInfo(name: model, available: false) }
            state.index = Self.index(models: state.models, settings: state.settings)
        }
        return warnings
    }
}
