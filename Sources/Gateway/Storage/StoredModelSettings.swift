import GatewayStore

/// The admin's per-model settings, persisted in the gateway's database.
public struct StoredModelSettings: ModelSettingsStore {
    let repository: ModelSettingsRepository

    public init(repository: ModelSettingsRepository) {
        self.repository = repository
    }

    public func loadModelSettings() async throws -> [String: ModelSettings] {
        var result: [String: ModelSettings] = [:]
        for record in try await repository.list() {
            result[record.model] = ModelSettings(
                displayName: record.displayName, aliases: record.aliases, enabled: record.enabled,
                overrides: record.parameters)
        }
        return result
    }

    public func saveModelSettings(_ settings: ModelSettings, forModel model: String) async throws {
        let record = ModelSettingsRecord(
            model: model, displayName: settings.displayName, aliases: settings.aliases, enabled: settings.enabled,
            parameters: settings.overrides)
        do {
            _ = try await repository.upsert(record)
        } catch StoreError.conflict(let message) {
            throw GatewayError.invalid(message, param: "aliases")
        }
    }
}
