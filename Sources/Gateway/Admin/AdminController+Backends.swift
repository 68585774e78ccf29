import Foundation
import GatewayAPI
import GatewayStore
import Hummingbird

/// `/admin/api/backends`: the Ollama servers behind the gateway, with what is known of each; those
/// defined here (not in `OLLAMA_URL`) can be added, changed and removed, and the change applies at once
/// (on other instances within one probe interval). See docs/backends.md.
extension AdminController {
    struct BackendView: Encodable {
        var status: BackendStatus

        enum CodingKeys: String, CodingKey {
            case name, url, source, priority, weight, enabled, models
            case authHeader = "auth_header"
            case state
            case lastError = "last_error"
            case version
            case inFlight = "in_flight"
            case requests, failures
            case availableModels = "available_models"
            case loaded
        }

        struct Loaded: Encodable {
            var model: String
            var expiresAt: String?

            enum CodingKeys: String, CodingKey {
                case model
                case expiresAt = "expires_at"
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            let backend = status.backend
            try container.encode(backend.name, forKey: .name)
            try container.encode(backend.url, forKey: .url)
            try container.encode(backend.source.rawValue, forKey: .source)
            try container.encode(backend.priority, forKey: .priority)
            try container.encode(backend.weight, forKey: .weight)
            try container.encode(backend.enabled, forKey: .enabled)
            try container.encode(backend.models, forKey: .models)
            // The header's value is a secret: only its name is shown.
            try container.encode(backend.authHeader?.name, forKey: .authHeader)
            try container.encode(status.state, forKey: .state)
            try container.encode(status.lastError, forKey: .lastError)
            try container.encode(status.version, forKey: .version)
            try container.encode(status.inFlight, forKey: .inFlight)
            try container.encode(status.requests, forKey: .requests)
            try container.encode(status.failures, forKey: .failures)
            try container.encode(status.models?.map(\.name), forKey: .availableModels)
            try container.encode(status.running.map { Loaded(model: $0.name, expiresAt: $0.expiresAt) }, forKey: .loaded)
        }
    }

    struct BackendList: Encodable {
        var backends: [BackendView]
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

    func backendView(_ name: String) throws -> BackendView {
        guard let status = backendPool.statuses().first(where: { $0.backend.name == name }) else {
            throw AdminAPIError.notFound("There is no backend named '\(name)'.")
        }
        return BackendView(status: status)
    }

    @Sendable func listBackends(_ request: Request, context: Context) async throws -> Response {
        AdminJSON.response(BackendList(backends: backendPool.statuses().map(BackendView.init)))
    }

    @Sendable func getBackend(_ request: Request, context: Context) async throws -> Response {
        AdminJSON.response(try backendView(try context.parameters.require("name")))
    }

    @Sendable func createBackend(_ request: Request, context: Context) async throws -> Response {
        let change = try await AdminJSON.decode(
            BackendChange.self, from: request, fields: Set(BackendChange.CodingKeys.allCases.map(\.rawValue)))
        guard case .value(let rawName) = change.name else { throw AdminAPIError.invalid("'name' is required.") }
        let name = rawName.trimmingCharacters(in: .whitespaces)
        guard Backend.isValidName(name) else {
            throw AdminAPIError.invalid("'name' must be 1–64 letters, digits, '-', '_' or '.'.")
        }
        guard case .value = change.url else { throw AdminAPIError.invalid("'url' is required.") }
        if backendPool.backends.contains(where: { $0.name == name }) {
            throw AdminAPIError(.conflict, type: "conflict", "A backend named '\(name)' exists already.")
        }
        var backend = Backend(name: name, url: "", source: .database)
        try change.apply(to: &backend)
        try await store.backends.create(backend.record)
        try await backendDirectory.reload(logger: context.logger)
        try await auditBackend(context, "backend.create", name, details: change.auditDetails)
        // Probed at once, so that it serves without waiting for the next round.
        if let target = backendPool.target(named: name) {
            await backendPool.probe(target, readTags: true, timeout: backendPool.tuning.probeTimeout, logger: context.logger)
        }
        return AdminJSON.response(try backendView(name), status: .created)
    }

    @Sendable func updateBackend(_ request: Request, context: Context) async throws -> Response {
        let name = try context.parameters.require("name")
        let change = try await AdminJSON.decode(
            BackendChange.self, from: request, fields: Set(BackendChange.CodingKeys.allCases.map(\.rawValue)))
        if case .value(let newName) = change.name, newName != name {
            throw AdminAPIError.invalid("A backend cannot be renamed: delete it and create it anew.")
        }
        var backend = try storedBackend(name)
        try change.apply(to: &backend)
        guard try await store.backends.update(backend.record) != nil else {
            throw AdminAPIError.notFound("There is no backend named '\(name)'.")
        }
        try await backendDirectory.reload(logger: context.logger)
        try await auditBackend(context, "backend.update", name, details: change.auditDetails)
        return AdminJSON.response(try backendView(name))
    }

    @Sendable func deleteBackend(_ request: Request, context: Context) async throws -> Response {
        let name = try context.parameters.require("name")
        _ = try storedBackend(name)
        guard try await store.backends.delete(name) else {
            throw AdminAPIError.notFound("There is no backend named '\(name)'.")
        }
        try await backendDirectory.reload(logger: context.logger)
        try await auditBackend(context, "backend.delete", name)
        return Response(status: .noContent)
    }

    private func auditBackend(_ context: Context, _ action: String, _ name: String, details: JSONValue? = nil) async throws {
        try await store.auditLog.insert(AuditEvent(
            actor: try actor(context), action: action, target: name, details: details, clientAddress: context.remoteAddress,
            occurredAt: Date()))
    }

    /// A backend the admin API may change: one defined through it, not in the configuration.
    private func storedBackend(_ name: String) throws -> Backend {
        guard let backend = backendPool.backends.first(where: { $0.name == name }) else {
            throw AdminAPIError.notFound("There is no backend named '\(name)'.")
        }
        guard backend.source == .database else {
            throw AdminAPIError(
                .conflict, type: "conflict",
                "The backend '\(name)' is defined by the configuration (OLLAMA_URL): change it there, or its URL with the 'ollama_url' setting.")
        }
        return backend
    }
}
