import Foundation

/// A failure the simulator injects into a chat or generate request.
///
/// Selected per request with `options.sim_fault`, or per model with ``SimulatorConfiguration/faults``,
/// ``RunningSimulator/setFault(_:forModel:)``, `POST /sim/faults` or the CLI's `--fault MODEL=FAULT`.
public enum SimulatedFault: String, Sendable, Hashable, CaseIterable, Codable {
    /// Waits `sim_delay_ms` (default 2000 ms) before the first token.
    case slowFirstToken = "slow_first_token"
    /// Sends `sim_fault_after` tokens, then nothing more, keeping the connection open until the client leaves.
    case stall
    /// Sends `sim_fault_after` tokens, then a last line `{"error":"..."}` with status 200 and no done line.
    case errorMidStream = "error_mid_stream"
    /// Answers 500 with Ollama's "model runner has unexpectedly stopped" error.
    case http500 = "http_500"
    /// Answers 503 with Ollama's "server busy" error.
    case http503 = "http_503"
    /// Sends `sim_fault_after` tokens, then closes the TCP connection without ending the chunked body.
    case dropMidStream = "drop_mid_stream"
    /// Sends every token, then ends the body cleanly without a `done:true` line.
    case noDone = "no_done"
}

/// Everything a simulator instance needs; every property has a default.
public struct SimulatorConfiguration: Sendable {
    public var host: String
    /// 0 picks any free port.
    public var port: Int
    public var models: [SimulatedModel]
    /// Per model name (normalized like Ollama: `x` is `x:latest`): applies to every chat/generate request to it.
    public var faults: [String: SimulatedFault]
    /// Pacing between streamed tokens.
    public var tokenInterval: Duration
    /// Benchmark mode: every chat/generate answer is a canned answer of exactly this many tokens.
    public var answerTokens: Int?
    /// Reported by `GET /api/version`.
    public var version: String
    /// How many requests the recorder keeps (the oldest are dropped first), so a load test cannot exhaust memory.
    public var recordLimit: Int
    /// How long loading a model that is not in memory takes: requests to it wait that long (and
    /// report it as `load_duration`); zero loads at once.
    public var loadTime: Duration
    /// How many models fit in memory at once (Ollama's `OLLAMA_MAX_LOADED_MODELS`); nil: no limit.
    public var maxLoaded: Int?

    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        models: [SimulatedModel] = SimulatedModel.builtIn,
        faults: [String: SimulatedFault] = [:],
        tokenInterval: Duration = .zero,
        answerTokens: Int? = nil,
        version: String = "0.12.6",
        recordLimit: Int = 10_000,
        loadTime: Duration = .zero,
        maxLoaded: Int? = nil
    ) {
        self.loadTime = loadTime
        self.maxLoaded = maxLoaded
        self.host = host
        self.port = port
        self.models = models
        self.faults = faults
        self.tokenInterval = tokenInterval
        self.answerTokens = answerTokens
        self.version = version
        self.recordLimit = recordLimit
    }
}
