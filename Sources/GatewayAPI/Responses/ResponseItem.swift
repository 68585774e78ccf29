import Foundation

/// One item of a Responses conversation, by `type`: what a client sends in `input`, and what a
/// response holds in `output`. The same type serves both so that a stored conversation is read back
/// (`input_items`, `previous_response_id`) exactly as it was written. Unknown types are kept, so the
/// translator can name them in its error.
public enum ResponseItem: Sendable, Hashable, Codable {
    case message(ResponseMessage)
    case functionCall(ResponseFunctionCall)
    case functionCallOutput(ResponseFunctionCallOutput)
    case reasoning(ResponseReasoning)
    case unknown(type: String, value: JSONValue)

    enum TypeKey: String, CodingKey { case type, role }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: TypeKey.self)
        // The SDKs' "easy" input message has no `type`, only a `role`.
        let type = try container.decodeIfPresent(String.self, forKey: .type)
            ?? (container.contains(.role) ? "message" : "")
        switch type {
        case "message": self = .message(try ResponseMessage(from: decoder))
        case "function_call": self = .functionCall(try ResponseFunctionCall(from: decoder))
        case "function_call_output": self = .functionCallOutput(try ResponseFunctionCallOutput(from: decoder))
        case "reasoning": self = .reasoning(try ResponseReasoning(from: decoder))
        default: self = .unknown(type: type, value: try JSONValue(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .message(let item): try item.encode(to: encoder)
        case .functionCall(let item): try item.encode(to: encoder)
        case .functionCallOutput(let item): try item.encode(to: encoder)
        case .reasoning(let item): try item.encode(to: encoder)
        case .unknown(_, let value): try value.encode(to: encoder)
        }
    }

    /// The item's `type` as it is on the wire.
    public var type: String {
        switch self {
        case .message: "message"
        case .functionCall: "function_call"
        case .functionCallOutput: "function_call_output"
        case .reasoning: "reasoning"
        case .unknown(let type, _): type
        }
    }

    public var id: String? {
        switch self {
        case .message(let item): item.id
        case .functionCall(let item): item.id
        case .functionCallOutput(let item): item.id
        case .reasoning(let item): item.id
        case .unknown(_, let value): value["id"]?.stringValue
        }
    }

    /// The item with an id, for the stored input list (the API gives every stored item one).
    public func identified(_ makeID: (String) -> String) -> ResponseItem {
        switch self {
        case .message(var item) where item.id == nil:
            item.id = makeID("msg_")
            return .message(item)
        case .functionCall(var item) where item.id == nil:
            item.id = makeID("fc_")
            return .functionCall(item)
        case .functionCallOutput(var item) where item.id == nil:
            item.id = makeID("fco_")
            return .functionCallOutput(item)
        case .reasoning(var item) where item.id == nil:
            item.id = makeID("rs_")
            return .reasoning(item)
        default:
            return self
        }
    }
}

/// A message item: `content` is a string (input only) or a list of parts.
public struct ResponseMessage: Sendable, Hashable, Codable {
    public var id: String?
    public var role: String
    public var content: ResponseMessageContent
    public var status: String?

    enum CodingKeys: String, CodingKey { case id, type, role, content, status }

    public init(id: String? = nil, role: String, content: ResponseMessageContent, status: String? = nil) {
        self.id = id
        self.role = role
        self.content = content
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        role = try container.decode(String.self, forKey: .role)
        content = try container.decode(ResponseMessageContent.self, forKey: .content)
        status = try container.decodeIfPresent(String.self, forKey: .status)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encode("message", forKey: .type)
        try container.encode(role, forKey: .role)
        try container.encodeIfPresent(status, forKey: .status)
        try container.encode(content, forKey: .content)
    }
}

