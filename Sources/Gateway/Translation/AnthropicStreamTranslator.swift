import Foundation
import GatewayAPI

/// How the answer to one messages request is presented.
struct AnthropicResponseStyle: Sendable {
    var id: String
    /// The model name as the client asked for it.
    var model: String
    var excludeReasoning: Bool
    /// `thinking.display: "omitted"`: thinking blocks keep their place and signature, without their text.
    var omitThinking: Bool
    var stopSequences: [String]
    /// Reported in `message_start` (and kept when Ollama's count never comes, as after a stop
    /// sequence): the gateway's estimate of the prompt's tokens.
    var estimatedInputTokens: Int

    init(model: String, excludeReasoning: Bool = false, stopSequences: [String] = [], estimatedInputTokens: Int = 0,
        id: String? = nil, omitThinking: Bool = false)
    {
        self.omitThinking = omitThinking
        self.id = id ?? Identifiers.make("msg_")
        self.model = model
        self.excludeReasoning = excludeReasoning
        self.stopSequences = stopSequences
        self.estimatedInputTokens = estimatedInputTokens
    }
}

/// Ollama `/api/chat` lines → Anthropic stream events, one upstream line at a time.
///
/// One content block is open at a time, indexed from 0: reasoning becomes `thinking` blocks (closed
/// with a `signature_delta`), content becomes `text` blocks (never empty), each tool call a
/// `tool_use` block opened with `input: {}` and filled by one `input_json_delta`. `<think>` tags at
/// the start of content are split out into thinking; `stop_sequences` are matched in the text.
struct AnthropicStreamTranslator: Sendable {
    let style: AnthropicResponseStyle
    private enum OpenBlock {
        case none
        case thinking(String)
        case text
    }

    private var splitter = ThinkTagSplitter()
    private var matcher: StopSequenceMatcher
    private var open = OpenBlock.none
    private var nextIndex = 0
    private var sawToolUse = false
    /// Lines that carried output: Ollama streams about one token per line, so this stands in for
    /// `eval_count` when the answer ends before Ollama's last line.
    private var outputLines = 0
    private(set) var finished = false

    init(style: AnthropicResponseStyle) {
        self.style = style
        self.matcher = StopSequenceMatcher(style.stopSequences)
    }

    /// The first event: the message with no content yet.
    func start() -> AnthropicStreamEvent {
        .messageStart(AnthropicMessageResponse(
            id: style.id, model: style.model, usage: AnthropicUsage(inputTokens: style.estimatedInputTokens, outputTokens: 0)))
    }

    /// The events for one upstream line; the closing events too when the line is the last one, or
    /// when a stop sequence ends the answer (`finished` then turns true: read no further).
    mutating func translate(_ line: OllamaChatChunk) -> [AnthropicStreamEvent] {
        guard !finished else { return [] }
        var events: [AnthropicStreamEvent] = []
        if let message = line.message {
            let thinking = message.thinking ?? ""
            if !message.content.isEmpty || !thinking.isEmpty { outputLines += 1 }
            let split = splitter.feed(message.content)
            appendThinking(thinking + split.reasoning, into: &events)
            appendText(split.content, into: &events)
            if finished { return events }
            for call in message.toolCalls ?? [] {
                appendToolUse(call, into: &events)
            }
        }
        if line.done {
            events.append(contentsOf: finish(doneReason: line.doneReason, metrics: line.metrics))
        }
        return events
    }

    /// The open text block's index when a piece of answer text would only extend it — no `<think>`
    /// tag to split out, no stop sequence to watch, the answer not finished. Its event can then be
    /// written from Ollama's bytes (`AnthropicStreamAdapter`), and counted with `countPlainText`.
    var plainTextBlock: Int? {
        guard !finished, case .text = open, splitter.passesThrough, style.stopSequences.isEmpty else { return nil }
        return nextIndex
    }

    /// Counts a piece of answer text written into the open block from Ollama's bytes.
    mutating func countPlainText() {
        outputLines += 1
    }

