import Synchronization

/// Where the admin's per-model settings persist.
public protocol ModelSettingsStore: Sendable {
    func loadModelSettings() async throws -> [String: ModelSettings]
    func saveModelSettings(_ settings: ModelSettings, forModel model: String) async throws
}

/// Settings kept in memory only: for tests, and for a gateway run without storage.
public final class InMemoryModelSettingsStore: ModelSettingsStore {
    private let settings: Mutex<[String: ModelSettings]>

    public init(_ settings: [String: ModelSettings] = [:]) {
        self.settings = Mutex(settings)
    }

    public func loadModelSettings() async throws -> [String: ModelSettings] {
        settings.withLock { $0 }
    }

    public func saveModelSettings(_ settings: ModelSettings, forModel model: String) async throws {
        self.settings.withLock { $0[model] = settings }
    }
}
