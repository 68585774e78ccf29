import Configuration
import GatewayStore
import Foundation
import Logging

/// How the gateway returns a model's reasoning in OpenAI responses.
public enum ReasoningFormat: String, Sendable, CaseIterable {
    /// `reasoning_content`, the field most OpenAI-compatible clients read (DeepSeek's convention).
    case reasoningContent = "reasoning_content"
    /// `reasoning`, as Ollama's own `/v1` layer and OpenRouter return it.
    case reasoning
    /// Both fields.
    case both
    /// Inline `<think>…</think>` at the start of `content`, for clients that only show content.
    case thinkTags = "think_tags"
}

/// Every setting of the gateway, read once at start-up from flags, environment, `.env` and defaults.
public struct GatewayConfiguration: Sendable {
    public var host = Settings.host.defaultValue
    public var port = Settings.port.defaultValue
    /// The first backend's URL (with one backend, Ollama's): the admin API's `ollama_url` moves it.
    public var ollamaURL = Settings.ollamaURL.defaultValue
    /// The Ollama servers `OLLAMA_URL` lists (see docs/backends.md); empty: one, at `ollamaURL`.
    public var backends: [Backend] = []
    /// How requests are routed between them and how they are probed.
    public var backendTuning = BackendTuning()
    public var dataDirectory = Settings.dataDirectory.defaultValue
    /// `postgres://…` to share keys, settings and usage between instances; the embedded SQLite otherwise.
    public var databaseURL: String?
    /// The first admin's password; without it the admin is `admin`/`admin` and must change it first.
    public var adminPassword: String?
    /// Every API request needs a key (`Authorization: Bearer`, `x-api-key` or `api-key`).
    public var requireAPIKey = Settings.requireAPIKey.defaultValue
    /// How long a checked key is trusted before the database is asked again (revocations take this long
    /// to reach other instances; on the instance that made the change they apply at once).
    public var keyCacheLifetime = Settings.keyCacheLifetime.defaultValue
    /// How long the usage log (per request) and its hourly and daily summaries are kept, in days.
    public var usageRetention = UsageRetention(
        logDays: Settings.usageRetentionDays.defaultValue, hourlyDays: Settings.usageHourlyRetentionDays.defaultValue,
        dailyDays: Settings.usageDailyRetentionDays.defaultValue)
    /// How long stored responses of the Responses API (`store: true`) are kept, in days.
    public var responsesRetentionDays = Settings.responsesRetentionDays.defaultValue
    /// The bearer token `/metrics` requires; without one, only loopback clients may read it.
    public var metricsToken: String?
    /// Let API clients pull, push, create, copy and delete models through the native API.
    public var allowModelManagement = Settings.allowModelManagement.defaultValue
    /// Start the Ollama simulator in-process and use it as the upstream.
    public var demo = Settings.demo.defaultValue
    public var demoSimulatorPort = Settings.demoSimulatorPort.defaultValue

    /// Largest request body accepted (413 beyond). 16 MiB holds a long agent conversation (200k
    /// tokens are under 1 MB of text) with several photos inline: a 5 MB photo is 6.7 MB of base64,
    /// and Ollama's vision models scale every image down to one or two megapixels anyway. Each byte
    /// accepted is decoded into several, so the limit bounds the memory one request can take.
    public var maxBodyBytes = Settings.maxBodyBytes.defaultValue
    /// Overall deadline of a request unless the request or a model override says otherwise.
    public var requestTimeout = Settings.requestTimeout.defaultValue
    /// A stream whose upstream sends nothing for this long is ended with a timeout error.
    public var streamIdleTimeout = Settings.streamIdleTimeout.defaultValue
    /// A stream whose model is silent this long gets a heartbeat: Anthropic's `ping`, an SSE comment on
    /// the OpenAI routes (the native NDJSON routes have none). Keeps proxies from closing the
    /// connection, and is the latest a departed client is noticed when its connection's close is not.
    public var streamPingInterval = Settings.streamPingInterval.defaultValue
    public var upstreamConnectTimeout = Settings.upstreamConnectTimeout.defaultValue
    /// A header sent to Ollama on every request, for an Ollama behind its own authentication
    /// (`Authorization: Bearer …`). The client's own credentials are never forwarded.
    public var ollamaAuthHeader: (name: String, value: String)?

