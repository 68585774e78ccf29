import Foundation
import GatewayAPI
import NIOCore

/// Builds a message from stream events the way Anthropic's SDKs do (`messages.stream(...)`,
/// `get_final_message()`): the non-streamed answer is made by this very accumulation, so a
/// streamed answer always adds up to exactly what the same request returns without streaming.
struct AnthropicMessageAccumulator: Sendable {
    private(set) var message: AnthropicMessageResponse?
    private var partialJSON: [Int: String] = [:]

    mutating func apply(_ event: AnthropicStreamEvent) {
        switch event {
        case .messageStart(let start):
            message = start
        case .contentBlockStart(_, let block):
            message?.content.append(block)
        case .contentBlockDelta(let index, let delta):
            guard let block = message?.content[index] else { return }
            switch (block, delta) {
            case (.text(let text), .text(let more)):
                message?.content[index] = .text(text + more)
            case (.thinking(let thinking, let signature), .thinking(let more)):
                message?.content[index] = .thinking(thinking: thinking + more, signature: signature)
            case (.thinking(let thinking, _), .signature(let signature)):
                message?.content[index] = .thinking(thinking: thinking, signature: signature)
            case (.toolUse, .inputJSON(let json)):
                partialJSON[index, default: ""] += json
            default:
                break
            }
        case .contentBlockStop(let index):
            guard case .toolUse(let id, let name, _) = message?.content[index], let json = partialJSON[index] else { return }
            message?.content[index] = .toolUse(id: id, name: name, input: Self.toolInput(json))
        case .messageDelta(let stopReason, let stopSequence, let usage):
            message?.stopReason = stopReason
            message?.stopSequence = stopSequence
            message?.usage.outputTokens = usage.outputTokens
            if let input = usage.inputTokens { message?.usage.inputTokens = input }
        case .messageStop, .ping, .error:
            break
        }
    }

    /// A tool call's `input` from its streamed JSON text. The gateway writes that text itself from
    /// Ollama's argument object, with the writer whose reader is used here, so it parses; should it
    /// ever not, the text is kept as `{"_raw": text}` — Anthropic's SDKs take any object as `input` —
    /// rather than dropped: an empty `{}` would run the tool with no arguments, silently.
    static func toolInput(_ json: String) -> [String: JSONValue] {
        if case .object(let input)? = try? JSONWire.value(from: ByteBuffer(string: json)) { return input }
        return ["_raw": .string(json)]
    }
}

/// Ollama's non-streamed `/api/chat` answer → an Anthropic message, through the stream translator.
enum AnthropicResponseTranslator {
    static func message(from answer: OllamaChatChunk, style: AnthropicResponseStyle) -> AnthropicMessageResponse {
        var translator = AnthropicStreamTranslator(style: style)
        var accumulator = AnthropicMessageAccumulator()
        accumulator.apply(translator.start())
        var events = translator.translate(answer)
        events += translator.finish(doneReason: answer.doneReason, metrics: answer.metrics)
        for event in events { accumulator.apply(event) }
        // `start()` always produces a message.
        return accumulator.message ?? AnthropicMessageResponse(id: style.id, model: style.model)
    }
}
