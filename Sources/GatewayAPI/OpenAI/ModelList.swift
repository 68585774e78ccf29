import Foundation

/// `GET /v1/models` body.
public struct ModelList: Sendable, Hashable, Codable {
    public struct Model: Sendable, Hashable, Codable {
        public var id: String
        public var object: String = "model"
        /// Epoch seconds.
        public var created: Int
        public var ownedBy: String
        /// Gateway extras: what the model can do and how much context it has.
        public var capabilities: [String]?
        public var contextLength: Int?
        /// The Ollama model behind this name.
        public var ollamaModel: String?

        enum CodingKeys: String, CodingKey {
            case id, object, created, capabilities
            case ownedBy = "owned_by"
            case contextLength = "context_length"
            case ollamaModel = "ollama_model"
        }

        public init(
            id: String, created: Int, ownedBy: String, capabilities: [String]? = nil, contextLength: Int? = nil,
            ollamaModel: String? = nil
        ) {
            self.id = id
            self.created = created
            self.ownedBy = ownedBy
            self.capabilities = capabilities
            self.contextLength = contextLength
            self.ollamaModel = ollamaModel
        }
    }

    public var object: String = "list"
    public var data: [Model]

    public init(data: [Model]) {
        self.data = data
    }
}
