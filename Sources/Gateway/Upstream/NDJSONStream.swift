import AsyncHTTPClient
import Foundation
import GatewayAPI
import NIOCore

extension OllamaClient {
    /// Reads the NDJSON body of a streamed answer line by line, whatever its chunk boundaries, until
    /// `handle` says a line was the last one. Every read counts as activity for the idle timeout.
    /// A body that ends before its last line is an upstream failure.
    func forEachLine(
        of response: HTTPClientResponse, activity: UpstreamActivity, _ handle: (ByteBuffer) async throws -> Bool
    ) async throws {
        var lines = NDJSONLineSplitter()
        var body = response.body.makeAsyncIterator()
        while true {
            let buffer: ByteBuffer?
            do {
                buffer = try await body.next()
            } catch {
                throw translate(error)
            }
            guard let buffer else { break }
            activity.touch()
            lines.append(buffer)
            while let line = lines.nextLine() {
                if try await handle(line) { return }
            }
        }
        if let line = lines.finish(), try await handle(line) { return }
        throw GatewayError(.upstreamError, "Ollama ended the stream before it was done.", code: "upstream_incomplete")
    }

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
