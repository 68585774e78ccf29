import Foundation

/// A legacy text completion, `object: "text_completion"`. The streamed chunks have the same shape,
/// each carrying a piece of one choice's text.
public struct CompletionResponse: Sendable, Hashable, Codable {
    public struct Choice: Sendable, Hashable, Codable {
        public var text: String
        public var index: Int
        /// Always `null`: log probabilities are not supported.
        public var logprobs: JSONValue?
        public var finishReason: String?

        enum CodingKeys: String, CodingKey {
            case text, index, logprobs
            case finishReason = "finish_reason"
        }

        public init(text: String, index: Int, finishReason: String? = nil) {
            self.text = text
            self.index = index
            self.logprobs = nil
            self.finishReason = finishReason
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(text, forKey: .text)
            try container.encode(index, forKey: .index)
            // OpenAI always sends both fields, `null` when there is nothing to say.
            try container.encode(logprobs, forKey: .logprobs)
            try container.encode(finishReason, forKey: .finishReason)
        }
    }

    public var id: String
    public var object: String = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [Choice]
    public var usage: CompletionUsage?

    enum CodingKeys: String, CodingKey { case id, object, created, model, choices, usage }

    public init(id: String, created: Int, model: String, choices: [Choice], usage: CompletionUsage? = nil) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}
