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
    public var idleTimeout = Settings.idleTimeout.defaultValue
    /// A request's head (request line and headers) must be complete this long after its first byte.
    public var headerTimeout = Settings.headerTimeout.defaultValue
    /// A request's body must be complete this long after its head.
    public var bodyTimeout = Settings.bodyTimeout.defaultValue
    /// Client connections open at once; beyond it new ones wait in the kernel's queue until one closes.
    public var maxConnections = Settings.maxConnections.defaultValue
    /// How long a graceful shutdown waits for running requests and streams before ending them with
    /// an error (their usage is recorded as cancelled).
    public var shutdownDrainTimeout = Settings.shutdownDrainTimeout.defaultValue

    public init() {}

    public enum Settings {
        public static let allowedHosts = Setting<String?>(
            "ALLOWED_HOSTS", help: "Comma-separated host names requests may address (*.example.com; * for any)")
        public static let idleTimeout = Setting<Duration>.milliseconds(
            "CLIENT_IDLE_TIMEOUT_MS", default: 60_000, help: "A client connection idle this long is closed")
        public static let headerTimeout = Setting<Duration>.milliseconds(
            "CLIENT_HEADER_TIMEOUT_MS", default: 10_000, help: "Deadline of a request's head after its first byte")
        public static let bodyTimeout = Setting<Duration>.milliseconds(
            "CLIENT_BODY_TIMEOUT_MS", default: 120_000, help: "Deadline of a request's body after its head")
        public static let maxConnections = Setting<Int>(
            "MAX_CONNECTIONS", default: 4096, in: 1...10_000_000, help: "Client connections open at once")
        public static let shutdownDrainTimeout = Setting<Duration>.milliseconds(
            "SHUTDOWN_DRAIN_TIMEOUT_MS", default: 30_000, help: "How long a shutdown waits for running requests")
    }

    public static let settings: [SettingDescription] = [
        Settings.allowedHosts.summary, Settings.idleTimeout.summary, Settings.headerTimeout.summary,
        Settings.bodyTimeout.summary, Settings.maxConnections.summary, Settings.shutdownDrainTimeout.summary,
    ]
    public static let environmentNames = settings.map(\.name)

    public init(reader: ConfigReader) throws {
        try self.init(reader: SettingsReader(reader))
    }

    init(reader: SettingsReader) throws {
        self.init()
        allowedHosts = (reader.read(Settings.allowedHosts) ?? "")
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        idleTimeout = try reader.read(Settings.idleTimeout)
        headerTimeout = try reader.read(Settings.headerTimeout)
        bodyTimeout = try reader.read(Settings.bodyTimeout)
        maxConnections = try reader.read(Settings.maxConnections)
        shutdownDrainTimeout = try reader.read(Settings.shutdownDrainTimeout)
    }
}
