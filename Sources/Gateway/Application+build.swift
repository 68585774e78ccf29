import AsyncHTTPClient
import Hummingbird
import Logging
import NIOPosix
import ServiceLifecycle

/// Builds the gateway application: every dependency is created here and passed down.
/// Tests call this with their own configuration; the executable only reads configuration and runs it.
public func buildApplication(
    configuration: GatewayConfiguration, logger: Logger, extraServices: [any Service] = [],
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var httpConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
    httpConfiguration.timeout = .init(connect: .init(configuration.upstreamConnectTimeout))
    httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
    let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: httpConfiguration)
    let upstream = OllamaClient(
        http: http, baseURL: configuration.ollamaURL, authHeader: configuration.ollamaAuthHeader, logger: logger)

    let router = buildRouter(
        upstream: upstream, models: PassthroughModelDirectory(),
        images: ImageFetcher(policy: configuration.imageFetch, logger: logger),
        settings: ChatSettings(configuration: configuration))

    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "ollama-gateway"),
        services: extraServices + [HTTPClientService(client: http)],
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// The routes of every API surface.
public func buildRouter(upstream: OllamaClient, models: any ModelDirectory, images: ImageFetcher, settings: ChatSettings)
    -> Router<BasicRequestContext>
{
    let router = Router(context: BasicRequestContext.self)
    HealthController(upstream: upstream).addRoutes(to: router.group("health"))
    OpenAIController(upstream: upstream, models: models, images: images, settings: settings)
        .addRoutes(to: router.group("v1"))
    OpenAIEmbeddingsController(upstream: upstream, models: models, settings: settings)
        .addRoutes(to: router.group("v1"))
    OpenAICompletionsController(upstream: upstream, models: models, settings: settings)
        .addRoutes(to: router.group("v1"))
    return router
}

/// Shuts the upstream HTTP client down when the application stops.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
