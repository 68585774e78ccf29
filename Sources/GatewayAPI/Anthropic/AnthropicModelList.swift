/// `GET /v1/models/{id}` in Anthropic's shape (the SDK's `ModelInfo`), for Anthropic clients.
public struct AnthropicModelInfo: Sendable, Hashable, Codable {
    public var id: String
    public var type: String = "model"
    public var displayName: String
    /// RFC 3339; the epoch when the model's date is not known, as Anthropic does.
    public var createdAt: String
    public var lifecycle: String = "active"
    /// The model's context length, when known.
    public var maxInputTokens: Int?

    enum CodingKeys: String, CodingKey {
        case id, type, lifecycle
        case displayName = "display_name"
        case createdAt = "created_at"
        case maxInputTokens = "max_input_tokens"
    }

    public init(id: String, displayName: String, createdAt: String, maxInputTokens: Int? = nil) {
        self.id = id
        self.displayName = displayName
        self.createdAt = createdAt
        self.maxInputTokens = maxInputTokens
    }
}

/// `GET /v1/models` in Anthropic's shape: one page, with its cursor fields.
public struct AnthropicModelList: Sendable, Hashable, Codable {
    public var data: [AnthropicModelInfo]
    public var hasMore: Bool
    public var firstID: String?
    public var lastID: String?

    enum CodingKeys: String, CodingKey {
        case data
        case hasMore = "has_more"
        case firstID = "first_id"
        case lastID = "last_id"
    }

    public init(data: [AnthropicModelInfo], hasMore: Bool) {
        self.data = data
        self.hasMore = hasMore
        self.firstID = data.first?.id
        self.lastID = data.last?.id
    }
}
