import Foundation

/// A response as the Responses API returns it, stored, and carries in its lifecycle stream events.
public struct ResponseObject: Sendable, Hashable, Codable {
    public var id: String
    public var object = "response"
    /// Seconds since the epoch.
    public var createdAt: Int
    /// `in_progress`, `completed`, `incomplete`, `failed` or `cancelled`.
    public var status: String
    public var completedAt: Int?
    public var error: ResponseErrorInfo?
    public var incompleteDetails: IncompleteDetails?
    public var instructions: String?
    public var maxOutputTokens: Int?
    /// The model name as the client asked for it.
    public var model: String
    public var output: [ResponseItem]
    public var parallelToolCalls: Bool
    public var previousResponseID: String?
    public var reasoning: ResponseReasoningConfig
    public var store: Bool
    public var temperature: Double?
    public var text: ResponseTextConfig
    public var toolChoice: JSONValue
    public var tools: [ResponseTool]
    public var topP: Double?
    public var truncation: String
    public var usage: ResponseUsage?
    public var user: String?
    public var metadata: JSONValue
    public var background = false

    public struct IncompleteDetails: Sendable, Hashable, Codable {
        public var reason: String

        public init(reason: String) { self.reason = reason }
    }

    enum CodingKeys: String, CodingKey {
        case id, object, status, error, instructions, model, output, reasoning, store, temperature, text, tools
        case truncation, usage, user, metadata, background
        case createdAt = "created_at"
        case completedAt = "completed_at"
        case incompleteDetails = "incomplete_details"
        case maxOutputTokens = "max_output_tokens"
        case parallelToolCalls = "parallel_tool_calls"
        case previousResponseID = "previous_response_id"
        case toolChoice = "tool_choice"
        case topP = "top_p"
    }

    public init(
        id: String, createdAt: Int, status: String, model: String, output: [ResponseItem] = [],
        instructions: String? = nil, maxOutputTokens: Int? = nil, parallelToolCalls: Bool = true,
        previousResponseID: String? = nil, reasoning: ResponseReasoningConfig = .init(), store: Bool = true,
        temperature: Double? = nil, text: ResponseTextConfig = .init(format: .text), toolChoice: JSONValue = "auto",
        tools: [ResponseTool] = [], topP: Double? = nil, truncation: String = "disabled", user: String? = nil,
        metadata: JSONValue = [:]
    ) {
        self.id = id
        self.createdAt = createdAt
        self.status = status
        self.model = model
        self.output = output
        self.instructions = instructions
        self.maxOutputTokens = maxOutputTokens
        self.parallelToolCalls = parallelToolCalls
        self.previousResponseID = previousResponseID
        self.reasoning = reasoning
        self.store = store
        self.temperature = temperature
        self.text = text
        self.toolChoice = toolChoice
        self.tools = tools
        self.topP = topP
        self.truncation = truncation
        self.user = user
        self.metadata = metadata
    }

    /// Every field is written, `null` included, as the API does: clients read them without checking.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(object, forKey: .object)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(status, forKey: .status)
        try container.encode(completedAt, forKey: .completedAt)
        try container.encode(error, forKey: .error)
        try container.encode(incompleteDetails, forKey: .incompleteDetails)
        try container.encode(instructions, forKey: .instructions)
        try container.encode(maxOutputTokens, forKey: .maxOutputTokens)
        try container.encode(model, forKey: .model)
        try container.encode(output, forKey: .output)
        try container.encode(parallelToolCalls, forKey: .parallelToolCalls)
        try container.encode(previousResponseID, forKey: .previousResponseID)
        try container.encode(reasoning, forKey: .reasoning)
        try container.encode(store, forKey: .store)
        try container.encode(temperature, forKey: .temperature)
        try container.encode(text, forKey: .text)
        try container.encode(toolChoice, forKey: .toolChoice)
        try container.encode(tools, forKey: .tools)
        try container.encode(topP, forKey: .topP)
        try container.encode(truncation, forKey: .truncation)
        try container.encode(usage, forKey: .usage)
        try container.encode(user, forKey: .user)
        try container.encode(metadata, forKey: .metadata)
        try container.encode(background, forKey: .background)
    }

    /// The text of every `output_text` part, as the SDKs' `output_text` property joins it.
    public var outputText: String {
        output.compactMap { item -> String? in
            guard case .message(let message) = item, case .parts(let parts) = message.content else { return nil }
            return parts.compactMap { if case .outputText(let text) = $0 { text } else { nil } }.joined()
        }.joined()
    }
}

public struct ResponseErrorInfo: Sendable, Hashable, Codable {
    public var code: String
    public var message: String

    public init(code: String, message: String) {
        self.code = code
        self.message = message
    }
}

public struct ResponseUsage: Sendable, Hashable, Codable {
    /// Ollama has no prompt cache the API could report on: both counts are always 0. Both are
    /// required fields in the SDKs' types, so both are sent.
    public struct InputDetails: Sendable, Hashable, Codable {
        public var cachedTokens = 0
        public var cacheWriteTokens = 0
        enum CodingKeys: String, CodingKey {
            case cachedTokens = "cached_tokens"
            case cacheWriteTokens = "cache_write_tokens"
        }

        public init() {}

        /// Responses stored before `cache_write_tokens` was sent read back with 0.
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            cachedTokens = try container.decodeIfPresent(Int.self, forKey: .cachedTokens) ?? 0
            cacheWriteTokens = try container.decodeIfPresent(Int.self, forKey: .cacheWriteTokens) ?? 0
        }
    }

    public struct OutputDetails: Sendable, Hashable, Codable {
        public var reasoningTokens: Int
        enum CodingKeys: String, CodingKey { case reasoningTokens = "reasoning_tokens" }
    }

    public var inputTokens: Int
    public var inputTokensDetails = InputDetails()
    public var outputTokens: Int
    public var outputTokensDetails: OutputDetails
    public var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case inputTokensDetails = "input_tokens_details"
        case outputTokens = "output_tokens"
        case outputTokensDetails = "output_tokens_details"
        case totalTokens = "total_tokens"
    }

    public init(inputTokens: Int, outputTokens: Int, reasoningTokens: Int) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.outputTokensDetails = OutputDetails(reasoningTokens: reasoningTokens)
        self.totalTokens = inputTokens + outputTokens
    }
}

/// `GET /v1/responses/{id}/input_items`: one page of the items a response was given.
public struct ResponseItemList: Sendable, Hashable, Codable {
    public var object = "list"
    public var data: [ResponseItem]
    public var firstID: String?
    public var lastID: String?
    public var hasMore: Bool

    enum CodingKeys: String, CodingKey {
        case object, data
        case firstID = "first_id"
        case lastID = "last_id"
        case hasMore = "has_more"
    }

    public init(data: [ResponseItem], hasMore: Bool) {
        self.data = data
        self.firstID = data.first?.id
        self.lastID = data.last?.id
        self.hasMore = hasMore
    }
}

/// `DELETE /v1/responses/{id}`.
public struct ResponseDeletion: Sendable, Hashable, Codable {
    public var id: String
    public var object = "response"
    public var deleted = true

    public init(id: String) { self.id = id }
}

/// `POST /v1/responses/input_tokens`.
public struct ResponseInputTokens: Sendable, Hashable, Codable {
    public var object = "response.input_tokens"
    public var inputTokens: Int

    enum CodingKeys: String, CodingKey {
        case object
        case inputTokens = "input_tokens"
    }

    public init(inputTokens: Int) { self.inputTokens = inputTokens }
}
