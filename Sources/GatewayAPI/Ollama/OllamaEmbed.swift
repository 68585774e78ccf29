import Foundation

/// `input` of `/api/embed`: one string or several.
public enum OllamaEmbedInput: Sendable, Hashable, Codable {
    case single(String)
    case batch([String])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .single(text)
        } else {
            self = .batch(try container.decode([String].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .single(let text): try container.encode(text)
        case .batch(let texts): try container.encode(texts)
        }
    }

    public var texts: [String] {
        switch self {
        case .single(let text): [text]
        case .batch(let texts): texts
        }
    }
}

/// `POST /api/embed` request body.
public struct OllamaEmbedRequest: Sendable, Hashable, Codable {
    public var model: String
    public var input: OllamaEmbedInput?
    public var truncate: Bool?
    public var dimensions: Int?
    public var keepAlive: JSONValue?
    public var options: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case model, input, truncate, dimensions, options
        case keepAlive = "keep_alive"
    }

    public init(
        model: String, input: OllamaEmbedInput?, truncate: Bool? = nil, dimensions: Int? = nil,
        keepAlive: JSONValue? = nil, options: [String: JSONValue]? = nil
    ) {
        self.model = model
        self.input = input
        self.truncate = truncate
        self.dimensions = dimensions
        self.keepAlive = keepAlive
        self.options = options
    }
}

/// `POST /api/embed` response body.
public struct OllamaEmbedResponse: Sendable, Hashable, Codable {
    public var model: String
    public var embeddings: [[Double]]
    public var totalDuration: Int64?
    public var loadDuration: Int64?
    public var promptEvalCount: Int?

    enum CodingKeys: String, CodingKey {
        case model, embeddings
        case totalDuration = "total_duration"
        case loadDuration = "load_duration"
        case promptEvalCount = "prompt_eval_count"
    }

    public init(
        model: String, embeddings: [[Double]], totalDuration: Int64? = nil, loadDuration: Int64? = nil,
        promptEvalCount: Int? = nil
    ) {
        self.model = model
        self.embeddings = embeddings
        self.totalDuration = totalDuration
        self.loadDuration = loadDuration
        self.promptEvalCount = promptEvalCount
    }
}

/// Legacy `POST /api/embeddings`: one `prompt`, one vector, not normalized.
public struct OllamaLegacyEmbeddingRequest: Sendable, Hashable, Codable {
    public var model: String
    public var prompt: String?
    public var keepAlive: JSONValue?
    public var options: [String: JSONValue]?

    enum CodingKeys: String, CodingKey {
        case model, prompt, options
        case keepAlive = "keep_alive"
    }

    public init(model: String, prompt: String?, keepAlive: JSONValue? = nil, options: [String: JSONValue]? = nil) {
        self.model = model
        self.prompt = prompt
        self.keepAlive = keepAlive
        self.options = options
    }
}

public struct OllamaLegacyEmbeddingResponse: Sendable, Hashable, Codable {
    public var embedding: [Double]

    public init(embedding: [Double]) {
        self.embedding = embedding
    }
}

/// The error body Ollama sends, before streaming (with the real status) or as the last line of a stream.
public struct OllamaErrorBody: Sendable, Hashable, Codable {
    public var error: String

    public init(error: String) {
        self.error = error
    }
}
