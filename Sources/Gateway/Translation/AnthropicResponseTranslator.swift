import Foundation
import GatewayAPI
import NIOCore

/// Builds a message from stream events the way Anthropic's SDKs do (`messages.stream(...)`,
/// `get_final_message()`): the non-streamed answer is made by this very accumulation, so a
/// streamed answer always adds up to exactly what the same request returns without streaming.
struct AnthropicMessageAccumulator: Sendable {
    /// The message so far, its text and thinking blocks without their text (in `texts`).
    private var built: AnthropicMessageResponse?
    /// The text of each text or thinking block, by index, appended to in place: rebuilding a block
    /// per delta copied its whole text every token.
    private var texts: [Int: String] = [:]
    private var partialJSON: [Int: String] = [:]

    var message: AnthropicMessageResponse? {
        guard var message = built else { return nil }
        for (index, text) in texts where message.content.indices.contains(index) {
            switch message.content[index] {
            case .text: message.content[index] = .text(text)
            case .thinking(_, let signature): message.content[index] = .thinking(thinking: text, signature: signature)
            default: break
            }
        }
        return message
    }

    mutating func apply(_ event: AnthropicStreamEvent) {
        switch event {
        case .messageStart(let start):
            built = start
        case .contentBlockStart(let index, let block):
            built?.content.append(block)
            switch block {
            case .text(let text): texts[index] = text
            case .thinking(let thinking, _): texts[index] = thinking
            default: break
            }
        case .contentBlockDelta(let index, let delta):
            guard let content = built?.content, content.indices.contains(index) else { return }
            switch (content[index], delta) {
            case (.text, .text(let more)), (.thinking, .thinking(let more)):
                texts[index, default: ""] += more
            case (.thinking(let thinking, _), .signature(let signature)):
                built?.content[index] = .thinking(thinking: thinking, signature: signature)
            case (.toolUse, .inputJSON(let json)):
                partialJSON[index, default: ""] += json
            default:
                break
            }
        case .contentBlockStop(let index):
            guard case .toolUse(let id, let name, _) = built?.content[index], let json = partialJSON[index] else { return }
            built?.content[index] = .toolUse(id: id, name: name, input: Self.toolInput(json))
        case .messageDelta(let stopReason, let stopSequence, let usage):
            built?.stopReason = stopReason
            built?.stopSequence = stopSequence
            built?.usage.outputTokens = usage.outputTokens
            if let input = usage.inputTokens { built?.usage.inputTokens = input }
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
