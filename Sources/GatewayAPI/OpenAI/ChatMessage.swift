import Foundation

/// One message of a chat completion request.
public struct ChatMessage: Sendable, Hashable, Codable {
    public var role: String
    public var content: ChatContent?
    public var name: String?
    public var toolCalls: [ChatToolCall]?
    public var toolCallID: String?
    /// Reasoning a client sends back with an assistant turn (`reasoning_content`, or OpenRouter's `reasoning`).
    public var reasoningContent: String?

    enum CodingKeys: String, CodingKey {
        case role, content, name, reasoning
        case toolCalls = "tool_calls"
        case toolCallID = "tool_call_id"
        case reasoningContent = "reasoning_content"
    }

    public init(
        role: String, content: ChatContent? = nil, name: String? = nil, toolCalls: [ChatToolCall]? = nil,
        toolCallID: String? = nil, reasoningContent: String? = nil
    ) {
        self.role = role
        self.content = content
        self.name = name
        self.toolCalls = toolCalls
        self.toolCallID = toolCallID
        self.reasoningContent = reasoningContent
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        role = try container.decode(String.self, forKey: .role)
        content = try container.decodeIfPresent(ChatContent.self, forKey: .content)
        name = try container.decodeIfPresent(String.self, forKey: .name)
        toolCalls = try container.decodeIfPresent([ChatToolCall].self, forKey: .toolCalls)
        toolCallID = try container.decodeIfPresent(String.self, forKey: .toolCallID)
        reasoningContent =
            try container.decodeIfPresent(String.self, forKey: .reasoningContent)
            ?? container.decodeIfPresent(String.self, forKey: .reasoning)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(role, forKey: .role)
        try container.encodeIfPresent(content, forKey: .content)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encodeIfPresent(toolCalls, forKey: .toolCalls)
        try container.encodeIfPresent(toolCallID, forKey: .toolCallID)
        try container.encodeIfPresent(reasoningContent, forKey: .reasoningContent)
    }
}

/// Message content: a plain string or an array of parts.
public enum ChatContent: Sendable, Hashable, Codable {
    case text(String)
    case parts([ChatContentPart])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .parts(try container.decode([ChatContentPart].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .text(let text): try container.encode(text)
        case .parts(let parts): try container.encode(parts)
        }
    }
}

/// A content part, by `type`. Unknown types are kept so the translator can name them in an error.
public enum ChatContentPart: Sendable, Hashable, Codable {
    case text(String)
    case imageURL(url: String, detail: String?)
    case unknown(type: String, value: JSONValue)

    enum CodingKeys: String, CodingKey {
        case type, text
        case imageURL = "image_url"
    }

    struct ImageURL: Codable {
        var url: String
        var detail: String?
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "text", "input_text":
            self = .text(try container.decode(String.self, forKey: .text))
        case "image_url":
            let image = try container.decode(ImageURL.self, forKey: .imageURL)
            self = .imageURL(url: image.url, detail: image.detail)
        default:
            self = .unknown(type: type, value: try JSONValue(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode("text", forKey: .type)
            try container.encode(text, forKey: .text)
        case .imageURL(let url, let detail):
            try container.encode("image_url", forKey: .type)
            try container.encode(ImageURL(url: url, detail: detail), forKey: .imageURL)
        case .unknown(_, let value):
            try value.encode(to: encoder)
        }
    }
}

/// A tool call in OpenAI's format: `arguments` is a JSON-encoded string.
public struct ChatToolCall: Sendable, Hashable, Codable {
    public struct Function: Sendable, Hashable, Codable {
        public var name: String
        public var arguments: String

        public init(name: String, arguments: String) {
            self.name = name
            self.arguments = arguments
        }

        enum CodingKeys: String, CodingKey { case name, arguments }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            // Some clients send the arguments as an object instead of a string; accept both.
            if let text = try? container.decode(String.self, forKey: .arguments) {
                arguments = text
            } else if let object = try container.decodeIfPresent(JSONValue.self, forKey: .arguments) {
                arguments = String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
            } else {
                arguments = "{}"
            }
        }
    }

    public var id: String?
    public var type: String?
    public var function: Function

    public init(id: String?, type: String? = "function", function: Function) {
        self.id = id
        self.type = type
        self.function = function
    }
}
