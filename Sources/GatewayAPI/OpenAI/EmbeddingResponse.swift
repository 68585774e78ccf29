import Foundation

/// `POST /v1/embeddings` response body: `{"object":"list","data":[…],"model","usage"}`.
public struct EmbeddingResponse: Sendable, Hashable, Codable {
    public struct Item: Sendable, Hashable, Codable {
        public var object: String = "embedding"
        public var index: Int
        public var embedding: EmbeddingVector

        enum CodingKeys: String, CodingKey { case object, index, embedding }

        public init(index: Int, embedding: EmbeddingVector) {
            self.index = index
            self.embedding = embedding
        }
    }

    public var object: String = "list"
    public var data: [Item]
    public var model: String
    public var usage: EmbeddingUsage

    enum CodingKeys: String, CodingKey { case object, data, model, usage }

    public init(data: [Item], model: String, usage: EmbeddingUsage) {
        self.data = data
        self.model = model
        self.usage = usage
    }
}

/// One embedding: numbers, or (with `encoding_format: "base64"`) the base64 of its float32 bytes.
public enum EmbeddingVector: Sendable, Hashable, Codable {
    case floats([Double])
    case base64(String)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        switch try container.decode(JSONValue.self) {
        case .string(let encoded):
            self = .base64(encoded)
        case .array(let items):
            var floats: [Double] = []
            floats.reserveCapacity(items.count)
            for item in items {
                guard let number = item.doubleValue else {
                    throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected an array of numbers.")
                }
                floats.append(number)
            }
            self = .floats(floats)
        default:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected an array of numbers or a base64 string.")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .floats(let floats): try container.encode(floats)
        case .base64(let encoded): try container.encode(encoded)
        }
    }
}

/// Embeddings' usage: prompt tokens only (there is no output to count).
public struct EmbeddingUsage: Sendable, Hashable, Codable {
    public var promptTokens: Int
    public var totalTokens: Int

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case totalTokens = "total_tokens"
    }

    public init(promptTokens: Int) {
        self.promptTokens = promptTokens
        self.totalTokens = promptTokens
    }
}
