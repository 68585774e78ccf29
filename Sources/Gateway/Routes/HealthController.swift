import GatewayStore
import Hummingbird
import Logging
import SQLKit

/// `GET /health/live` (the process serves) and `GET /health/ready` (the database and Ollama answer),
/// with a JSON body that says what is wrong.
public struct HealthController<Context: RequestContext>: Sendable {
    let upstream: OllamaClient
    let database: GatewayDatabase
    /// Each backend is probed and reported; without a pool, the one Ollama `upstream` talks to.
    let backends: BackendPool?
    let logger: Logger

    public init(
        upstream: OllamaClient, database: GatewayDatabase, backends: BackendPool? = nil,
        logger: Logger = Logger(label: "ollama-gateway")
    ) {
        self.upstream = upstream
        self.database = database
        self.backends = backends
        self.logger = logger
    }

    struct Status: ResponseEncodable {
        var status: String
        var database: String?
        var ollama: String?
        var ollamaVersion: String?
        var backends: [Backend]?
        var errors: [String]?

        struct Backend: Codable {
            var name: String
            /// `ok`, `unavailable`, `cooling_down` or `disabled`.
            var status: String
            var version: String?
            var error: String?
        }

        enum CodingKeys: String, CodingKey {
            case status, database, ollama, backends, errors
            case ollamaVersion = "ollama_version"
        }
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.get("live") { _, _ in Status(status: "ok") }
        group.get("ready") { _, _ -> EditedResponse<Status> in
            var status = Status(status: "ok", database: "ok", ollama: "ok")
            var errors: [String] = []
            do {
                _ = try await database.sql.raw("SELECT 1").all()
            } catch {
                status.database = "unavailable"
                errors.append("database: \(error)")
            }
            if let backends {
                // Ready while one backend can serve: the others are reported, and routed around.
                await backends.checkAll(logger: logger)
                let statuses = backends.statuses()
                status.backends = statuses.map {
                    Status.Backend(
                        name: $0.backend.name, status: $0.state, version: $0.version, error: $0.state == "ok" ? nil : $0.lastError)
                }
                let serving = statuses.filter { $0.state == "ok" }
                status.ollamaVersion = serving.first?.version
                if serving.isEmpty {
                    status.ollama = "unavailable"
                    errors.append(contentsOf: statuses.filter { $0.backend.enabled }.map { "ollama (\($0.backend.name)): \($0.lastError ?? $0.state)" })
                    if statuses.allSatisfy({ !$0.backend.enabled }) { errors.append("ollama: every backend is disabled") }
                }
            } else {
                do {
                    status.ollamaVersion = try await upstream.version().version
                } catch let error as GatewayError {
                    status.ollama = "unavailable"
                    errors.append("ollama: \(error.message)")
                }
            }
            guard errors.isEmpty else {
                status.status = "unavailable"
                status.errors = errors
                return EditedResponse(status: .serviceUnavailable, response: status)
            }
            return EditedResponse(status: .ok, response: status)
        }
    }
}