    public var reasoningFormat = Settings.reasoningFormat.defaultValue
    /// Claude Code starts its system prompt with a billing line that differs between conversations, which
    /// defeats Ollama's prompt cache: removed before Ollama sees it unless this is turned off.
    public var anthropicStripBillingHeader = Settings.anthropicStripBillingHeader.defaultValue
    /// How often the model list is read from Ollama (it is also read at start-up and on demand).
    public var modelRefreshInterval = Settings.modelRefreshInterval.defaultValue

    public var imageFetch = ImageFetchPolicy()
    /// Admin sessions, the admin token, login throttling (see docs/admin-api.md).
    public var admin = AdminConfiguration()
    /// Host names, connection timeouts and caps, the shutdown's drain deadline (see `ServerLimits`).
    public var server = ServerLimits()
    public var logLevel = Settings.logLevel.defaultValue
    /// Text lines for people, or one JSON object a line for log shippers.
    public var logFormat = Settings.logFormat.defaultValue
    /// OpenTelemetry traces, exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; nil: no tracing at all.
    public var tracing: TracingConfiguration?

    public init() {}
}

/// Limits on fetching `http(s)` image URLs on a client's behalf.
public struct ImageFetchPolicy: Sendable {
    /// Allow loopback, private and link-local addresses (off: the gateway must not be a way into the LAN).
    public var allowPrivateAddresses: Bool
    public var maxBytes: Int
    public var timeout: Duration
    public var maxRedirects = 3

    public init(
        allowPrivateAddresses: Bool = GatewayConfiguration.Settings.imageFetchAllowPrivate.defaultValue,
        maxBytes: Int = GatewayConfiguration.Settings.imageFetchMaxBytes.defaultValue,
        timeout: Duration = GatewayConfiguration.Settings.imageFetchTimeout.defaultValue
    ) {
        self.allowPrivateAddresses = allowPrivateAddresses
        self.maxBytes = maxBytes
        self.timeout = timeout
    }
}

