import GatewayAPI
import HTTPTypes
import NIOCore

/// Anthropic messages: `message_start` first, content block events, `message_delta`/`message_stop`
/// from the last line (or from a stop sequence, which ends the answer before Ollama does), `ping`
/// while the model is silent, an `error` event when the stream fails.
struct AnthropicStreamAdapter: StreamAdapter {
    var translator: AnthropicStreamTranslator
    private(set) var usage: (prompt: Int, completion: Int)?
    private(set) var finishReason: String?

    init(style: AnthropicResponseStyle) {
        self.translator = AnthropicStreamTranslator(style: style)
    }

    var headers: HTTPFields { ServerSentEvents.headers }
    var heartbeat: ByteBuffer? { Self.ping }
    var isComplete: Bool { translator.finished }

    static let ping = encode([.ping])

    mutating func opening(into output: inout ByteBuffer) {
        Self.append([translator.start()], to: &output)
    }

    /// The `text_delta` event of a plain token in the open text block, filled from Ollama's bytes;
    /// made for the block's index when a block opens.
    private var textDelta: (index: Int, event: TextEventTemplate)?

    mutating func translate(_ line: OllamaChatLine, into output: inout ByteBuffer) -> Int {
        // A token without text changes nothing on this surface, whatever the stream's state.
        if line.isEmptyText { return 0 }
        if case .text(let text) = line, let index = translator.plainTextBlock, let event = textDeltaEvent(at: index) {
            translator.countPlainText()
            event.write(text, into: &output)
            return 1
        }
        let chunk = line.chunk
        let events = translator.translate(chunk)
        Self.append(events, to: &output)
        var produced = 0
        for event in events {
            switch event {
            case .messageDelta(let stopReason, _, let counts):
                usage = (counts.inputTokens ?? 0, counts.outputTokens)
                finishReason = stopReason
            case .contentBlockDelta: produced += 1
            default: break
            }
        }
        return produced
    }

    private mutating func textDeltaEvent(at index: Int) -> TextEventTemplate? {
        if let textDelta, textDelta.index == index { return textDelta.event }
        let event = TextEventTemplate { text, output in
            Self.append([.contentBlockDelta(index: index, delta: .text(text))], to: &output)
        }
        textDelta = event.map { (index, $0) }
        return event
    }

    /// `message_stop` came with the last chunk (or the stop sequence).
    mutating func closing(into output: inout ByteBuffer) {}

    func failure(_ error: GatewayError, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(AnthropicErrorRenderer().streamEvent(for: error))
    }

    /// The SSE frames of some events, in one buffer.
    static func encode(_ events: [AnthropicStreamEvent]) -> ByteBuffer {
        var out = ByteBuffer()
        append(events, to: &out)
        return out
    }

    static func append(_ events: [AnthropicStreamEvent], to output: inout ByteBuffer) {
        for event in events {
            ServerSentEvents.appendEvent(event.type, to: &output) { $0.write(event) }
        }
    }

    /// One upstream line's events; an `error` line (whatever else it holds) fails the stream.
    static func translate(_ line: ByteBuffer, translator: inout AnthropicStreamTranslator) throws(GatewayError)
        -> [AnthropicStreamEvent]
    {
        translator.translate(try OllamaChatChunk.decode(line))
    }
}

/// Ollama's native `/api/chat` and `/api/generate`: Ollama's own lines, byte for byte unless the
/// client must see something else (`LineRewrite`); an `{"error"}` line when the stream fails, as
/// Ollama ends one.
///
/// No heartbeat: NDJSON has no comment, and Ollama's clients (the Go client, ollama-python,
/// ollama-js) parse every line as JSON, so even a blank line would fail them. A client that leaves
/// while the model is silent is noticed at the next line, or when the idle timeout ends the stream.
struct OllamaNativeStreamAdapter: StreamAdapter {
    let rewrite: OllamaNativeController.LineRewrite
    private(set) var usage: (prompt: Int, completion: Int)?
    private(set) var finishReason: String?

    init(rewrite: OllamaNativeController.LineRewrite) {
        self.rewrite = rewrite
    }

    var headers: HTTPFields { [.contentType: "application/x-ndjson"] }
    var heartbeat: ByteBuffer? { nil }

    mutating func translate(_ line: OllamaRawLine, into output: inout ByteBuffer) -> Int {
        let finished = line.isLast
        if finished {
            usage = (line.object["prompt_eval_count"]?.intValue ?? 0, line.object["eval_count"]?.intValue ?? 0)
            finishReason = line.object["done_reason"]?.stringValue
        }
        var rewritten = rewrite.apply(to: line.object, raw: line.raw)
        output.writeBuffer(&rewritten)
        output.writeStaticString("\n")
        return finished ? 0 : 1
    }

    mutating func closing(into output: inout ByteBuffer) {}

    func failure(_ error: GatewayError, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(OllamaErrorRenderer().streamEvent(for: error))
    }
}
