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
