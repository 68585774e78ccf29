import AsyncHTTPClient
import GatewayAPI
import Hummingbird
import Logging
import NIOCore

/// Relays Ollama's NDJSON chat stream to the client as Responses API events, driving
/// `ResponsesStreamTranslator`, and stores the finished response.
///
/// The same shape as the chat route's relay (deadline, idle timeout, accounting, a terminal event
/// for every failure after the first byte); all it adds is the storage of the final response. The
/// translator is the whole of the Responses-specific streaming logic.
struct ResponsesStreamRelay: Sendable {
    let upstream: OllamaClient
    let translator: ResponsesStreamTranslator
    let storage: ResponseStorage
    let ticket: RequestTicket?
    let logger: Logger

    /// The SSE frames of some events: `event: <type>` and the event as `data`.
    static func encode(_ events: [ResponseStreamEvent], into output: inout ByteBuffer) {
        for event in events {
            output.writeImmutableBuffer(ServerSentEvents.event(event.type, JSONWire.encode(event)))
        }
    }

    /// Writes the stream; a failure after the first byte ends it with `response.failed`. Errors thrown
    /// from here mean the client went away.
    func run(response: HTTPClientResponse, writer: inout any ResponseBodyWriter, deadline: Duration, idle: Duration)
        async throws
    {
        var translator = translator
        var start = ByteBuffer()
        Self.encode(translator.start(), into: &start)
        try await writer.write(start)
        do {
            try await withDeadlines(overall: deadline, idle: idle) { activity in
                try await upstream.relayLines(of: response, activity: activity, to: &writer) { line, output in
                    try relay(line, translator: &translator, into: &output)
                }
            }
            ticket?.finish(status: 200)
        } catch let error as GatewayError {
            ticket?.finish(status: 200, error: error)
            var failure = ByteBuffer()
            Self.encode(translator.fail(error), into: &failure)
            await save(translator.response)
            try await writer.write(failure)
            return
        }
        await save(translator.response)
    }

    /// Converts one upstream line into events; true when it was the last.
    private func relay(_ line: ByteBuffer, translator: inout ResponsesStreamTranslator, into output: inout ByteBuffer)
        throws -> Bool
    {
        let chunk = try OllamaClient.decodeLine(line, as: OllamaChatChunk.self, error: \.error)
        if chunk.done {
            ticket?.setTokens(prompt: chunk.metrics.promptEvalCount ?? 0, completion: chunk.metrics.evalCount ?? 0)
        }
        let events = translator.translate(chunk)
        Self.encode(events, into: &output)
        if events.contains(where: { $0.type.hasSuffix(".delta") }) {
            ticket?.markFirstToken()
            if !chunk.done { ticket?.noteProduced() }
        }
        return chunk.done
    }

    /// The stream's status is sent: a storage failure can only be logged.
    private func save(_ response: ResponseObject) async {
        do {
            try await storage.save(response)
        } catch {
            logger.error("storing a response failed", metadata: ["response.id": "\(response.id)", "error": "\(error)"])
        }
    }
}