public enum ResponseMessageContent: Sendable, Hashable, Codable {
    case text(String)
    case parts([ResponseContentPart])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            self = .text(text)
        } else {
            self = .parts(try container.decode([ResponseContentPart].self))
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

/// A part of a message's content, by `type`.
public enum ResponseContentPart: Sendable, Hashable, Codable {
    case inputText(String)
    /// An assistant's text: `annotations` and `logprobs` are always empty here.
    case outputText(String)
    case refusal(String)
    /// `image_url` is a data URL or an http(s) URL; `file_id` images are refused by the translator.
    case inputImage(imageURL: String?, fileID: String?, detail: String?)
    case unknown(type: String, value: JSONValue)

    enum CodingKeys: String, CodingKey {
        case type, text, refusal, detail, annotations, logprobs
        case imageURL = "image_url"
        case fileID = "file_id"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "input_text": self = .inputText(try container.decode(String.self, forKey: .text))
        case "output_text": self = .outputText(try container.decode(String.self, forKey: .text))
        case "refusal": self = .refusal(try container.decode(String.self, forKey: .refusal))
        case "input_image":
            self = .inputImage(
                imageURL: try container.decodeIfPresent(String.self, forKey: .imageURL),
                fileID: try container.decodeIfPresent(String.self, forKey: .fileID),
                detail: try container.decodeIfPresent(String.self, forKey: .detail))
        default: self = .unknown(type: type, value: try JSONValue(from: decoder))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .inputText(let text):
            try container.encode("input_text", forKey: .type)
            try container.encode(text, forKey: .text)
        case .outputText(let text):
            try container.encode("output_text", forKey: .type)
            try container.encode(text, forKey: .text)
            try container.encode([JSONValue](), forKey: .annotations)
            try container.encode([JSONValue](), forKey: .logprobs)
        case .refusal(let text):
            try container.encode("refusal", forKey: .type)
            try container.encode(text, forKey: .refusal)
        case .inputImage(let url, let fileID, let detail):
            try container.encode("input_image", forKey: .type)
            try container.encodeIfPresent(url, forKey: .imageURL)
            try container.encodeIfPresent(fileID, forKey: .fileID)
            try container.encode(detail ?? "auto", forKey: .detail)
        case .unknown(_, let value):
            try value.encode(to: encoder)
        }
    }
}

/// A call of a function tool. `arguments` is a JSON-encoded string, as in chat completions.
public struct ResponseFunctionCall: Sendable, Hashable, Codable {
    public var id: String?
    public var callID: String
    public var name: String
    public var arguments: String
    public var status: String?

    enum CodingKeys: String, CodingKey {
        case id, type, name, arguments, status
        case callID = "call_id"
    }

    public init(id: String? = nil, callID: String, name: String, arguments: String, status: String? = nil) {
        self.id = id
        self.callID = callID
        self.name = name
        self.arguments = arguments
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        callID = try container.decode(String.self, forKey: .callID)
        name = try container.decode(String.self, forKey: .name)
        arguments = try container.decode(String.self, forKey: .arguments)
        status = try container.decodeIfPresent(String.self, forKey: .status)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("function_call", forKey: .type)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encode(callID, forKey: .callID)
        try container.encode(name, forKey: .name)
        try container.encode(arguments, forKey: .arguments)
        try container.encodeIfPresent(status, forKey: .status)
    }
}

/// A function tool's result, sent back by the client. `output` is a string or a list of content parts.
public struct ResponseFunctionCallOutput: Sendable, Hashable, Codable {
    public var id: String?
    public var callID: String
    public var output: ResponseMessageContent
    public var status: String?

    enum CodingKeys: String, CodingKey {
        case id, type, output, status
        case callID = "call_id"
    }

    public init(id: String? = nil, callID: String, output: ResponseMessageContent, status: String? = nil) {
        self.id = id
        self.callID = callID
        self.output = output
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        callID = try container.decode(String.self, forKey: .callID)
        output = try container.decode(ResponseMessageContent.self, forKey: .output)
        status = try container.decodeIfPresent(String.self, forKey: .status)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode("function_call_output", forKey: .type)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encode(callID, forKey: .callID)
        try container.encode(output, forKey: .output)
        try container.encodeIfPresent(status, forKey: .status)
    }
}

/// The model's reasoning: Ollama's thinking as summary text. `encrypted_content` is never produced
/// (there is nothing to encrypt: the text itself is returned) and is ignored when sent back.
public struct ResponseReasoning: Sendable, Hashable, Codable {
    public struct Text: Sendable, Hashable, Codable {
        public var type: String
        public var text: String

        public init(type: String = "summary_text", text: String) {
            self.type = type
            self.text = text
        }
    }

    public var id: String?
    public var summary: [Text]
    public var content: [Text]?
    public var status: String?

    enum CodingKeys: String, CodingKey { case id, type, summary, content, status }

    public init(id: String? = nil, summary: [Text], content: [Text]? = nil, status: String? = nil) {
        self.id = id
        self.summary = summary
        self.content = content
        self.status = status
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decodeIfPresent(String.self, forKey: .id)
        summary = try container.decodeIfPresent([Text].self, forKey: .summary) ?? []
        content = try container.decodeIfPresent([Text].self, forKey: .content)
        status = try container.decodeIfPresent(String.self, forKey: .status)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(id, forKey: .id)
        try container.encode("reasoning", forKey: .type)
        try container.encode(summary, forKey: .summary)
        try container.encodeIfPresent(content, forKey: .content)
        try container.encodeIfPresent(status, forKey: .status)
    }

    /// The reasoning text, however the client sent it back (summary parts or full content).
    public var text: String {
        if let content, !content.isEmpty { return content.map(\.text).joined(separator: "\n\n") }
        return summary.map(\.text).joined(separator: "\n\n")
    }
}
