/// The knobs of routing and discovery (see docs/backends.md).
public struct BackendTuning: Sendable {
    /// Backends tried for one request at most (failures before the first byte move on to the next).
    public var maxAttempts = 3
    /// Failures in a row that take a backend out.
    public var failureThreshold = 3
    /// How long a failing backend stays out unless a probe finds it well sooner.
    public var coolDown: Duration = .seconds(30)
    /// How often each backend is probed (`/api/version`, `/api/ps`; `/api/tags` every few probes).
    public var probeInterval: Duration = .seconds(10)
    /// How long a probe may take.
    public var probeTimeout: Duration = .seconds(3)
    /// How long a backend may take to answer a request (its response's head) before the next one is
    /// tried. Ollama answers a stream once the model is loaded: this must exceed a cold load.
    public var firstByteTimeout: Duration = .seconds(120)
    /// Keep a conversation on one backend (by `X-Session-Id`, else the hash of its start).
    public var stickySessions = true
    /// Prefer a backend that has the model loaded (off: only for comparing, as the benchmark does).
    public var preferLoaded = true

    public init() {}

    public static let environmentNames = [
        "BACKEND_MAX_ATTEMPTS", "BACKEND_FAILURE_THRESHOLD", "BACKEND_COOLDOWN_MS", "BACKEND_PROBE_INTERVAL_MS",
        "BACKEND_PROBE_TIMEOUT_MS", "BACKEND_FIRST_BYTE_TIMEOUT_MS", "BACKEND_STICKY_SESSIONS",
        "BACKEND_PREFER_LOADED",
    ]

    init(reader: SettingsReader) throws {
        self.init()
        maxAttempts = try reader.int("BACKEND_MAX_ATTEMPTS", default: maxAttempts, in: 1...10)
        failureThreshold = try reader.int("BACKEND_FAILURE_THRESHOLD", default: failureThreshold, in: 1...1000)
        coolDown = try reader.milliseconds("BACKEND_COOLDOWN_MS", default: 30_000)
        probeInterval = try reader.milliseconds("BACKEND_PROBE_INTERVAL_MS", default: 10_000, in: 100...SettingsReader.maxMilliseconds)
        probeTimeout = try reader.milliseconds("BACKEND_PROBE_TIMEOUT_MS", default: 3_000)
        firstByteTimeout = try reader.milliseconds("BACKEND_FIRST_BYTE_TIMEOUT_MS", default: 120_000)
        stickySessions = try reader.bool("BACKEND_STICKY_SESSIONS", default: stickySessions)
        preferLoaded = try reader.bool("BACKEND_PREFER_LOADED", default: preferLoaded)
    }
}
