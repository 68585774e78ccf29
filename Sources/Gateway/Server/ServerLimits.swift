import Configuration

/// Protections of the HTTP server itself, whatever the route: which host names a request may use,
/// how long a client connection may idle or dawdle, how many may be open, and how long a shutdown
/// waits for the requests still running.
public struct ServerLimits: Sendable {
    /// Host names requests may be addressed to (`ALLOWED_HOSTS`), besides `localhost`, `HOST` when it
    /// is a name, and IP literals. `*.example.com` matches its sub-domains; `*` turns the check off.
    /// A page on another site that rebinds its own name to this gateway's address can only send its
    /// own name, which is not on the list.
    public var allowedHosts: [String] = []
    /// A connection with no request under way is closed after this long.
    public var idleTimeout: Duration = .seconds(60)
    /// A request's head (request line and headers) must be complete this long after its first byte.
    public var headerTimeout: Duration = .seconds(10)
    /// A request's body must be complete this long after its head.
    public var bodyTimeout: Duration = .seconds(120)
    /// Client connections open at once; beyond it new ones wait in the kernel's queue until one closes.
    public var maxConnections = 4096
    /// How long a graceful shutdown waits for running requests and streams before ending them with
    /// an error (their usage is recorded as cancelled).
    public var shutdownDrainTimeout: Duration = .seconds(30)

    public init() {}

    public static let environmentNames = [
        "ALLOWED_HOSTS", "CLIENT_IDLE_TIMEOUT_MS", "CLIENT_HEADER_TIMEOUT_MS", "CLIENT_BODY_TIMEOUT_MS",
        "MAX_CONNECTIONS", "SHUTDOWN_DRAIN_TIMEOUT_MS",
    ]

    public init(reader: ConfigReader) throws {
        try self.init(reader: SettingsReader(reader))
    }

    init(reader: SettingsReader) throws {
        self.init()
        allowedHosts = (reader.string("ALLOWED_HOSTS") ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        idleTimeout = try reader.milliseconds("CLIENT_IDLE_TIMEOUT_MS", default: 60_000)
        headerTimeout = try reader.milliseconds("CLIENT_HEADER_TIMEOUT_MS", default: 10_000)
        bodyTimeout = try reader.milliseconds("CLIENT_BODY_TIMEOUT_MS", default: 120_000)
        maxConnections = try reader.int("MAX_CONNECTIONS", default: maxConnections, in: 1...10_000_000)
        shutdownDrainTimeout = try reader.milliseconds("SHUTDOWN_DRAIN_TIMEOUT_MS", default: 30_000)
    }
}
