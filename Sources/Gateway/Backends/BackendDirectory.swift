import Foundation
import GatewayStore
import Logging

/// The backends defined from the admin API, between the database (shared by every instance) and the
/// pool: read at start-up, after each change made here, and every probe round, so that a change made
/// on another instance reaches this one within `BackendTuning.probeInterval`.
struct BackendDirectory: Sendable {
    let repository: BackendRepository
    let pool: BackendPool

    /// Reads the stored backends into the pool. A stored backend whose name is also a configuration
    /// backend's is skipped (the configuration wins; the admin API refuses such names).
    func reload(logger: Logger) async throws {
        let configured = Set(pool.backends.filter { $0.source == .configuration }.map(\.name))
        var backends: [Backend] = []
        for record in try await repository.list() {
            guard !configured.contains(record.name) else {
                logger.warning("stored backend ignored: its name is a configured backend's", metadata: ["backend": "\(record.name)"])
                continue
            }
            backends.append(Backend(record: record))
        }
        pool.replace(source: .database, with: backends)
    }
}

extension Backend {
    init(record: BackendRecord) {
        var header: BackendHeader?
        if let name = record.authHeaderName, let value = record.authHeaderValue { header = BackendHeader(name: name, value: value) }
        self.init(
            name: record.name, url: record.url, authHeader: header, priority: record.priority, weight: record.weight,
            enabled: record.enabled, models: record.models, source: .database)
    }

    var record: BackendRecord {
        BackendRecord(
            name: name, url: url, authHeaderName: authHeader?.name, authHeaderValue: authHeader?.value, priority: priority,
            weight: weight, enabled: enabled, models: models)
    }
}
