import Foundation

/// `POST /v1/embeddings` request body.
///
/// Ollama controls (`num_ctx`, `keep_alive`, `truncate`, `options`, …) may be sent at the top level or
/// inside a literal `extra_body` object, as on chat; they are collected in `ollamaControls`.
public struct EmbeddingRequest: Sendable, Hashable {
    public var model: String
    public var input: TextOrTokens
    public var dimensions: Int?
    public var encodingFormat: EmbeddingEncodingFormat?
    /// Accepted and ignored: Ollama has no use for it.
    public var user: String?
    /// Ollama controls from the top level and from `extra_body`, in Ollama's format.
    public var ollamaControls: [String: JSONValue]

    public init(
        model: String, input: TextOrTokens, dimensions: Int? = nil, encodingFormat: EmbeddingEncodingFormat? = nil,
        user: String? = nil, ollamaControls: [String: JSONValue] = [:]
    ) {
        self.model = model
        self.input = input
        self.dimensions = dimensions
        self.encodingFormat = encodingFormat
        self.user = user
        self.ollamaControls = ollamaControls
    }
}

extension EmbeddingRequest: Decodable {
    enum CodingKeys: String, CodingKey {
        case model, input, dimensions, user
        case encodingFormat = "encoding_format"
        case extraBody = "extra_body"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        model = try container.decode(String.self, forKey: .model)
        input = try container.decode(TextOrTokens.self, forKey: .input)
        dimensions = try container.decodeIfPresent(Int.self, forKey: .dimensions)
        encodingFormat = try container.decodeIfPresent(EmbeddingEncodingFormat.self, forKey: .encodingFormat)
        user = try container.decodeIfPresent(String.self, forKey: .user)
        // No field of this surface shares a name with an Ollama control, so every control is collected.
        ollamaControls = try OllamaControlKey.collect(
            from: decoder, extraBodyKey: CodingKeys.extraBody.stringValue, surfaceKeys: [])
    }
}

/// `encoding_format`: `float` (arrays of numbers) or `base64` (little-endian float32 bytes).
public enum EmbeddingEncodingFormat: Sendable, Hashable, Codable {
    case float
    case base64
    case unknown(String)

    public init(from decoder: any Decoder) throws {
        let name = try decoder.singleValueContainer().decode(String.self)
        switch name {
        case "float": self = .float
        case "base64": self = .base64
        default: self = .unknown(name)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .float: try container.encode("float")
        case .base64: try container.encode("base64")
        case .unknown(let name): try container.encode(name)
        }
    }
}

/// OpenAI's text input (`input` of embeddings, `prompt` of completions): a string, an array of
/// strings, an array of token ids, or an array of token-id arrays.
public enum TextOrTokens: Sendable, Hashable, Codable {
    case text(String)
    case texts([String])
    case tokens([Int])
    case tokenBatches([[Int]])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        // Decoded as free-form JSON first, so each shape is told apart without discarding errors.
        let value = try container.decode(JSONValue.self)
        switch value {
        case .string(let text):
            self = .text(text)
        case .array(let items):
            if let texts = Self.all(items, \.stringValue) {
                self = .texts(texts)
            } else if let tokens = Self.all(items, Self.token) {
                self = .tokens(tokens)
            } else if let batches = Self.all(items, { $0.arrayValue.flatMap { Self.all($0, Self.token) } }) {
                self = .tokenBatches(batches)
            } else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "expected a string or an array of strings.")
            }
        default:
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected a string or an array of strings, got \(value.typeName).")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .texts(let texts): try container.encode(texts)
        case .tokens(let tokens): try container.encode(tokens)
        case .tokenBatches(let batches): try container.encode(batches)
        }
    }

    private static func token(_ value: JSONValue) -> Int? {
        if case .int(let token) = value { return token }
        return nil
    }

    private static func all<Element>(_ items: [JSONValue], _ convert: (JSONValue) -> Element?) -> [Element]? {
        var result: [Element] = []
        result.reserveCapacity(items.count)
        for item in items {
            guard let converted = convert(item) else { return nil }
            result.append(converted)
        }
        return result
    }
}
