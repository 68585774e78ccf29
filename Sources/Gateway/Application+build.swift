import AsyncHTTPClient
import GatewayStore
import Hummingbird
import HummingbirdCore
import Logging
import NIOPosix
import ServiceLifecycle

/// Everything the routes share, created once by `buildApplication`.
public struct GatewayServices: Sendable {
    public let configuration: GatewayConfiguration
    public let upstream: OllamaClient
    /// The Ollama servers behind the gateway, and what is known of each.
    public let backends: BackendPool
    public let store: GatewayStore
    public let models: ModelRegistry
    public let images: ImageFetcher
    public let settings: ChatSettings
    public let runtime: RuntimeSettings
    public let access: APIAccess
    public let usage: UsageRecorder
    public let metrics: GatewayMetrics
    /// The graceful shutdown's deadline for the requests under way.
    public let drain: ShutdownDrain
    public let logger: Logger
}

/// Builds the gateway application: every dependency is created here and passed down.
/// Tests call this with their own configuration; the executable only reads configuration and runs it.
public func buildApplication(
    configuration: GatewayConfiguration, logger: Logger, extraServices: [any Service] = [],
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    var httpConfiguration = HTTPClient.Configuration(redirectConfiguration: .disallow)
    httpConfiguration.timeout = .init(connect: .init(configuration.upstreamConnectTimeout))
    httpConfiguration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 1024)
    // A refused connection fails the request at once: by default the client retries with backoff
    // until the connect timeout, and a client waits that long for an Ollama that is not running.
    httpConfiguration.connectionPool.retryConnectionEstablishment = false
    // The client's own spans end at the response head and carry no trace context to Ollama: the
    // gateway makes its own (see RequestTracing), and the client skips a span per request.
    httpConfiguration.tracing.tracer = nil
    let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: httpConfiguration)
    let runtime = RuntimeSettings(configuration: configuration)
    // The gateway's own spans, with GenAI attributes, only when an OTLP endpoint is configured.
    let exporter = configuration.tracing.map { OTLPExporter(configuration: $0, http: http, logger: logger) }
    let tracer = exporter.map { OTLPTracer(exporter: $0) }
    let pool = makeBackendPool(configuration: configuration, http: http, runtime: runtime, tracer: tracer, logger: logger)
    var upstream = OllamaClient(
        http: http, runtime: runtime, authHeader: configuration.ollamaAuthHeader, logger: logger, tracer: tracer)
    upstream.pool = pool

    let storeConfiguration = try StoreConfiguration(
        dataDirectory: configuration.dataDirectory, databaseURL: configuration.databaseURL)
    let database = try await GatewayDatabase.open(storeConfiguration, logger: logger)
    let store = GatewayStore(
        database: database, passwordHasher: PasswordHasher(cost: configuration.admin.passwordHashCost),
        sessionPolicy: configuration.admin.sessionPolicy)
    if case .created(let username, let mustChange) = try await store.adminAccounts.bootstrap(
        initialPassword: configuration.adminPassword)
    {
        logger.notice(
            "created the admin account",
            metadata: ["admin.username": "\(username)", "admin.must_change_password": "\(mustChange)"])
    }

    await StartupReport.make(configuration: configuration, store: store, storeConfiguration: storeConfiguration)
        .log(to: logger)

    // Settings saved from the admin API win over the configuration's first values.
    let savedSettings = PersistedRuntimeSettings(repository: store.settings, runtime: runtime, configuration: configuration)
    try await savedSettings.reload(logger: logger)

    // The backends defined from the admin API join those of the configuration before the first request.
    let backendDirectory = BackendDirectory(repository: store.backends, pool: pool)
    try await backendDirectory.reload(logger: logger)

    let registry = ModelRegistry(upstream: upstream, store: StoredModelSettings(repository: store.modelSettings), logger: logger)
    let authenticator = APIKeyAuthenticator(keys: store.apiKeys, cacheLifetime: configuration.keyCacheLifetime, logger: logger)
    // Several instances share one PostgreSQL: their rate windows must be shared too.
    let limiter = KeyLimiter(shared: database.engine == .postgres ? store.rateLimits : nil)
    let metrics = GatewayMetrics()
    // Usage a killed gateway had not written yet is in its journal: into the database before the
    // first request, so the keys' counts include it.
    do {
        try await UsageJournal.recover(dataDirectory: configuration.dataDirectory, store: store, logger: logger)
    } catch {
        logger.error("could not replay the usage journal; it is kept for the next start", metadata: ["error": "\(error)"])
    }
    let usage = UsageRecorder(
        store: store, limiter: limiter, authenticator: authenticator, metrics: metrics,
        journal: UsageJournal(dataDirectory: configuration.dataDirectory, logger: logger), logger: logger)
    let services = GatewayServices(
        configuration: configuration, upstream: upstream, backends: pool, store: store, models: registry,
        images: ImageFetcher(policy: configuration.imageFetch, logger: logger),
        settings: ChatSettings(configuration: configuration, runtime: runtime), runtime: runtime,
        access: APIAccess(
            authenticator: authenticator, limiter: limiter, sink: usage, requireKey: configuration.requireAPIKey,
            tracer: tracer),
        usage: usage, metrics: metrics,
        drain: ShutdownDrain(timeout: configuration.server.shutdownDrainTimeout, logger: logger), logger: logger)
    let limits = configuration.server
    logHostPolicy(configuration, logger: logger)

    return Application(
        responder: OwnTaskResponder(base: buildRouter(services).buildResponder()),
        server: .guardedHTTP1(timeouts: ConnectionTimeouts(limits), logger: logger),
        configuration: .init(
            address: .hostname(configuration.host, port: configuration.port), serverName: "ollama-gateway",
            availableConnectionsDelegate: MaximumAvailableConnections(
                connectionCap(limits.maxConnections, logger: logger), logger: logger)),
        // A graceful shutdown stops the server first (draining its requests), then these services in
        // reverse order: the trace exporter sends its last spans and the usage recorder flushes while
        // the HTTP client and the database are still open; the database and the HTTP client close last.
        services: extraServices + [
            CloseOnShutdownService(name: "database") {
                await usage.waitUntilStopped()
                try await database.shutdown()
            },
            CloseOnShutdownService(name: "http-client") { try await http.shutdown() },
            ModelRefreshService(registry: registry, interval: configuration.modelRefreshInterval, logger: logger),
            BackendDiscoveryService(pool: pool, directory: backendDirectory, logger: logger),
            UsageRetentionService(usage: store.usage, retention: configuration.usageRetention, logger: logger),
            AdminMaintenanceService(
                store: store, settings: savedSettings,
                throttle: LoginThrottle(attempts: store.loginAttempts, configuration: configuration.admin),
                interval: .seconds(30), responsesRetention: .seconds(configuration.responsesRetentionDays * 86_400),
                logger: logger),
            usage,
        ] + (exporter.map { [$0] } ?? []),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
        logger: logger)
}

