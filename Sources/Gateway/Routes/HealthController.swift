import Hummingbird

/// `GET /health/live` (the process serves) and `GET /health/ready` (Ollama answers).
public struct HealthController<Context: RequestContext>: Sendable {
    let upstream: OllamaClient

    public init(upstream: OllamaClient) {
        self.upstream = upstream
    }

    struct Status: ResponseEncodable {
        var status: String
        var ollama: String?
        var error: String?
    }

    public func addRoutes(to group: RouterGroup<Context>) {
        group.get("live") { _, _ in Status(status: "ok") }
        group.get("ready") { _, _ -> EditedResponse<Status> in
            do {
                let version = try await upstream.version()
                return EditedResponse(status: .ok, response: Status(status: "ok", ollama: version.version))
            } catch let error as GatewayError {
                return EditedResponse(status: .serviceUnavailable, response: Status(status: "unavailable", error: error.message))
            }
        }
    }
}
