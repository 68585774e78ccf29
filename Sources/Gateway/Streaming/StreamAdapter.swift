import HTTPTypes
import NIOCore

/// One API surface's side of a streamed answer. The relay (`StreamRelay`) owns everything the
/// surfaces share — deadlines, idle timeout, heartbeats, batching of writes, accounting, a client
/// that goes away — and asks the adapter only for bytes:
///
/// - `opening`: written when the stream opens, before Ollama's first chunk (Anthropic's
///   `message_start`; the Responses API's `response.created`);
/// - `translate`: the events of one chunk;
/// - `closing`: written after the last chunk (usage, `[DONE]`, closing events from the `done` chunk);
/// - `failure`: the stream's last bytes when it fails after its first byte;
/// - `heartbeat`: sent while the model is silent, so proxies and clients keep the connection and a
///   client that left is noticed (see docs/architecture.md, "A client that goes away");
/// - `headers`: the media type and the rest of the response's headers.
///
/// A new surface is a new adapter: the relay does not change.
protocol StreamAdapter: Sendable {
    /// What Ollama's stream yields for this surface (a chat chunk, a generate chunk, a raw line…).
    associatedtype Chunk: Sendable

    var headers: HTTPFields { get }
    /// Bytes written while the model is silent; nil: none (the disconnect is then noticed at the next chunk).
    var heartbeat: ByteBuffer? { get }

    mutating func opening(into output: inout ByteBuffer)
    /// Appends the events of one chunk; returns how many lines of model output it carried (the
    /// count an abandoned stream is accounted by).
    mutating func translate(_ chunk: Chunk, into output: inout ByteBuffer) -> Int
    /// The answer is complete before Ollama's stream ends (a stop sequence matched): read no further.
    var isComplete: Bool { get }
    mutating func closing(into output: inout ByteBuffer)
    func failure(_ error: GatewayError, into output: inout ByteBuffer)
    /// Ollama's token counts (prompt, completion), once known.
    var usage: (prompt: Int, completion: Int)? { get }
    /// Why the model stopped, once known, for the request's trace.
    var finishReason: String? { get }
}

extension StreamAdapter {
    mutating func opening(into output: inout ByteBuffer) {}
    var isComplete: Bool { false }
    var finishReason: String? { nil }
}

/// SSE heartbeats and headers shared by the OpenAI-shaped surfaces.
enum SSEHeartbeat {
    /// An SSE comment: every SSE parser skips it (OpenAI's SDKs, `EventSource`, LangChain's httpx-sse).
    static let comment = ByteBuffer(string: ": keep-alive\n\n")
}

/// The event a surface writes for one plain token (`OllamaChatLine.text`), written once by the
/// surface's own writer with a marker for the text, then filled per token with the JSON string
/// Ollama sent: the bytes the writer would produce but for the string's escaping, with neither a
/// decode nor an encode of the text.
struct TextEventTemplate: Sendable {
    private let head: ByteBuffer
    private let tail: ByteBuffer

    /// Written with this text; its JSON string needs no escaping.
    private static let marker = "TEXT-6b1f0c2e9d"

    /// `write` appends the event for a given text; nil when the marker is not found in what it
    /// wrote (the surface then takes the decoded path).
    init?(_ write: (String, inout ByteBuffer) -> Void) {
        var event = ByteBuffer()
        write(Self.marker, &event)
        let quoted = Array("\"\(Self.marker)\"".utf8)
        let bytes = Array(event.readableBytesView)
        // The last occurrence: the text comes after anything else in the event that a client named.
        guard bytes.count >= quoted.count,
            let offset = (0...(bytes.count - quoted.count)).reversed().first(where: {
                bytes[$0..<($0 + quoted.count)].elementsEqual(quoted)
            })
        else { return nil }
        head = ByteBuffer(bytes: bytes[..<offset])
        tail = ByteBuffer(bytes: bytes[(offset + quoted.count)...])
    }

    /// Appends the event for `text`, a JSON string with its quotes.
    func write(_ text: ByteBuffer, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(head)
        output.writeImmutableBuffer(text)
        output.writeImmutableBuffer(tail)
    }
}
