import Foundation

/// One server-sent event of a streamed response. Each carries its `sequence_number`, counted from 0
/// over the whole stream; the SSE `event:` name is the `type`.
public struct ResponseStreamEvent: Sendable, Hashable, Encodable {
    public var sequenceNumber: Int
    public var kind: Kind

    public enum Kind: Sendable, Hashable {
        case created(ResponseObject)
        case inProgress(ResponseObject)
        case completed(ResponseObject)
        /// Generation stopped early (`max_output_tokens`).
        case incomplete(ResponseObject)
        case failed(ResponseObject)
        case outputItemAdded(outputIndex: Int, item: ResponseItem)
        case outputItemDone(outputIndex: Int, item: ResponseItem)
        case contentPartAdded(itemID: String, outputIndex: Int, contentIndex: Int, part: ResponseContentPart)
        case contentPartDone(itemID: String, outputIndex: Int, contentIndex: Int, part: ResponseContentPart)
        case outputTextDelta(itemID: String, outputIndex: Int, contentIndex: Int, delta: String)
        case outputTextDone(itemID: String, outputIndex: Int, contentIndex: Int, text: String)
        case reasoningSummaryPartAdded(itemID: String, outputIndex: Int, summaryIndex: Int, part: ResponseReasoning.Text)
        case reasoningSummaryPartDone(itemID: String, outputIndex: Int, summaryIndex: Int, part: ResponseReasoning.Text)
        case reasoningSummaryTextDelta(itemID: String, outputIndex: Int, summaryIndex: Int, delta: String)
        case reasoningSummaryTextDone(itemID: String, outputIndex: Int, summaryIndex: Int, text: String)
        case functionCallArgumentsDelta(itemID: String, outputIndex: Int, delta: String)
        case functionCallArgumentsDone(itemID: String, outputIndex: Int, name: String, arguments: String)
        /// A failure with no response to carry it (the stream's own errors).
        case error(code: String?, message: String, param: String?)
    }

    public init(sequenceNumber: Int, kind: Kind) {
        self.sequenceNumber = sequenceNumber
        self.kind = kind
    }

    public var type: String {
        switch kind {
        case .created: "response.created"
        case .inProgress: "response.in_progress"
        case .completed: "response.completed"
        case .incomplete: "response.incomplete"
        case .failed: "response.failed"
        case .outputItemAdded: "response.output_item.added"
        case .outputItemDone: "response.output_item.done"
        case .contentPartAdded: "response.content_part.added"
        case .contentPartDone: "response.content_part.done"
        case .outputTextDelta: "response.output_text.delta"
        case .outputTextDone: "response.output_text.done"
        case .reasoningSummaryPartAdded: "response.reasoning_summary_part.added"
        case .reasoningSummaryPartDone: "response.reasoning_summary_part.done"
        case .reasoningSummaryTextDelta: "response.reasoning_summary_text.delta"
        case .reasoningSummaryTextDone: "response.reasoning_summary_text.done"
        case .functionCallArgumentsDelta: "response.function_call_arguments.delta"
        case .functionCallArgumentsDone: "response.function_call_arguments.done"
        case .error: "error"
        }
    }

    /// The response a lifecycle event carries.
    public var response: ResponseObject? {
        switch kind {
        case .created(let response), .inProgress(let response), .completed(let response), .incomplete(let response),
            .failed(let response):
            response
        default: nil
        }
    }

    /// Whether the event ends the stream.
    public var isTerminal: Bool {
        switch kind {
        case .completed, .incomplete, .failed, .error: true
        default: false
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, response, item, part, delta, text, name, arguments, code, message, param, logprobs
        case sequenceNumber = "sequence_number"
        case outputIndex = "output_index"
        case contentIndex = "content_index"
        case summaryIndex = "summary_index"
        case itemID = "item_id"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(type, forKey: .type)
        try container.encode(sequenceNumber, forKey: .sequenceNumber)
        switch kind {
        case .created(let response), .inProgress(let response), .completed(let response), .incomplete(let response),
            .failed(let response):
            try container.encode(response, forKey: .response)
        case .outputItemAdded(let outputIndex, let item), .outputItemDone(let outputIndex, let item):
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(item, forKey: .item)
        case .contentPartAdded(let itemID, let outputIndex, let contentIndex, let part),
            .contentPartDone(let itemID, let outputIndex, let contentIndex, let part):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(contentIndex, forKey: .contentIndex)
            try container.encode(part, forKey: .part)
        case .outputTextDelta(let itemID, let outputIndex, let contentIndex, let delta):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(contentIndex, forKey: .contentIndex)
            try container.encode(delta, forKey: .delta)
            try container.encode([JSONValue](), forKey: .logprobs)
        case .outputTextDone(let itemID, let outputIndex, let contentIndex, let text):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(contentIndex, forKey: .contentIndex)
            try container.encode(text, forKey: .text)
            try container.encode([JSONValue](), forKey: .logprobs)
        case .reasoningSummaryPartAdded(let itemID, let outputIndex, let summaryIndex, let part),
            .reasoningSummaryPartDone(let itemID, let outputIndex, let summaryIndex, let part):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(summaryIndex, forKey: .summaryIndex)
            try container.encode(part, forKey: .part)
        case .reasoningSummaryTextDelta(let itemID, let outputIndex, let summaryIndex, let delta):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(summaryIndex, forKey: .summaryIndex)
            try container.encode(delta, forKey: .delta)
        case .reasoningSummaryTextDone(let itemID, let outputIndex, let summaryIndex, let text):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(summaryIndex, forKey: .summaryIndex)
            try container.encode(text, forKey: .text)
        case .functionCallArgumentsDelta(let itemID, let outputIndex, let delta):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(delta, forKey: .delta)
        case .functionCallArgumentsDone(let itemID, let outputIndex, let name, let arguments):
            try container.encode(itemID, forKey: .itemID)
            try container.encode(outputIndex, forKey: .outputIndex)
            try container.encode(name, forKey: .name)
            try container.encode(arguments, forKey: .arguments)
        case .error(let code, let message, let param):
            try container.encode(code, forKey: .code)
            try container.encode(message, forKey: .message)
            try container.encode(param, forKey: .param)
        }
    }
}
