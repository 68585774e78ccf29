import Foundation
import GatewayAPI
import NIOCore
import NIOFoundationCompat
import Testing

@testable import Gateway

/// The hand-written encoder and decoder of the streaming hot path must agree with Foundation's.
@Suite struct JSONWireFastPathTests {
    static let chunks: [ChatCompletionChunk] = [
        ChatCompletionChunk(id: "chatcmpl-a", created: 1, model: "m", choices: [.init(delta: ChatDelta(role: "assistant", content: ""))]),
        ChatCompletionChunk(
            id: "chatcmpl-a", created: 1, model: "m/x:1",
            choices: [.init(delta: ChatDelta(content: "quote \" backslash \\ newline \n tab \t é 😀 </script> \u{01}"))]),
        ChatCompletionChunk(
            id: "chatcmpl-a", created: 1, model: "m",
            choices: [.init(delta: ChatDelta(reasoningContent: "why", reasoning: "why"))]),
        ChatCompletionChunk(
            id: "chatcmpl-a", created: 1, model: "m",
            choices: [.init(delta: ChatDelta(toolCalls: [
                ChatToolCallDelta(index: 2, id: "call_1", function: .init(name: "f", arguments: #"{"a":[1,2]}"#))
            ]))]),
        ChatCompletionChunk(id: "chatcmpl-a", created: 1, model: "m", choices: [.init(delta: ChatDelta(), finishReason: "length")]),
        ChatCompletionChunk(
            id: "chatcmpl-a", created: 1, model: "m", choices: [], usage: CompletionUsage(promptTokens: 3, completionTokens: 4)),
    ]

    func tree(_ buffer: ByteBuffer) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: buffer)
    }

    @Test func chunksEncodeAsFoundationDoes() throws {
        for chunk in Self.chunks {
            #expect(try tree(JSONWire.encode(chunk)) == jsonTree(chunk))
        }
    }

    @Test func responsesEncodeAsFoundationDoes() throws {
        let response = ChatCompletionResponse(
            id: "chatcmpl-b", created: 2, model: "m",
            choices: [.init(
                message: ChatResponseMessage(
                    content: nil, reasoningContent: "r \"q\"",
                    toolCalls: [ChatToolCall(id: "call_x", function: .init(name: "g", arguments: "{}"))]),
                finishReason: "tool_calls")],
            usage: CompletionUsage(promptTokens: 1, completionTokens: 2))
        #expect(try tree(JSONWire.encode(response)) == jsonTree(response))
    }

    @Test("Anthropic stream events encode as Foundation does", arguments: [
        AnthropicStreamEvent.contentBlockDelta(index: 0, delta: .text("quote \" backslash \\ newline \n é 😀 \u{01}")),
        .contentBlockDelta(index: 1, delta: .thinking("hmm")),
        .contentBlockDelta(index: 1, delta: .signature("c2ln")),
        .contentBlockDelta(index: 2, delta: .inputJSON(#"{"a":"#)),
        .contentBlockStop(index: 3),
        .messageStop,
        .ping,
        .messageDelta(stopReason: "end_turn", stopSequence: nil, usage: AnthropicDeltaUsage(outputTokens: 5)),
    ])
    func anthropicEventsEncode(event: AnthropicStreamEvent) throws {
        var buffer = ByteBuffer(string: "prefix")
        JSONBufferWriter.append(to: &buffer) { $0.write(event) }
        #expect(buffer.readString(length: 6) == "prefix")
        #expect(try tree(buffer) == jsonTree(event))
    }

    @Test func eventsAppendInPlace() throws {
        var output = ByteBuffer()
        let chunk = Self.chunks[1]
        ServerSentEvents.appendData(to: &output) { $0.write(chunk) }
        ServerSentEvents.appendEvent("ping", to: &output) { $0.write(AnthropicStreamEvent.ping) }
        let expected = ServerSentEvents.data(JSONWire.encode(chunk))
        #expect(output.readSlice(length: expected.readableBytes) == expected)
        #expect(String(buffer: output) == "event: ping\ndata: {\"type\":\"ping\"}\n\n")
    }

    @Test("lines decode as Foundation decodes them", arguments: [
        #"{"model":"m","created_at":"2026-01-01T00:00:00.1Z","message":{"role":"assistant","content":"Hi \"there\" \u00e9\n"},"done":false}"#,
        #"{"model":"m","created_at":"x","message":{"role":"assistant","content":"","thinking":"hmm"},"done":false}"#,
        #"{"model":"m","created_at":"x","message":{"role":"assistant","content":""},"done":true,"done_reason":"length","total_duration":5,"load_duration":1,"prompt_eval_count":7,"prompt_eval_duration":2,"eval_count":9,"eval_duration":3}"#,
        #"{"error":"model runner has unexpectedly stopped"}"#,
        #"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant","content":"😀 \ud83d\ude00"},"done":false}"#,
    ])
    func linesDecode(line: String) throws {
        let buffer = ByteBuffer(string: line)
        let reference = try JSONDecoder().decode(OllamaChatChunk.self, from: Data(line.utf8))
        // The fast path either reads the line exactly as Foundation does, or leaves it to Foundation.
        if let fast = OllamaChatChunkDecoder.decode(buffer) {
            #expect(fast == reference)
        }
        if reference.error == nil {
            #expect(try OllamaClient.decodeLine(buffer, as: OllamaChatChunk.self, error: \.error) == reference)
        }
    }
}
