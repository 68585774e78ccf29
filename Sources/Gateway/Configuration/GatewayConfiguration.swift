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
    public var host = "127.0.0.1"
    public var port = 3000
    /// The first backend's URL (with one backend, Ollama's): the admin API's `ollama_url` moves it.
    public var ollamaURL = "http://localhost:11434"
    /// The Ollama servers `OLLAMA_URL` lists (see docs/backends.md); empty: one, at `ollamaURL`.
    public var backends: [Backend] = []
    /// How requests are routed between them and how they are probed.
    public var backendTuning = BackendTuning()
    public var dataDirectory = "./data"
    /// `postgres://…` to share keys, settings and usage between instances; the embedded SQLite otherwise.
    public var databaseURL: String?
    /// The first admin's password; without it the admin is `admin`/`admin` and must change it first.
    public var adminPassword: String?
    /// Every API request needs a key (`Authorization: Bearer`, `x-api-key` or `api-key`).
    public var requireAPIKey = true
    /// How long a checked key is trusted before the database is asked again (revocations take this long
    /// to reach other instances; on the instance that made the change they apply at once).
    public var keyCacheLifetime: Duration = .seconds(10)
    /// How long the usage log (per request) and its hourly and daily summaries are kept, in days.
    public var usageRetention = UsageRetention()
    /// The bearer token `/metrics` requires; without one, only loopback clients may read it.
    public var metricsToken: String?
    /// Let API clients pull, push, create, copy and delete models through the native API.
    public var allowModelManagement = false
    /// Start the Ollama simulator in-process and use it as the upstream.
    public var demo = false
    public var demoSimulatorPort = 11435

    /// Largest request body accepted (413 beyond). 16 MiB holds a long agent conversation (200k
    /// tokens are under 1 MB of text) with several photos inline: a 5 MB photo is 6.7 MB of base64,
    /// and Ollama's vision models scale every image down to one or two megapixels anyway. Each byte
    /// accepted is decoded into several, so the limit bounds the memory one request can take.
    public var maxBodyBytes = 16 * 1024 * 1024
    /// Overall deadline of a request unless the request or a model override says otherwise.
    public var requestTimeout: Duration = .seconds(600)
    /// A stream whose upstream sends nothing for this long is ended with a timeout error.
    public var streamIdleTimeout: Duration = .seconds(120)
    /// A stream whose model is silent this long gets a heartbeat: Anthropic's `ping`, an SSE comment on
    /// the OpenAI routes (the native NDJSON routes have none). Keeps proxies from closing the
    /// connection, and is the latest a departed client is noticed when its connection's close is not.
    public var streamPingInterval: Duration = .seconds(10)
    public var upstreamConnectTimeout: Duration = .seconds(5)
    /// A header sent to Ollama on every request, for an Ollama behind its own authentication
    /// (`Authorization: Bearer …`). The client's own credentials are never forwarded.
    public var ollamaAuthHeader: (name: String, value: String)?

    public var reasoningFormat: ReasoningFormat = .reasoningContent
    /// Claude Code starts its system prompt with a billing line that differs between conversations, which
    /// defeats Ollama's prompt cache: removed before Ollama sees it unless this is turned off.
    public var anthropicStripBillingHeader = true
    /// How often the model list is read from Ollama (it is also read at start-up and on demand).
    public var modelRefreshInterval: Duration = .seconds(60)

    public var imageFetch = ImageFetchPolicy()
    /// Admin sessions, the admin token, login throttling (see docs/admin-api.md).
    public var admin = AdminConfiguration()
    /// Host names, connection timeouts and caps, the shutdown's drain deadline (see `ServerLimits`).
    public var server = ServerLimits()
    public var logLevel: Logger.Level = .info
    /// Text lines for people, or one JSON object a line for log shippers.
    public var logFormat: LogFormat = .text
    /// OpenTelemetry traces, exported when `OTEL_EXPORTER_OTLP_ENDPOINT` is set; nil: no tracing at all.
    public var tracing: TracingConfiguration?

    public init() {}
}

/// Limits on fetching `http(s)` image URLs on a client's behalf.
public struct ImageFetchPolicy: Sendable {
    /// Allow loopback, private and link-local addresses (off: the gateway must not be a way into the LAN).
    public var allowPrivateAddresses = false
    public var maxBytes = 20 * 1024 * 1024
    public var timeout: Duration = .seconds(10)
    public var maxRedirects = 3

    public init(allowPrivateAddresses: Bool = false, maxBytes: Int = 20 * 1024 * 1024, timeout: Duration = .seconds(10)) {
        self.allowPrivateAddresses = allowPrivateAddresses
        self.maxBytes = maxBytes
        self.timeout = timeout
    }
}

extension GatewayConfiguration {
    /// The environment names of every setting, for `--help` and the README.
    public static let environmentNames: [String] = [
        "HOST", "PORT", "OLLAMA_URL", "DATA_DIR", "DATABASE_URL", "ADMIN_PASSWORD", "REQUIRE_API_KEY",
        "KEY_CACHE_TTL_MS", "USAGE_RETENTION_DAYS",
        "USAGE_HOURLY_RETENTION_DAYS", "USAGE_DAILY_RETENTION_DAYS", "METRICS_TOKEN", "ALLOW_MODEL_MANAGEMENT", "DEMO", "DEMO_SIM_PORT", "MAX_BODY_BYTES", "REQUEST_TIMEOUT_MS",
        "STREAM_IDLE_TIMEOUT_MS", "STREAM_PING_INTERVAL_MS", "UPSTREAM_CONNECT_TIMEOUT_MS", "OLLAMA_AUTH_HEADER",
        "REASONING_FORMAT", "ANTHROPIC_STRIP_BILLING_HEADER",
        "MODEL_REFRESH_INTERVAL_S", "IMAGE_FETCH_ALLOW_PRIVATE", "IMAGE_FETCH_MAX_BYTES", "IMAGE_FETCH_TIMEOUT_MS", "LOG_LEVEL",
        "LOG_FORMAT",
    ] + AdminConfiguration.environmentNames + ServerLimits.environmentNames + TracingConfiguration.environmentNames
        + BackendTuning.environmentNames

