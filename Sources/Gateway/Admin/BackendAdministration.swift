import Foundation
import GatewayAPI
import GatewayStore
import Logging

/// Adding, changing and removing the backends defined at run time (not in `OLLAMA_URL`), for the
/// admin API and the console alike: each change is checked, stored (shared by every instance),
/// applied to this instance's pool at once and audited. See docs/backends.md.
struct BackendAdministration: Sendable {
    let pool: BackendPool
    let directory: BackendDirectory
    let repository: BackendRepository
    let audit: AuditLogRepository

    init(pool: BackendPool, store: GatewayStore) {
        self.pool = pool
        self.directory = BackendDirectory(repository: store.backends, pool: pool)
        self.repository = store.backends
        self.audit = store.auditLog
    }

    /// Adds a backend and probes it at once, so that it serves without waiting for the next round.
    /// Returns its name.
    func create(_ change: BackendChange, by actor: AuditActor, from address: String?, logger: Logger) async throws -> String {
        guard case .value(let rawName) = change.name else { throw AdminAPIError.invalid("'name' is required.") }
        let name = rawName.trimmingCharacters(in: .whitespaces)
        guard Backend.isValidName(name) else {
            throw AdminAPIError.invalid("'name' must be 1–64 letters, digits, '-', '_' or '.'.")
        }
        guard case .value = change.url else { throw AdminAPIError.invalid("'url' is required.") }
        if pool.backends.contains(where: { $0.name == name }) {
            throw AdminAPIError(.conflict, type: "conflict", "A backend named '\(name)' exists already.")
        }
        var backend = Backend(name: name, url: "", source: .database)
        try change.apply(to: &backend)
        try await repository.create(backend.record)
        try await directory.reload(logger: logger)
        try await record("backend.create", name, by: actor, from: address, details: change.auditDetails)
        if let target = pool.target(named: name) {
            await pool.probe(target, readTags: true, timeout: pool.tuning.probeTimeout, logger: logger)
        }
        return name
    }

    func update(_ name: String, _ change: BackendChange, by actor: AuditActor, from address: String?, logger: Logger) async throws {
        if case .value(let newName) = change.name, newName != name {
            throw AdminAPIError.invalid("A backend cannot be renamed: delete it and create it anew.")
        }
        var backend = try stored(name)
        try change.apply(to: &backend)
        guard try await repository.update(backend.record) != nil else {
            throw AdminAPIError.notFound("There is no backend named '\(name)'.")
        }
        try await directory.reload(logger: logger)
        try await record("backend.update", name, by: actor, from: address, details: change.auditDetails)
    }

    func delete(_ name: String, by actor: AuditActor, from address: String?, logger: Logger) async throws {
        _ = try stored(name)
        guard try await repository.delete(name) else {
            throw AdminAPIError.notFound("There is no backend named '\(name)'.")
        }
        try await directory.reload(logger: logger)
        try await record("backend.delete", name, by: actor, from: address)
    }

    /// A backend that may be changed here: one defined at run time, not in the configuration.
    func stored(_ name: String) throws -> Backend {
        guard let backend = pool.backends.first(where: { $0.name == name }) else {
            throw AdminAPIError.notFound("There is no backend named '\(name)'.")
        }
        guard backend.source == .database else {
            throw AdminAPIError(
                .conflict, type: "conflict",
                "The backend '\(name)' is defined by the configuration (OLLAMA_URL): change it there, or its URL with the 'ollama_url' setting.")
        }
        return backend
    }

    private func record(_ action: String, _ name: String, by actor: AuditActor, from address: String?, details: JSONValue? = nil)
        async throws
    {
        try await audit.insert(AuditEvent(
            actor: actor, action: action, target: name, details: details, clientAddress: address, occurredAt: Date()))
    }
}

