/// The knobs of routing and discovery (see docs/backends.md).
public struct BackendTuning: Sendable {
    /// Backends tried for one request at most (failures before the first byte move on to the next).
    public var maxAttempts = Settings.maxAttempts.defaultValue
    /// Failures in a row that take a backend out.
    public var failureThreshold = Settings.failureThreshold.defaultValue
    /// How long a failing backend stays out unless a probe finds it well sooner.
    public var coolDown = Settings.coolDown.defaultValue
    /// How often each backend is probed (`/api/version`, `/api/ps`; `/api/tags` every few probes).
    public var probeInterval = Settings.probeInterval.defaultValue
    /// How long a probe may take.
    public var probeTimeout = Settings.probeTimeout.defaultValue
    /// How long a backend may take to answer a request (its response's head) before the next one is
    /// tried. Ollama answers a stream once the model is loaded: this must exceed a cold load.
    public var firstByteTimeout = Settings.firstByteTimeout.defaultValue
    /// Keep a conversation on one backend (by `X-Session-Id`, else the hash of its start).
    public var stickySessions = Settings.stickySessions.defaultValue
    /// Prefer a backend that has the model loaded (off: only for comparing, as the benchmark does).
    public var preferLoaded = Settings.preferLoaded.defaultValue

    public init() {}

    public enum Settings {
        public static let maxAttempts = Setting<Int>(
            "BACKEND_MAX_ATTEMPTS", default: 3, in: 1...10, help: "Backends one request may try before it fails")
        public static let failureThreshold = Setting<Int>(
            "BACKEND_FAILURE_THRESHOLD", default: 3, in: 1...1000, help: "Failures in a row that take a backend out")
        public static let coolDown = Setting<Duration>.milliseconds(
            "BACKEND_COOLDOWN_MS", default: 30_000, help: "How long a failing backend stays out")
        public static let probeInterval = Setting<Duration>.milliseconds(
            "BACKEND_PROBE_INTERVAL_MS", default: 10_000, in: 100...SettingsReader.maxMilliseconds,
            help: "How often each backend is probed")
        public static let probeTimeout = Setting<Duration>.milliseconds(
            "BACKEND_PROBE_TIMEOUT_MS", default: 3_000, help: "A probe that takes longer fails")
        public static let firstByteTimeout = Setting<Duration>.milliseconds(
            "BACKEND_FIRST_BYTE_TIMEOUT_MS", default: 120_000,
            help: "With another backend to try, how long one may take to start answering")
        public static let stickySessions = Setting<Bool>(
            "BACKEND_STICKY_SESSIONS", default: true, help: "Keep a conversation on one backend")
        public static let preferLoaded = Setting<Bool>(
            "BACKEND_PREFER_LOADED", default: true, help: "Prefer a backend that has the model loaded")
    }

    public static let settings: [SettingDescription] = [
        Settings.maxAttempts.summary, Settings.failureThreshold.summary, Settings.coolDown.summary,
        Settings.probeInterval.summary, Settings.probeTimeout.summary, Settings.firstByteTimeout.summary,
        Settings.stickySessions.summary, Settings.preferLoaded.summary,
    ]
    public static let environmentNames = settings.map(\.name)

    init(reader: SettingsReader) throws {
        self.init()
        maxAttempts = try reader.read(Settings.maxAttempts)
        failureThreshold = try reader.read(Settings.failureThreshold)
        coolDown = try reader.read(Settings.coolDown)
        probeInterval = try reader.read(Settings.probeInterval)
        probeTimeout = try reader.read(Settings.probeTimeout)
        firstByteTimeout = try reader.read(Settings.firstByteTimeout)
        stickySessions = try reader.read(Settings.stickySessions)
        preferLoaded = try reader.read(Settings.preferLoaded)
    }
}
