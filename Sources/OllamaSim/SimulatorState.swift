import Foundation
import Synchronization

/// The simulator's mutable state: per-model faults changed at runtime, and the models "loaded" by requests.
final class SimulatorState: Sendable {
    struct LoadedModel: Sendable {
        var model: SimulatedModel
        var expiresAt: Date
        var contextLength: Int
    }

    private let configuredFaults: [String: SimulatedFault]
    private let faults: Mutex<[String: SimulatedFault]>
    private let loaded = Mutex<[String: LoadedModel]>([:])

    init(faults: [String: SimulatedFault]) {
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
        return loaded.withLock { loaded in
            let wasLoaded = loaded[key].map { $0.expiresAt > now } ?? false
            loaded[key] = LoadedModel(model: model, expiresAt: expiresAt, contextLength: contextLength)
            return wasLoaded ? 40_000 : 1_250_000
        }
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