/// The routes of every API surface.
public func buildRouter(_ services: GatewayServices) -> Router<GatewayRequestContext> {
    let router = Router(context: GatewayRequestContext.self)
    router.add(middleware: ServerGuard(
        policy: HostPolicy(services.configuration.server, listenHost: services.configuration.host),
        drain: services.drain))
    HealthController(
        upstream: services.upstream, database: services.store.database, backends: services.backends, logger: services.logger)
        .addRoutes(to: router.group("health"))
    MetricsController(
        metrics: services.metrics, usage: services.usage, token: services.configuration.metricsToken,
        backends: services.backends)
        .addRoutes(to: router)
    let api = APIRouteServices(services)
    OpenAIController(api).addRoutes(to: router.group("v1"))
    ResponsesController(api, responses: services.store.responses).addRoutes(to: router.group("v1"))
    OpenAIEmbeddingsController(api).addRoutes(to: router.group("v1"))
    OpenAICompletionsController(api).addRoutes(to: router.group("v1"))
    let anthropic = AnthropicController(api)
    anthropic.addRoutes(to: router.group("v1"))
    let anthropicOnly = router.group("anthropic/v1")
    anthropic.addRoutes(to: anthropicOnly)
    anthropic.addModelRoutes(to: anthropicOnly)
    OllamaNativeController(api, allowModelManagement: services.configuration.allowModelManagement)
        .addRoutes(to: router.group("api"))
    AdminController(services: services).addRoutes(to: router.group("admin/api"))
    // The web console: its own route group, so none of its middleware runs on an API route.
    ConsoleController(services: services).addRoutes(to: router)
    // Last, so that it wraps only the not-found responder, and knows every route.
    router.add(middleware: UnknownRouteResponder(routes: router.routes))
    return router
}

/// The connection cap, lowered to what the open-file limit allows: beyond it, accepting a connection
/// would fail anyway, and the upstream connections of those already open would too.
func connectionCap(_ configured: Int, logger: Logger) -> Int {
    guard let files = FileDescriptorLimit.current else { return configured }
    let fitting = FileDescriptorLimit.connectionsFitting(files)
    guard fitting < configured else { return configured }
    logger.warning(
        "MAX_CONNECTIONS lowered to what the open-file limit allows",
        metadata: ["max_connections": "\(fitting)", "configured": "\(configured)", "rlimit_nofile": "\(files)"])
    return fitting
}

/// Says at start-up which host names the gateway answers to: listening on every address with no
/// ALLOWED_HOSTS, requests that name the gateway by a DNS name are refused until the name is listed.
func logHostPolicy(_ configuration: GatewayConfiguration, logger: Logger) {
    let limits = configuration.server
    if limits.allowedHosts.contains("*") {
        logger.notice("ALLOWED_HOSTS=*: requests are served whatever host they name (no DNS-rebinding protection)")
    } else if ["0.0.0.0", "::", "[::]", ""].contains(configuration.host), limits.allowedHosts.isEmpty {
        logger.notice(
            """
            listening on every address: requests that name this gateway by a DNS name get 421 until the name is \
            in ALLOWED_HOSTS (IP addresses and localhost are always accepted)
            """)
    }
}

/// Closes a resource once the application is shutting down gracefully.
struct CloseOnShutdownService: Service {
    let name: String
    let close: @Sendable () async throws -> Void

    func run() async throws {
        try? await gracefulShutdown()
        try await close()
    }
}
