import GatewayAPI
import HTTPTypes
import NIOCore
import Synchronization

/// The Responses API: `response.*` events, each sent as `event: <type>` with its `sequence_number`,
/// ending with exactly one terminal event — `response.completed` or `response.incomplete` from
/// Ollama's `done` chunk, `response.failed` when the stream fails after its first byte.
///
/// The finished response (whichever way it ended) is left in `outcome`, for the route to store once
/// the stream is over.
struct ResponsesStreamAdapter: StreamAdapter {
    var translator: ResponsesStreamTranslator
    let outcome: ResponseOutcome
    private(set) var usage: (prompt: Int, completion: Int)?

    init(translator: ResponsesStreamTranslator, outcome: ResponseOutcome) {
        self.translator = translator
        self.outcome = outcome
    }

    var headers: HTTPFields { ServerSentEvents.headers }
    var heartbeat: ByteBuffer? { SSEHeartbeat.comment }

    mutating func opening(into output: inout ByteBuffer) {
        Self.append(translator.start(), to: &output)
    }

    /// The response accumulates the text, so every line is decoded.
    mutating func translate(_ line: OllamaChatLine, into output: inout ByteBuffer) -> Int {
        let chunk = line.chunk
        let events = translator.translate(chunk)
        Self.append(events, to: &output)
        if chunk.done {
            usage = (chunk.metrics.promptEvalCount ?? 0, chunk.metrics.evalCount ?? 0)
            outcome.set(translator.response)
        }
        return !chunk.done && events.contains { $0.type.hasSuffix(".delta") } ? 1 : 0
    }

    /// The `done` chunk's events closed the response; should Ollama's stream end without one, it
    /// still ends with a terminal event.
    mutating func closing(into output: inout ByteBuffer) {
        guard !translator.finished else { return }
        Self.append(
            translator.fail(GatewayError(.upstreamError, "Ollama ended the stream before it was done.", code: "upstream_incomplete")),
            to: &output)
        outcome.set(translator.response)
    }

    func failure(_ error: GatewayError, into output: inout ByteBuffer) {
        // The relay's last call: a copy of the translator closes the stream from where it stands.
        var translator = translator
        Self.append(translator.fail(error), to: &output)
        outcome.set(translator.response)
    }

    /// The per-token events are written directly: Foundation's encoder cost more per token than the
    /// rest of the relay together. The others, a few per response, go through `JSONWire.encode`.
    static func append(_ events: [ResponseStreamEvent], to output: inout ByteBuffer) {
        for event in events {
            switch event.kind {
            case .outputTextDelta(let itemID, let outputIndex, let contentIndex, let delta):
                appendDelta(event, itemID: itemID, outputIndex: outputIndex, index: ("content_index", contentIndex),
                    delta: delta, logprobs: true, to: &output)
            case .reasoningSummaryTextDelta(let itemID, let outputIndex, let summaryIndex, let delta):
                appendDelta(event, itemID: itemID, outputIndex: outputIndex, index: ("summary_index", summaryIndex),
                    delta: delta, logprobs: false, to: &output)
            default:
                output.writeImmutableBuffer(ServerSentEvents.event(event.type, JSONWire.encode(event)))
            }
        }
    }

    /// A delta event, its members in the encoder's order.
    private static func appendDelta(
        _ event: ResponseStreamEvent, itemID: String, outputIndex: Int, index: (name: StaticString, value: Int),
        delta: String, logprobs: Bool, to output: inout ByteBuffer
    ) {
        ServerSentEvents.appendEvent(event.type, to: &output) { json in
            json.open()
            json.field("type", event.type)
            json.field("sequence_number", event.sequenceNumber)
            json.field("item_id", itemID)
            json.field("output_index", outputIndex)
            json.field(index.name, index.value)
            json.field("delta", delta)
            if logprobs {
                json.key("logprobs")
                json.openArray()
                json.closeArray()
            }
            json.close()
        }
    }
}

/// The response a stream ended with, handed from the adapter (inside the relay) to the route.
final class ResponseOutcome: Sendable {
    private let response = Mutex<ResponseObject?>(nil)

    func set(_ value: ResponseObject) { response.withLock { $0 = value } }
    var value: ResponseObject? { response.withLock { $0 } }
}