extension GatewayConfiguration {
    /// Every setting of the gateway itself (the admin side's and the server's are beside their own types).
    public enum Settings {
        public static let host = Setting<String>("HOST", flag: "host", default: "127.0.0.1", help: "Address to listen on")
        public static let port = Setting<Int>("PORT", flag: "port", default: 3000, in: 0...65535, help: "Port to listen on")
        public static let ollamaURL = Setting<String>(
            "OLLAMA_URL", flag: "ollama-url", default: "http://localhost:11434",
            help: "Ollama server URL; several: repeat the flag or separate them with commas")
        public static let dataDirectory = Setting<String>(
            "DATA_DIR", flag: "data-dir", default: "./data", help: "Directory for the embedded database")
        public static let databaseURL = Setting<String?>(
            "DATABASE_URL", isSecret: true, help: "postgres://… to share the database between instances")
        public static let adminPassword = Setting<String?>(
            "ADMIN_PASSWORD", isSecret: true, help: "The first admin's password")
        public static let requireAPIKey = Setting<Bool>(
            "REQUIRE_API_KEY", default: true, help: "Every API request needs a key")
        public static let keyCacheLifetime = Setting<Duration>.milliseconds(
            "KEY_CACHE_TTL_MS", default: 10_000, in: 0...SettingsReader.maxMilliseconds,
            help: "How long a checked key is trusted before the database is read again")
        public static let usageRetentionDays = Setting<Int>(
            "USAGE_RETENTION_DAYS", default: 30, in: retentionDays, help: "Days the per-request usage log is kept")
        public static let usageHourlyRetentionDays = Setting<Int>(
            "USAGE_HOURLY_RETENTION_DAYS", default: 90, in: retentionDays, help: "Days the hourly usage summary is kept")
        public static let usageDailyRetentionDays = Setting<Int>(
            "USAGE_DAILY_RETENTION_DAYS", default: 730, in: retentionDays, help: "Days the daily usage summary is kept")
        public static let responsesRetentionDays = Setting<Int>(
            "RESPONSES_RETENTION_DAYS", default: 30, in: retentionDays,
            help: "Days a stored response of the Responses API is kept")
        public static let metricsToken = Setting<String?>(
            "METRICS_TOKEN", isSecret: true, help: "Bearer token for /metrics; unset: loopback clients only")
        public static let allowModelManagement = Setting<Bool>(
            "ALLOW_MODEL_MANAGEMENT", default: false,
            help: "Let API clients pull, push, create, copy and delete models through the native API")
        public static let demo = Setting<Bool>(
            "DEMO", flag: "demo", default: false,
            help: "Run a built-in Ollama simulator as the upstream, to try every endpoint without Ollama")
        public static let demoSimulatorPort = Setting<Int>(
            "DEMO_SIM_PORT", default: 11435, in: 1...65535, help: "Port of the demo mode's simulator")
        public static let maxBodyBytes = Setting<Int>(
            "MAX_BODY_BYTES", default: 16 * 1024 * 1024, in: 1024...(1 << 40), help: "Largest request body accepted")
        public static let requestTimeout = Setting<Duration>.milliseconds(
            "REQUEST_TIMEOUT_MS", default: 600_000, help: "Overall deadline of a request")
        public static let streamIdleTimeout = Setting<Duration>.milliseconds(
            "STREAM_IDLE_TIMEOUT_MS", default: 120_000, help: "A stream silent upstream this long ends with a timeout")
        public static let streamPingInterval = Setting<Duration>.milliseconds(
            "STREAM_PING_INTERVAL_MS", default: 10_000, help: "Heartbeat interval while the model is silent")
        public static let upstreamConnectTimeout = Setting<Duration>.milliseconds(
            "UPSTREAM_CONNECT_TIMEOUT_MS", default: 5_000, help: "Deadline of a connection to Ollama")
        public static let ollamaAuthHeader = Setting<String?>(
            "OLLAMA_AUTH_HEADER", isSecret: true, help: "A header sent to Ollama, 'Name: value'")
        public static let reasoningFormat = Setting<ReasoningFormat>(
            "REASONING_FORMAT", flag: "reasoning-format", default: .reasoningContent,
            help: "How reasoning is returned: reasoning_content, reasoning, both or think_tags")
        public static let anthropicStripBillingHeader = Setting<Bool>(
            "ANTHROPIC_STRIP_BILLING_HEADER", default: true,
            help: "Remove Claude Code's billing line from Anthropic system prompts")
        public static let modelRefreshInterval = Setting<Duration>.seconds(
            "MODEL_REFRESH_INTERVAL_S", default: 60, help: "How often the model list is read from Ollama")
        public static let imageFetchAllowPrivate = Setting<Bool>(
            "IMAGE_FETCH_ALLOW_PRIVATE", default: false, help: "Allow image URLs on loopback and private addresses")
        public static let imageFetchMaxBytes = Setting<Int>(
            "IMAGE_FETCH_MAX_BYTES", default: 20 * 1024 * 1024, in: 1...(1 << 34), help: "Largest image, decoded")
        public static let imageFetchTimeout = Setting<Duration>.milliseconds(
            "IMAGE_FETCH_TIMEOUT_MS", default: 10_000, help: "Deadline of an image fetch")
        public static let logLevel = Setting<Logger.Level>(
            "LOG_LEVEL", flag: "log-level", default: .info, help: "trace, debug, info, notice, warning, error")
        public static let logFormat = Setting<LogFormat>(
            "LOG_FORMAT", flag: "log-format", default: .text, help: "text, or json for one JSON object a line")

        static let retentionDays = 1...36_500

        /// In the order `--help` and the README list them.
        public static let all: [SettingDescription] = [
            host.summary, port.summary, ollamaURL.summary, dataDirectory.summary, databaseURL.summary,
            adminPassword.summary, requireAPIKey.summary, keyCacheLifetime.summary, usageRetentionDays.summary,
            usageHourlyRetentionDays.summary, usageDailyRetentionDays.summary, responsesRetentionDays.summary, metricsToken.summary,
            allowModelManagement.summary, demo.summary, demoSimulatorPort.summary, maxBodyBytes.summary,
            requestTimeout.summary, streamIdleTimeout.summary, streamPingInterval.summary,
            upstreamConnectTimeout.summary, ollamaAuthHeader.summary, reasoningFormat.summary,
            anthropicStripBillingHeader.summary, modelRefreshInterval.summary, imageFetchAllowPrivate.summary,
            imageFetchMaxBytes.summary, imageFetchTimeout.summary, logLevel.summary, logFormat.summary,
        ]
    }

    /// Every setting: the gateway's, the admin side's and the server's.
    public static let settings: [SettingDescription] = Settings.all + AdminConfiguration.settings + ServerLimits.settings
        + TracingConfiguration.settings + BackendTuning.settings

