/// What the API route controllers work with: Ollama, the model directory, image fetching, the chat
/// settings and the access guard (keys, limits, accounting). Made once from the gateway's services and
/// handed to every controller, which reads it through `APIRouteController`.
public struct APIRouteServices: Sendable {
    public var upstream: OllamaClient
    public var models: any ModelDirectory
    public var images: ImageFetcher
    public var settings: ChatSettings
    public var access: APIAccess

    public init(_ services: GatewayServices) {
        upstream = services.upstream
        models = services.models
        images = services.images
        settings = services.settings
        access = services.access
    }
}

/// A controller of API routes: its collaborators come from its `APIRouteServices`.
protocol APIRouteController {
    var services: APIRouteServices { get }
}

extension APIRouteController {
    var upstream: OllamaClient { services.upstream }
    var models: any ModelDirectory { services.models }
    var images: ImageFetcher { services.images }
    var settings: ChatSettings { services.settings }
    var access: APIAccess { services.access }
}
