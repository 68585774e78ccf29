import Foundation

/// One server-sent event of a streamed message. Its `type` is also the SSE `event:` name.
public enum AnthropicStreamEvent: Sendable, Hashable, Codable {
    case messageStart(AnthropicMessageResponse)
    case contentBlockStart(index: Int, block: AnthropicResponseBlock)
    case contentBlockDelta(index: Int, delta: AnthropicBlockDelta)
    case contentBlockStop(index: Int)
    case messageDelta(stopReason: String?, stopSequence: String?, usage: AnthropicDeltaUsage)
    case messageStop
    case ping
    case error(AnthropicErrorBody.Detail)

    public var type: String {
        switch self {
        case .messageStart: "message_start"
        case .contentBlockStart: "content_block_start"
        case .contentBlockDelta: "content_block_delta"
        case .contentBlockStop: "content_block_stop"
        case .messageDelta: "message_delta"
        case .messageStop: "message_stop"
        case .ping: "ping"
        case .error: "error"
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, message, index, delta, usage, error
        case contentBlock = "content_block"
    }

    struct MessageDeltaBody: Codable {
        var stopReason: String?
        var stopSequence: String?

        enum CodingKeys: String, CodingKey {
            case stopReason = "stop_reason"
            case stopSequence = "stop_sequence"
        }

        init(stopReason: String?, stopSequence: String?) {
            self.stopReason = stopReason
            self.stopSequence = stopSequence
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(stopReason, forKey: .stopReason)
            try container.encode(stopSequence, forKey: .stopSequence)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "message_start": self = .messageStart(try container.decode(AnthropicMessageResponse.self, forKey: .message))
        case "content_block_start":
            self = .contentBlockStart(
                index: try container.decode(Int.self, forKey: .index),
                block: try container.decode(AnthropicResponseBlock.self, forKey: .contentBlock))
        case "content_block_delta":
            self = .contentBlockDelta(
                index: try container.decode(Int.self, forKey: .index),
                delta: try container.decode(AnthropicBlockDelta.self, forKey: .delta))
        case "content_block_stop": self = .contentBlockStop(index: try container.decode(Int.self, forKey: .index))
        case "message_delta":
            let delta = try container.decode(MessageDeltaBody.self, forKey: .delta)
            self = .messageDelta(
                stopReason: delta.stopReason, stopSequence: delta.stopSequence,
                usage: try container.decode(AnthropicDeltaUsage.self, forKey: .usage))
        case "message_stop": self = .messageStop
        case "ping": self = .ping
        case "error": self = .error(try container.decode(AnthropicErrorBody.Detail.self, forKey: .error))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown event '\(type)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        switch self {
        case .messageStart(let message):
            try container.encode(message, forKey: .message)
        case .contentBlockStart(let index, let block):
            try container.encode(index, forKey: .index)
            try container.encode(block, forKey: .contentBlock)
        case .contentBlockDelta(let index, let delta):
            try container.encode(index, forKey: .index)
            try container.encode(delta, forKey: .delta)
        case .contentBlockStop(let index):
            try container.encode(index, forKey: .index)
        case .messageDelta(let stopReason, let stopSequence, let usage):
            try container.encode(MessageDeltaBody(stopReason: stopReason, stopSequence: stopSequence), forKey: .delta)
            try container.encode(usage, forKey: .usage)
        case .messageStop, .ping:
            break
        case .error(let detail):
            try container.encode(detail, forKey: .error)
        }
    }
}

/// The delta of a `content_block_delta` event.
public enum AnthropicBlockDelta: Sendable, Hashable, Codable {
    case text(String)
    case thinking(String)
    case signature(String)
    case inputJSON(String)

    enum CodingKeys: String, CodingKey {
        case type, text, thinking, signature
        case partialJSON = "partial_json"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let type = try container.decode(String.self, forKey: .type)
        switch type {
        case "text_delta": self = .text(try container.decode(String.self, forKey: .text))
        case "thinking_delta": self = .thinking(try container.decode(String.self, forKey: .thinking))
        case "signature_delta": self = .signature(try container.decode(String.self, forKey: .signature))
        case "input_json_delta": self = .inputJSON(try container.decode(String.self, forKey: .partialJSON))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: container, debugDescription: "unknown delta '\(type)'")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .text(let text):
            try container.encode("text_delta", forKey: .type)
            try container.encode(text, forKey: .text)
        case .thinking(let thinking):
            try container.encode("thinking_delta", forKey: .type)
            try container.encode(thinking, forKey: .thinking)
        case .signature(let signature):
            try container.encode("signature_delta", forKey: .type)
            try container.encode(signature, forKey: .signature)
        case .inputJSON(let json):
            try container.encode("input_json_delta", forKey: .type)
            try container.encode(json, forKey: .partialJSON)
        }
    }
}

/// `message_delta.usage`: cumulative counts; `input_tokens` is sent once Ollama has reported it.
public struct AnthropicDeltaUsage: Sendable, Hashable, Codable {
    public var inputTokens: Int?
    public var outputTokens: Int

    enum CodingKeys: String, CodingKey {
        case inputTokens = "input_tokens"
        case outputTokens = "output_tokens"
    }

    public init(inputTokens: Int? = nil, outputTokens: Int) {
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
    }
}