    /// The environment names of every setting, for `--help` and the README.
    public static let environmentNames: [String] = settings.map(\.name)

    /// The flag of each setting that has one, by environment name (`PORT` → `--port`), for errors
    /// about a value given as a flag.
    public static let flags: [String: String] = Dictionary(
        uniqueKeysWithValues: settings.compactMap { setting in setting.flag.map { (setting.name, "--\($0)") } })

    /// Reads the settings: values given as flags first, then the process environment, then `.env`.
    /// - Parameters:
    ///   - overrides: settings from the command line, keyed by their environment name.
    ///   - flags: the flag that gave each of `overrides` (`PORT` → `--port`), for error messages.
    public static func load(
        overrides: [String: String] = [:], flags: [String: String] = GatewayConfiguration.flags,
        environmentFile: String = ".env"
    ) async throws -> GatewayConfiguration {
        let reader = ConfigReader(providers: [
            EnvironmentVariablesProvider(environmentVariables: overrides),
            EnvironmentVariablesProvider(),
            try await EnvironmentVariablesProvider(environmentFilePath: .init(environmentFile), allowMissing: true),
        ])
        return try GatewayConfiguration(reader: reader, flags: flags.filter { overrides[$0.key] != nil })
    }

    public init(reader configReader: ConfigReader, flags: [String: String] = [:]) throws {
        self.init()
        let reader = SettingsReader(configReader, flags: flags)
        host = reader.read(Settings.host)
        port = try reader.read(Settings.port)
        ollamaURL = reader.read(Settings.ollamaURL)
        dataDirectory = reader.read(Settings.dataDirectory)
        databaseURL = reader.read(Settings.databaseURL)
        adminPassword = reader.read(Settings.adminPassword)
        requireAPIKey = try reader.read(Settings.requireAPIKey)
        keyCacheLifetime = try reader.read(Settings.keyCacheLifetime)
        allowModelManagement = try reader.read(Settings.allowModelManagement)
        metricsToken = reader.read(Settings.metricsToken).flatMap { $0.isEmpty ? nil : $0 }
        usageRetention = UsageRetention(
            logDays: try reader.read(Settings.usageRetentionDays),
            hourlyDays: try reader.read(Settings.usageHourlyRetentionDays),
            dailyDays: try reader.read(Settings.usageDailyRetentionDays))
        responsesRetentionDays = try reader.read(Settings.responsesRetentionDays)
        demo = try reader.read(Settings.demo)
        demoSimulatorPort = try reader.read(Settings.demoSimulatorPort)
        maxBodyBytes = try reader.read(Settings.maxBodyBytes)
        requestTimeout = try reader.read(Settings.requestTimeout)
        streamIdleTimeout = try reader.read(Settings.streamIdleTimeout)
        streamPingInterval = try reader.read(Settings.streamPingInterval)
        upstreamConnectTimeout = try reader.read(Settings.upstreamConnectTimeout)
        if let line = reader.read(Settings.ollamaAuthHeader) {
            guard let header = BackendHeader(line: line) else {
                throw ConfigurationError("OLLAMA_AUTH_HEADER must look like 'Name: value'")
            }
            ollamaAuthHeader = (header.name, header.value)
        }
        modelRefreshInterval = try reader.read(Settings.modelRefreshInterval)
        reasoningFormat = try reader.read(Settings.reasoningFormat)
        anthropicStripBillingHeader = try reader.read(Settings.anthropicStripBillingHeader)
        imageFetch.allowPrivateAddresses = try reader.read(Settings.imageFetchAllowPrivate)
        imageFetch.maxBytes = try reader.read(Settings.imageFetchMaxBytes)
        imageFetch.timeout = try reader.read(Settings.imageFetchTimeout)
        admin = try AdminConfiguration(reader: reader)
        server = try ServerLimits(reader: reader)
        logLevel = try reader.read(Settings.logLevel)
        logFormat = try reader.read(Settings.logFormat)
        tracing = try TracingConfiguration(reader: reader)
        do {
            backends = try Backend.parseList(ollamaURL, authHeader: ollamaAuthHeader.map { BackendHeader(name: $0.name, value: $0.value) })
        } catch {
            throw ConfigurationError("\(reader.source(Settings.ollamaURL.name)) \(error.description)")
        }
        ollamaURL = backends[0].url
        backendTuning = try BackendTuning(reader: reader)
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
