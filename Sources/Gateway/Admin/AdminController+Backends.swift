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
        let name = try await backends.create(change, by: try actor(context), from: context.remoteAddress, logger: context.logger)
        return AdminJSON.response(try backendView(name), status: .created)
    }

    @Sendable func updateBackend(_ request: Request, context: Context) async throws -> Response {
        let name = try context.parameters.require("name")
        let change = try await AdminJSON.decode(
            BackendChange.self, from: request, fields: Set(BackendChange.CodingKeys.allCases.map(\.rawValue)))
        try await backends.update(name, change, by: try actor(context), from: context.remoteAddress, logger: context.logger)
        return AdminJSON.response(try backendView(name))
    }

    @Sendable func deleteBackend(_ request: Request, context: Context) async throws -> Response {
        let name = try context.parameters.require("name")
        try await backends.delete(name, by: try actor(context), from: context.remoteAddress, logger: context.logger)
        return Response(status: .noContent)
    }
}
