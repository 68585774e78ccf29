import GatewayStore
import Hummingbird
import SQLKit

/// `GET /health/live` (the process serves) and `GET /health/ready` (the database and Ollama answer),
/// with a JSON body that says what is wrong.
public struct HealthController<Context: RequestContext>: Sendable {
    let upstream: OllamaClient
    let database: GatewayDatabase

    public init(upstream: OllamaClient, database: GatewayDatabase) {
        self.upstream = upstream
        self.database = database
    }

    struct Status: ResponseEncodable {
        var status: String
        var database: String?
        var ollama: String?
        var ollamaVersion: String?
        var errors: [String]?

        enum CodingKeys: String, CodingKey {
            case status, database, ollama, errors
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
            do {
                status.ollamaVersion = try await upstream.version().version
            } catch let error as GatewayError {
                status.ollama = "unavailable"
                errors.append("ollama: \(error.message)")
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
