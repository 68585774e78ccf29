import Foundation

/// One API request as accounted: a row of the usage log, and its share of the hourly and daily roll-ups.
///
/// Text that comes from clients (model names, user agent, request id) is cut to a bounded length when
/// stored; latencies that are not finite or are negative are stored as 0.
public struct UsageRecord: Sendable, Hashable, Codable {
    /// When the request arrived. Stored to the millisecond; it selects the roll-up buckets.
    public var time: Date
    public var requestID: String
    /// The API key's id; `nil` for a request refused before a key was known.
    public var keyID: String?
    /// The model as the client named it (possibly an alias), and the Ollama model that served it.
    public var modelRequested: String?
    public var modelResolved: String?
    /// `/v1/chat/completions`, `/v1/messages`, `/api/chat`…
    public var endpoint: String
    public var streamed: Bool
    public var status: Int
    /// The error's kind when the request failed (`invalid_request`, `upstream_error`…).
    public var errorType: String?
    public var promptTokens: Int
    /// For a cancelled stream: what was produced until the client went away.
    public var completionTokens: Int
    /// A stream the client abandoned.
    public var cancelled: Bool
    /// From arrival to the last byte, in milliseconds.
    public var latencyMs: Double
    /// From arrival to the first token sent, in milliseconds, when a token was sent.
    public var timeToFirstTokenMs: Double?
    /// Output tokens per second over the generation, when measurable.
    public var tokensPerSecond: Double?
    public var clientAddress: String?
    public var userAgent: String?
    /// The backend (Ollama server) that served the request, by name; nil before there was a choice
    /// or for a request refused before one was made.
    public var backend: String?

    public init(
        time: Date, requestID: String, keyID: String?, modelRequested: String?, modelResolved: String?,
        endpoint: String, streamed: Bool, status: Int, errorType: String? = nil, promptTokens: Int,
        completionTokens: Int, cancelled: Bool = false, latencyMs: Double, timeToFirstTokenMs: Double? = nil,
        tokensPerSecond: Double? = nil, clientAddress: String? = nil, userAgent: String? = nil, backend: String? = nil
    ) {
        self.backend = backend
        self.time = time
        self.requestID = requestID
        self.keyID = keyID
        self.modelRequested = modelRequested
        self.modelResolved = modelResolved
        self.endpoint = endpoint
        self.streamed = streamed
        self.status = status
        self.errorType = errorType
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cancelled = cancelled
        self.latencyMs = latencyMs
        self.timeToFirstTokenMs = timeToFirstTokenMs
        self.tokensPerSecond = tokensPerSecond
        self.clientAddress = clientAddress
        self.userAgent = userAgent
    }

    public var totalTokens: Int { promptTokens + completionTokens }

    /// A failed request: an HTTP error status, or an error after a stream had begun with 200.
    public var isError: Bool { status >= 400 || errorType != nil }

    /// The model the roll-ups and the log's model filter count the request under: the model that
    /// served it, or the name asked for when it was refused before resolution; "" when neither is known.
    public var accountedModel: String { modelResolved ?? modelRequested ?? "" }

    enum CodingKeys: String, CodingKey {
        case time
        case requestID = "request_id"
        case keyID = "key_id"
        case modelRequested = "model_requested"
        case modelResolved = "model_resolved"
        case endpoint, streamed, status
        case errorType = "error_type"
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case cancelled
        case latencyMs = "latency_ms"
        case timeToFirstTokenMs = "time_to_first_token_ms"
        case tokensPerSecond = "tokens_per_second"
        case clientAddress = "client_address"
        case userAgent = "user_agent"
        case backend
    }

    /// The record as it is stored: bounded text, whole milliseconds, sane numbers.
    public var normalized: UsageRecord {
        var record = self
        record.time = Timestamp.date(Timestamp.milliseconds(time))
        record.requestID = String(requestID.prefix(UsageSchema.maximumIDLength))
        record.keyID = keyID.map { String($0.prefix(UsageSchema.maximumIDLength)) }
        record.modelRequested = modelRequested.map { String($0.prefix(UsageSchema.maximumNameLength)) }
        record.modelResolved = modelResolved.map { String($0.prefix(UsageSchema.maximumNameLength)) }
        record.endpoint = String(endpoint.prefix(UsageSchema.maximumNameLength))
        record.errorType = errorType.map { String($0.prefix(UsageSchema.maximumIDLength)) }
        record.promptTokens = max(0, promptTokens)
        record.completionTokens = max(0, completionTokens)
        record.latencyMs = Self.sane(latencyMs) ?? 0
        record.timeToFirstTokenMs = timeToFirstTokenMs.flatMap(Self.sane)
        record.tokensPerSecond = tokensPerSecond.flatMap(Self.sane)
        record.clientAddress = clientAddress.map { String($0.prefix(UsageSchema.maximumIDLength)) }
        record.userAgent = userAgent.map { String($0.prefix(UsageSchema.maximumUserAgentLength)) }
        record.backend = backend.map { String($0.prefix(UsageSchema.maximumIDLength)) }
        return record
    }

    private static func sane(_ value: Double) -> Double? {
        value.isFinite ? max(0, value) : nil
    }
}

/// A stored usage record with its log id (ids grow with insertion; the log is ordered by time, then id).
public struct UsageLogEntry: Sendable, Hashable, Codable {
    public var id: Int64
    public var record: UsageRecord

    public init(id: Int64, record: UsageRecord) {
        self.id = id
        self.record = record
    }

    enum CodingKeys: String, CodingKey {
        case id
    }

    /// Flat: `{"id": 42, "time": …, "request_id": …}`.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.id = try container.decode(Int64.self, forKey: .id)
        self.record = try UsageRecord(from: decoder)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try record.encode(to: encoder)
    }
}
