import AsyncHTTPClient
import Foundation
import GatewayAPI
import NIOCore

/// One line of Ollama's NDJSON stream, decoded.
protocol OllamaStreamLine: Sendable {
    /// Decodes a line; an `{"error"}` line is Ollama failing the stream and is thrown, whatever else it carries.
    static func decode(_ line: ByteBuffer) throws(GatewayError) -> Self
    /// Ollama's last line (`done: true`).
    var isLast: Bool { get }
}

extension OllamaChatChunk: OllamaStreamLine {
    static func decode(_ line: ByteBuffer) throws(GatewayError) -> OllamaChatChunk {
        try OllamaClient.decodeLine(line, as: OllamaChatChunk.self, error: \.error)
    }

    var isLast: Bool { done }
}

/// One line of Ollama's streamed chat as the relay hands it on. Nearly every line carries one token
/// of answer text or of thinking and nothing else a client needs: such a line keeps the token as the
/// JSON string Ollama wrote, so that a surface can copy it into its own event instead of decoding and
/// encoding it again. Every other line (tool calls, the last line) is decoded whole.
enum OllamaChatLine: OllamaStreamLine {
    /// A plain token of answer text: the content's JSON string, quotes and escapes as Ollama wrote
    /// them (see `OllamaChatChunkDecoder.plainLine(_:)`).
    case text(ByteBuffer)
    /// A plain token of thinking (the content empty): the thinking's JSON string.
    case thinking(ByteBuffer)
    case chunk(OllamaChatChunk)

    static func decode(_ line: ByteBuffer) throws(GatewayError) -> OllamaChatLine {
        if let plain = OllamaChatChunkDecoder.plainLine(line) { return plain }
        return .chunk(try OllamaChatChunk.decode(line))
    }

    var isLast: Bool {
        if case .chunk(let chunk) = self { chunk.done } else { false }
    }

    /// The line decoded, for whoever reads it whole.
    var chunk: OllamaChatChunk {
        switch self {
        case .chunk(let chunk):
            return chunk
        case .text(let text):
            return OllamaChatChunk(message: OllamaMessage(role: "assistant", content: Self.string(text)))
        case .thinking(let thinking):
            return OllamaChatChunk(message: OllamaMessage(role: "assistant", content: "", thinking: Self.string(thinking)))
        }
    }

    /// A plain token of answer text with no text (Ollama sends some, e.g. before a tool call).
    var isEmptyText: Bool {
        if case .text(let text) = self { text.readableBytes == 2 } else { false }
    }

    /// The scanner accepted exactly the strings the reader reads.
    private static func string(_ json: ByteBuffer) -> String {
        json.withUnsafeReadableBytes { bytes in
            var index = 0
            return JSONStringReader.read(bytes, at: &index) ?? ""
        }
    }
}

extension OllamaGenerateChunk: OllamaStreamLine {
    static func decode(_ line: ByteBuffer) throws(GatewayError) -> OllamaGenerateChunk {
        try OllamaClient.decodeLine(line, as: OllamaGenerateChunk.self, error: \.error)
    }

    var isLast: Bool { done }
}

/// A line as the native API relays it: the bytes as Ollama sent them, and their JSON object.
struct OllamaRawLine: OllamaStreamLine {
    var raw: ByteBuffer
    var object: [String: JSONValue]

    static func decode(_ line: ByteBuffer) throws(GatewayError) -> OllamaRawLine {
        guard case .object(let object)? = try? JSONWire.value(from: line) else {
            throw GatewayError(.upstreamError, "Ollama sent a line the gateway cannot read.", code: "upstream_invalid")
        }
        if let message = object["error"]?.stringValue {
            throw GatewayError(.upstreamError, message, code: "upstream_error")
        }
        return OllamaRawLine(raw: line, object: object)
    }

    var isLast: Bool { object["done"]?.boolValue == true }
}