    /// Reads the settings: values given as flags first, then the process environment, then `.env`.
    /// - Parameters:
    ///   - overrides: settings from the command line, keyed by their environment name.
    ///   - flags: the flag that gave each of `overrides` (`PORT` → `--port`), for error messages.
    public static func load(
        overrides: [String: String] = [:], flags: [String: String] = [:], environmentFile: String = ".env"
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
        host = reader.string("HOST", default: host)
        port = try reader.int("PORT", default: port, in: 0...65535)
        ollamaURL = reader.string("OLLAMA_URL", default: ollamaURL)
        dataDirectory = reader.string("DATA_DIR", default: dataDirectory)
        databaseURL = reader.string("DATABASE_URL", isSecret: true)
        adminPassword = reader.string("ADMIN_PASSWORD", isSecret: true)
        requireAPIKey = try reader.bool("REQUIRE_API_KEY", default: true)
        keyCacheLifetime = try reader.milliseconds("KEY_CACHE_TTL_MS", default: 10_000, in: 0...SettingsReader.maxMilliseconds)
        allowModelManagement = try reader.bool("ALLOW_MODEL_MANAGEMENT", default: false)
        metricsToken = reader.string("METRICS_TOKEN", isSecret: true).flatMap { $0.isEmpty ? nil : $0 }
        let days = 1...36_500
        usageRetention = UsageRetention(
            logDays: try reader.int("USAGE_RETENTION_DAYS", default: 30, in: days),
            hourlyDays: try reader.int("USAGE_HOURLY_RETENTION_DAYS", default: 90, in: days),
            dailyDays: try reader.int("USAGE_DAILY_RETENTION_DAYS", default: 730, in: days))
        demo = try reader.bool("DEMO", default: demo)
        demoSimulatorPort = try reader.int("DEMO_SIM_PORT", default: demoSimulatorPort, in: 1...65535)
        maxBodyBytes = try reader.int("MAX_BODY_BYTES", default: maxBodyBytes, in: 1024...(1 << 40))
        requestTimeout = try reader.milliseconds("REQUEST_TIMEOUT_MS", default: 600_000)
        streamIdleTimeout = try reader.milliseconds("STREAM_IDLE_TIMEOUT_MS", default: 120_000)
        streamPingInterval = try reader.milliseconds("STREAM_PING_INTERVAL_MS", default: 10_000)
        upstreamConnectTimeout = try reader.milliseconds("UPSTREAM_CONNECT_TIMEOUT_MS", default: 5_000)
        if let line = reader.string("OLLAMA_AUTH_HEADER", isSecret: true) {
            guard let header = BackendHeader(line: line) else {
                throw ConfigurationError("OLLAMA_AUTH_HEADER must look like 'Name: value'")
            }
            ollamaAuthHeader = (header.name, header.value)
        }
        modelRefreshInterval = try reader.seconds("MODEL_REFRESH_INTERVAL_S", default: 60)
        let format = reader.string("REASONING_FORMAT", default: reasoningFormat.rawValue)
        guard let reasoningFormat = ReasoningFormat(rawValue: format) else {
            throw ConfigurationError(
                "\(reader.source("REASONING_FORMAT")) must be one of \(ReasoningFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(format)'"
            )
        }
        self.reasoningFormat = reasoningFormat
        anthropicStripBillingHeader = try reader.bool("ANTHROPIC_STRIP_BILLING_HEADER", default: anthropicStripBillingHeader)
        imageFetch.allowPrivateAddresses = try reader.bool("IMAGE_FETCH_ALLOW_PRIVATE", default: false)
        imageFetch.maxBytes = try reader.int("IMAGE_FETCH_MAX_BYTES", default: imageFetch.maxBytes, in: 1...(1 << 34))
        imageFetch.timeout = try reader.milliseconds("IMAGE_FETCH_TIMEOUT_MS", default: 10_000)
        admin = try AdminConfiguration(reader: reader)
        server = try ServerLimits(reader: reader)
        let level = reader.string("LOG_LEVEL", default: "info")
        guard let logLevel = Logger.Level(rawValue: level) else {
            throw ConfigurationError(
                "\(reader.source("LOG_LEVEL")) must be one of trace, debug, info, notice, warning, error, critical, got '\(level)'")
        }
        self.logLevel = logLevel
        let formatName = reader.string("LOG_FORMAT", default: logFormat.rawValue)
        guard let logFormat = LogFormat(rawValue: formatName) else {
            throw ConfigurationError("\(reader.source("LOG_FORMAT")) must be text or json, got '\(formatName)'")
        }
        self.logFormat = logFormat
        tracing = try TracingConfiguration(reader: reader)
        do {
            backends = try Backend.parseList(ollamaURL, authHeader: ollamaAuthHeader.map { BackendHeader(name: $0.name, value: $0.value) })
        } catch {
            throw ConfigurationError("\(reader.source("OLLAMA_URL")) \(error.description)")
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
