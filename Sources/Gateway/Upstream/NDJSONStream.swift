import AsyncHTTPClient
import Foundation
import GatewayAPI
import Hummingbird
import NIOCore

extension OllamaClient {
    /// Relays the NDJSON body of a streamed answer: `convert` turns each complete line, whatever the
    /// chunk boundaries, into what the client gets (appending it to the buffer) and says whether that
    /// line was the last. Lines that arrive together go out together: Ollama under load (and the
    /// simulator) sends many lines per read, and a write per token would cost a flush and a syscall
    /// each. The first token is written at once, later ones in writes of up to `batchBytes`, so a
    /// large read never holds back what is ready. Every read counts as activity for the idle
    /// timeout. A body that ends before its last line is an upstream failure.
    func relayLines(
        of response: HTTPClientResponse, activity: UpstreamActivity, to writer: inout any ResponseBodyWriter,
        _ convert: (ByteBuffer, inout ByteBuffer) throws -> Bool
    ) async throws {
        var lines = NDJSONLineSplitter()
        var body = response.body.makeAsyncIterator()
        var output = ByteBuffer()
        var flushAt = 1
        func flush() async throws {
            guard output.readableBytes > 0 else { return }
            try await writer.write(output)
            output = ByteBuffer()
            flushAt = Self.batchBytes
        }
        while true {
            let buffer: ByteBuffer?
            do {
                buffer = try await body.next()
            } catch {
                throw translate(error)
            }
            if let buffer {
                activity.touch()
                lines.append(buffer)
            }
            var finished = false
            do {
                while !finished, let line = lines.nextLine() ?? (buffer == nil ? lines.finish() : nil) {
                    finished = try convert(line, &output)
                    if output.readableBytes >= flushAt { try await flush() }
                }
            } catch {
                // What the lines before the failing one produced still reaches the client.
                try await flush()
                throw error
            }
            try await flush()
            if finished { return }
            if buffer == nil {
                throw GatewayError(.upstreamError, "Ollama ended the stream before it was done.", code: "upstream_incomplete")
            }
        }
    }

    /// How much relayed output is gathered into one write at most.
    static let batchBytes = 16 * 1024

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
}
