import Foundation
import GatewayAPI
import NIOCore
import Testing

@testable import Gateway

/// The adapter the shared relay drives: what it writes for each of the relay's calls, on every way a
/// stream can end.
@Suite("Responses stream adapter")
struct ResponsesStreamAdapterTests {
    func adapter() -> (ResponsesStreamAdapter, ResponseOutcome) {
        let outcome = ResponseOutcome()
        return (ResponsesStreamAdapter(
            translator: ResponsesStreamTranslator(style: ResponsesStreamTranslatorTests.style()), outcome: outcome), outcome)
    }

    func events(_ output: ByteBuffer) -> [(name: String?, type: String?)] {
        SSEEvents(output).events.map { event in
            (event.event, (try? JSONDecoder().decode(JSONValue.self, from: Data(event.data.utf8)))?["type"]?.stringValue)
        }
    }

    @Test func aCompleteStream() {
        var (adapter, outcome) = adapter()
        var output = ByteBuffer()
        adapter.opening(into: &output)
        #expect(adapter.translate(.chunk(ResponsesStreamTranslatorTests.line(content: "Hi")), into: &output) == 1)
        #expect(adapter.translate(.chunk(ResponsesStreamTranslatorTests.line(done: true)), into: &output) == 0)
        adapter.closing(into: &output)
        let events = events(output)
        #expect(events.allSatisfy { $0.name == $0.type })
        #expect(events.first?.type == "response.created" && events.last?.type == "response.completed")
        #expect(adapter.usage?.prompt == 11 && adapter.usage?.completion == 8)
        #expect(outcome.value?.status == "completed")
    }

    /// An Ollama error line, a dropped connection, the idle timeout: the relay calls `failure` with
    /// the error; the stream ends with `response.failed` carrying it, the partial output kept.
    @Test("a failure after the first byte", arguments: [
        GatewayError(.upstreamError, "Ollama: model runner crashed"),
        GatewayError(.upstreamUnavailable, "The connection to Ollama was lost."),
        GatewayError(.timeout, "Ollama sent nothing for 120000 ms."),
    ])
    func failure(error: GatewayError) {
        var (adapter, outcome) = adapter()
        var output = ByteBuffer()
        adapter.opening(into: &output)
        _ = adapter.translate(.chunk(ResponsesStreamTranslatorTests.line(content: "Par")), into: &output)
        adapter.failure(error, into: &output)
        let events = events(output)
        #expect(events.last?.type == "response.failed")
        #expect(events.filter { $0.type == "response.output_item.done" }.count == 1, "the open message is done")
        #expect(outcome.value?.status == "failed")
        #expect(outcome.value?.error?.message == error.message)
        #expect(outcome.value?.outputText == "Par")
    }

    @Test func aStreamThatEndsWithoutDoneStillEnds() {
        var (adapter, outcome) = adapter()
        var output = ByteBuffer()
        adapter.opening(into: &output)
        _ = adapter.translate(.chunk(ResponsesStreamTranslatorTests.line(content: "x")), into: &output)
        adapter.closing(into: &output)
        #expect(events(output).last?.type == "response.failed")
        #expect(outcome.value?.error?.message.contains("before it was done") == true)
    }

    /// A client that leaves: the relay stops calling; nothing is left to say, and nothing is stored
    /// as finished.
    @Test func aClientThatLeavesLeavesNoOutcome() {
        var (adapter, outcome) = adapter()
        var output = ByteBuffer()
        adapter.opening(into: &output)
        _ = adapter.translate(.chunk(ResponsesStreamTranslatorTests.line(content: "x")), into: &output)
        #expect(outcome.value == nil)
    }

    /// The per-token events are written without Foundation's encoder: the same JSON as the encoder's.
    @Test func tokenEventsAreWrittenAsTheEncoderWritesThem() throws {
        let text = "quote \" backslash \\ newline \n tab \t é 😀 </script> \u{01}"
        let events = [
            ResponseStreamEvent(sequenceNumber: 7, kind: .outputTextDelta(itemID: "msg_1", outputIndex: 2, contentIndex: 0, delta: text)),
            ResponseStreamEvent(
                sequenceNumber: 8, kind: .reasoningSummaryTextDelta(itemID: "rs_1", outputIndex: 0, summaryIndex: 1, delta: text)),
        ]
        for event in events {
            var output = ByteBuffer()
            ResponsesStreamAdapter.append([event], to: &output)
            let parsed = SSEEvents(output).events
            #expect(parsed.count == 1 && parsed.first?.event == event.type)
            let written = try JSONDecoder().decode(JSONValue.self, from: Data((parsed.first?.data ?? "").utf8))
            #expect(written == (try JSONDecoder().decode(JSONValue.self, from: JSONWire.encode(event))))
        }
    }
}