/// Ollama's streamed answer, decoded: each element is the lines of one read from the connection (at
/// least one). Ollama under load (and the simulator) sends many lines per read; handing them on
/// together lets the relay write them together. Ends after the last line; a body that ends before
/// it, an error line and a transport failure are thrown as `GatewayError`s — after the lines that
/// came before them. Dropping the iterator (or cancelling the task reading it) cancels the request.
struct OllamaLineStream<Line: OllamaStreamLine>: AsyncSequence, Sendable {
    typealias Element = [Line]
    let body: HTTPClientResponse.Body
    let client: OllamaClient

    struct AsyncIterator: AsyncIteratorProtocol {
        var body: HTTPClientResponse.Body.AsyncIterator
        let client: OllamaClient
        var lines = NDJSONLineSplitter()
        var bodyEnded = false
        var finished = false
        var pending: GatewayError?

        mutating func next() async throws -> [Line]? {
            if finished { return nil }
            if let pending {
                finished = true
                throw pending
            }
            while true {
                if !bodyEnded {
                    let buffer: ByteBuffer?
                    do {
                        buffer = try await body.next()
                    } catch {
                        finished = true
                        throw client.translate(error)
                    }
                    if let buffer { lines.append(buffer) } else { bodyEnded = true }
                }
                if let batch = try decodeLines() { return batch }
            }
        }

        /// The whole lines read so far, decoded; nil when none has come whole yet.
        ///
        /// Synchronous and never inlined into `next`: inlined, the decoders' temporaries became part
        /// of `next`'s async frame (2.8 KB), which every open stream holds while it waits for Ollama.
        @inline(never)
        private mutating func decodeLines() throws(GatewayError) -> [Line]? {
            var batch: [Line] = []
            while let line = lines.nextLine() ?? (bodyEnded ? lines.finish() : nil) {
                do throws(GatewayError) {
                    let decoded = try Line.decode(line)
                    batch.append(decoded)
                    if decoded.isLast {
                        finished = true
                        break
                    }
                } catch {
                    pending = error
                    break
                }
            }
            if !batch.isEmpty { return batch }
            if let pending {
                finished = true
                throw pending
            }
            if bodyEnded {
                finished = true
                throw GatewayError(.upstreamError, "Ollama ended the stream before it was done.", code: "upstream_incomplete")
            }
            return nil
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(body: body.makeAsyncIterator(), client: client)
    }
}

extension OllamaClient {
    /// Decodes one line of a stream; an `{"error"}` line ends the stream, whatever else it carries.
    static func decodeLine<Line: Decodable>(_ line: ByteBuffer, as type: Line.Type, error: KeyPath<Line, String?>)
        throws(GatewayError) -> Line
    {
        let decoded: Line
        do {
            // Chat lines, one per streamed token, take the direct reader; it leaves anything unusual to JSONDecoder.
            if Line.self == OllamaChatChunk.self, let chunk = OllamaChatChunkDecoder.decode(line) {
                decoded = chunk as! Line
            } else {
                decoded = try JSONWire.decode(type, from: line)
            }
        } catch {
            throw GatewayError(.upstreamError, "Ollama sent a line the gateway cannot read.", code: "upstream_invalid")
        }
        if let message = decoded[keyPath: error] {
            throw GatewayError(.upstreamError, message, code: "upstream_error")
        }
        return decoded
    }

    /// A streamed request's lines, once Ollama has answered with a success status (which must happen
    /// by `deadline`; the body is the relay's to time).
    func streamLines<Line: OllamaStreamLine>(
        _ path: String, body: ByteBuffer, as: Line.Type, deadline: NIODeadline, model: String? = nil,
        conversation: () -> UInt64? = { nil }
    ) async throws -> OllamaLineStream<Line> {
        let response = try await send(.POST, path, body: body, deadline: deadline, model: model, conversation: conversation)
        return OllamaLineStream(body: response.body, client: self)
    }
}