/// A new backend, or a change to one (every field but `name` may be patched; `auth_header: null` removes it).
struct BackendChange: Decodable {
    var name: PatchField<String>
    var url: PatchField<String>
    var authHeader: PatchField<String>
    var priority: PatchField<Int>
    var weight: PatchField<Int>
    var enabled: PatchField<Bool>
    var models: PatchField<[String]>

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, url
        case authHeader = "auth_header"
        case priority, weight, enabled, models
    }

    init(
        name: PatchField<String> = .absent, url: PatchField<String> = .absent, authHeader: PatchField<String> = .absent,
        priority: PatchField<Int> = .absent, weight: PatchField<Int> = .absent, enabled: PatchField<Bool> = .absent,
        models: PatchField<[String]> = .absent
    ) {
        self.name = name
        self.url = url
        self.authHeader = authHeader
        self.priority = priority
        self.weight = weight
        self.enabled = enabled
        self.models = models
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodePatch(String.self, forKey: .name)
        url = try container.decodePatch(String.self, forKey: .url)
        authHeader = try container.decodePatch(String.self, forKey: .authHeader)
        priority = try container.decodePatch(Int.self, forKey: .priority)
        weight = try container.decodePatch(Int.self, forKey: .weight)
        enabled = try container.decodePatch(Bool.self, forKey: .enabled)
        models = try container.decodePatch([String].self, forKey: .models)
    }

    /// Applies the change to `backend`, checking every value.
    func apply(to backend: inout Backend) throws(AdminAPIError) {
        switch url {
        case .absent: break
        case .null: throw .invalid("'url' must not be null.")
        case .value(let text):
            switch Backend.validatedURL(text) {
            case .success(let valid): backend.url = valid
            case .failure(let error): throw .invalid("'url' \(error.description).")
            }
        }
        switch authHeader {
        case .absent: break
        case .null: backend.authHeader = nil
        case .value(let line):
            guard let header = BackendHeader(line: line) else {
                throw .invalid("'auth_header' must look like 'Name: value', e.g. 'Authorization: Bearer …'.")
            }
            backend.authHeader = header
        }
        if let value = try Self.ranged(priority, "priority", Backend.priorityRange, note: " (lower is preferred)") {
            backend.priority = value
        }
        if let value = try Self.ranged(weight, "weight", Backend.weightRange) { backend.weight = value }
        switch enabled {
        case .absent: break
        case .null: throw .invalid("'enabled' must not be null.")
        case .value(let value): backend.enabled = value
        }
        switch models {
        case .absent: break
        case .null: backend.models = []
        case .value(let names):
            let cleaned = names.map { $0.trimmingCharacters(in: .whitespaces) }
            guard cleaned.count <= 1000, cleaned.allSatisfy({ !$0.isEmpty && $0.utf8.count <= 256 }) else {
                throw .invalid("'models' must be at most 1000 non-empty model names.")
            }
            backend.models = cleaned
        }
    }

    /// A number field's new value, if it was given, checked against its range.
    static func ranged(
        _ field: PatchField<Int>, _ name: String, _ range: ClosedRange<Int>, note: String = ""
    ) throws(AdminAPIError) -> Int? {
        switch field {
        case .absent: return nil
        case .null: throw .invalid("'\(name)' must not be null.")
        case .value(let value):
            guard range.contains(value) else {
                throw .invalid("'\(name)' must be from \(range.lowerBound) to \(range.upperBound)\(note).")
            }
            return value
        }
    }

    /// What the audit log says of the change (the header's value never).
    var auditDetails: JSONValue {
        var details: [String: JSONValue] = [:]
        if case .value(let url) = url { details["url"] = .string(url) }
        switch authHeader {
        case .absent: break
        case .null: details["auth_header"] = .null
        case .value(let line): details["auth_header"] = .string(BackendHeader(line: line)?.name ?? "")
        }
        if case .value(let value) = priority { details["priority"] = .int(value) }
        if case .value(let value) = weight { details["weight"] = .int(value) }
        if case .value(let value) = enabled { details["enabled"] = .bool(value) }
        switch models {
        case .absent: break
        case .null: details["models"] = .array([])
        case .value(let names): details["models"] = .array(names.map(JSONValue.string))
        }
        return .object(details)
    }
}
