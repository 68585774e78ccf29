import Foundation
import Synchronization

/// The simulator's mutable state: per-model faults changed at runtime, and the models "loaded" by requests.
final class SimulatorState: Sendable {
    struct LoadedModel: Sendable {
        var model: SimulatedModel
        var expiresAt: Date
        var contextLength: Int
        /// Until when the model is still loading (requests wait for it, as Ollama's do).
        var readyAt: ContinuousClock.Instant = .now
    }

    private let configuredFaults: [String: SimulatedFault]
    private let faults: Mutex<[String: SimulatedFault]>
    private let loaded = Mutex<[String: LoadedModel]>([:])
    /// How long loading a model that is not in memory takes (zero: at once).
    let loadTime: Duration
    /// How many models fit in memory at once; loading one more unloads the one whose keep-alive ends
    /// first (nil: no limit).
    let maxLoaded: Int?

    init(faults: [String: SimulatedFault], loadTime: Duration = .zero, maxLoaded: Int? = nil) {
        self.loadTime = loadTime
        self.maxLoaded = maxLoaded
        let keyed = Dictionary(faults.map { (ModelName.key($0.key), $0.value) }, uniquingKeysWith: { _, last in last })
        self.configuredFaults = keyed
        self.faults = Mutex(keyed)
    }

    func fault(forModel name: String) -> SimulatedFault? {
        let key = ModelName.key(name)
        return faults.withLock { $0[key] }
    }

    func setFault(_ fault: SimulatedFault?, forModel name: String) {
        let key = ModelName.key(name)
        faults.withLock { $0[key] = fault }
    }

    var currentFaults: [String: SimulatedFault] {
        faults.withLock { $0 }
    }

    /// Back to the configured faults, nothing loaded.
    func reset() {
        faults.withLock { $0 = configuredFaults }
        loaded.withLock { $0 = [:] }
    }

    /// Marks a model loaded until `keepAlive` runs out; returns the load duration to report
    /// (a "cold" load the first time, a short one when it was already in memory).
    func load(_ model: SimulatedModel, keepAlive: KeepAlive, contextLength: Int) -> Int64 {
        let now = Date()
        let expiresAt: Date
        switch keepAlive {
        case .forever: expiresAt = now.addingTimeInterval(9_223_372_036)  // Go's MaxInt64 nanoseconds
        case .duration(let duration): expiresAt = now.addingTimeInterval(Self.seconds(duration))
        }
        let key = ModelName.key(model.name)
        let loadTime = loadTime
        let maxLoaded = maxLoaded
        return loaded.withLock { loaded in
            let previous = loaded[key].flatMap { $0.expiresAt > now ? $0 : nil }
            if previous == nil, let maxLoaded {
                // Memory is full: the model whose keep-alive ends first makes room, as Ollama evicts.
                loaded = loaded.filter { $0.value.expiresAt > now }
                while loaded.count >= max(maxLoaded, 1),
                    let evicted = loaded.min(by: { $0.value.expiresAt < $1.value.expiresAt })?.key
                {
                    loaded.removeValue(forKey: evicted)
                }
            }
            loaded[key] = LoadedModel(
                model: model, expiresAt: expiresAt, contextLength: contextLength,
                readyAt: previous?.readyAt ?? .now + loadTime)
            guard previous == nil else { return 40_000 }
            return loadTime > .zero ? Int64(loadTime.components.seconds) * 1_000_000_000 + loadTime.components.attoseconds / 1_000_000_000 : 1_250_000
        }
    }

    /// How long a request to `model` still waits for its load to finish.
    func remainingLoad(_ model: SimulatedModel) -> Duration {
        let key = ModelName.key(model.name)
        let readyAt = loaded.withLock { $0[key]?.readyAt } ?? .now
        return max(.zero, readyAt - .now)
    }

    func unload(_ model: SimulatedModel) {
        let key = ModelName.key(model.name)
        _ = loaded.withLock { $0.removeValue(forKey: key) }
    }

    /// Loaded models, the longest remaining first (as `/api/ps` orders them).
    var running: [LoadedModel] {
        let now = Date()
        return loaded.withLock { loaded in
            loaded = loaded.filter { $0.value.expiresAt > now }
            return loaded.values.sorted { $0.expiresAt > $1.expiresAt }
        }
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        let (seconds, attoseconds) = duration.components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