    /// The closing events: what the splitter and matcher held back, the open block's end,
    /// `message_delta` with the stop reason and usage, and `message_stop`.
    mutating func finish(doneReason: String?, metrics: OllamaMetrics) -> [AnthropicStreamEvent] {
        guard !finished else { return [] }
        var events: [AnthropicStreamEvent] = []
        let rest = splitter.finish()
        appendThinking(rest.reasoning, into: &events)
        appendText(rest.content, into: &events)
        if finished { return events }
        closeBlock(into: &events)
        let stopReason = sawToolUse ? "tool_use" : doneReason == "length" ? "max_tokens" : "end_turn"
        events.append(.messageDelta(
            stopReason: stopReason, stopSequence: nil,
            usage: AnthropicDeltaUsage(inputTokens: metrics.promptEvalCount, outputTokens: metrics.evalCount ?? outputLines)))
        events.append(.messageStop)
        finished = true
        return events
    }

    // MARK: - Blocks

    private mutating func appendThinking(_ text: String, into events: inout [AnthropicStreamEvent]) {
        guard !text.isEmpty, !style.excludeReasoning else { return }
        if case .thinking(var sofar) = open {
            // Released first, so that the text is appended in place rather than copied whole.
            open = .none
            sofar += text
            open = .thinking(sofar)
        } else {
            closeBlock(into: &events)
            events.append(.contentBlockStart(index: nextIndex, block: .thinking(thinking: "", signature: "")))
            open = .thinking(text)
        }
        // Omitted thinking is still signed over its full text, as Anthropic signs what it does not show.
        if !style.omitThinking { events.append(.contentBlockDelta(index: nextIndex, delta: .thinking(text))) }
    }

    private mutating func appendText(_ text: String, into events: inout [AnthropicStreamEvent]) {
        guard !text.isEmpty else { return }
        let released = matcher.feed(text)
        emitText(released, into: &events)
        if let sequence = matcher.matched {
            closeBlock(into: &events)
            events.append(.messageDelta(
                stopReason: "stop_sequence", stopSequence: sequence, usage: AnthropicDeltaUsage(outputTokens: outputLines)))
            events.append(.messageStop)
            finished = true
        }
    }

    /// Sends released text, in the open text block or a new one. Released text already includes
    /// whatever the matcher held back before it.
    private mutating func emitText(_ text: String, into events: inout [AnthropicStreamEvent]) {
        guard !text.isEmpty else { return }
        if case .text = open {} else {
            endBlock(into: &events)
            events.append(.contentBlockStart(index: nextIndex, block: .text("")))
            open = .text
        }
        events.append(.contentBlockDelta(index: nextIndex, delta: .text(text)))
    }

    private mutating func appendToolUse(_ call: OllamaToolCall, into events: inout [AnthropicStreamEvent]) {
        closeBlock(into: &events)
        let id = AnthropicToolUseID.make()
        events.append(.contentBlockStart(index: nextIndex, block: .toolUse(id: id, name: call.function.name, input: [:])))
        events.append(.contentBlockDelta(index: nextIndex, delta: .inputJSON(JSONWire.text(call.function.arguments))))
        events.append(.contentBlockStop(index: nextIndex))
        nextIndex += 1
        sawToolUse = true
    }

    /// Ends the open block before something else (thinking, a tool use, the end of the answer):
    /// text the stop matcher held back is released first, in its place.
    private mutating func closeBlock(into events: inout [AnthropicStreamEvent]) {
        if case .thinking = open {
            endBlock(into: &events)
        }
        emitText(matcher.flush(), into: &events)
        endBlock(into: &events)
    }

    /// Ends the open block as it stands: a thinking block gets its signature first.
    private mutating func endBlock(into events: inout [AnthropicStreamEvent]) {
        switch open {
        case .none:
            return
        case .thinking(let text):
            events.append(.contentBlockDelta(index: nextIndex, delta: .signature(AnthropicThinkingSignature.make(for: text))))
        case .text:
            break
        }
        events.append(.contentBlockStop(index: nextIndex))
        nextIndex += 1
        open = .none
    }
}

/// `toolu_…` ids for the tool calls of an answer; the client sends them back in `tool_result`.
enum AnthropicToolUseID {
    static func make() -> String { Identifiers.make("toolu_") }
}

/// The `signature` of a thinking block. Anthropic's signs the reasoning so it can be verified when
/// sent back; Ollama has nothing to verify, so the gateway writes a stable digest of the text
/// (FNV-1a 64, hex): the same reasoning always gets the same signature, streamed or not.
enum AnthropicThinkingSignature {
    static func make(for thinking: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in thinking.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "ollama-gateway:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}
