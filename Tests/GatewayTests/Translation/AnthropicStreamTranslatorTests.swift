import Foundation
import GatewayAPI
import NIOCore
import Testing

@testable import Gateway

/// Checks a whole event sequence against Anthropic's grammar: `message_start`, then blocks indexed
/// 0, 1, 2… each `content_block_start`, deltas of its own kind, `content_block_stop` (one open at a
/// time, no empty text block, thinking ended by a signature), then `message_delta`, `message_stop`.
func checkAnthropicGrammar(_ events: [AnthropicStreamEvent], sourceLocation: SourceLocation = #_sourceLocation) {
    var expectedIndex = 0
    var open: (index: Int, type: String, sawContent: Bool, sawSignature: Bool)?
    var stage = 0  // 0: before start, 1: blocks, 2: after message_delta, 3: after message_stop
    for event in events {
        switch event {
        case .ping:
            #expect(stage == 1, "ping outside the message", sourceLocation: sourceLocation)
        case .messageStart(let message):
            #expect(stage == 0, sourceLocation: sourceLocation)
            #expect(message.content.isEmpty && message.stopReason == nil, sourceLocation: sourceLocation)
            stage = 1
        case .contentBlockStart(let index, let block):
            #expect(stage == 1 && open == nil && index == expectedIndex, "block \(index) opened out of order", sourceLocation: sourceLocation)
            open = (index, block.type, false, false)
            switch block {
            case .text(let text): #expect(text.isEmpty, sourceLocation: sourceLocation)
            case .thinking(let thinking, let signature): #expect(thinking.isEmpty && signature.isEmpty, sourceLocation: sourceLocation)
            case .toolUse(let id, _, let input):
                #expect(id.hasPrefix("toolu_") && input.isEmpty, sourceLocation: sourceLocation)
            }
        case .contentBlockDelta(let index, let delta):
            #expect(open?.index == index, "delta for a block that is not open", sourceLocation: sourceLocation)
            switch delta {
            case .text(let text):
                #expect(open?.type == "text" && !text.isEmpty, sourceLocation: sourceLocation)
                open?.sawContent = true
            case .thinking(let text):
                #expect(open?.type == "thinking" && open?.sawSignature == false && !text.isEmpty, sourceLocation: sourceLocation)
                open?.sawContent = true
            case .signature:
                #expect(open?.type == "thinking", sourceLocation: sourceLocation)
                open?.sawSignature = true
            case .inputJSON:
                #expect(open?.type == "tool_use", sourceLocation: sourceLocation)
                open?.sawContent = true
            }
        case .contentBlockStop(let index):
            #expect(open?.index == index, sourceLocation: sourceLocation)
            if open?.type == "text" { #expect(open?.sawContent == true, "empty text block", sourceLocation: sourceLocation) }
            if open?.type == "thinking" { #expect(open?.sawSignature == true, "thinking without signature", sourceLocation: sourceLocation) }
            open = nil
            expectedIndex += 1
        case .messageDelta(let reason, _, _):
            #expect(stage == 1 && open == nil && reason != nil, sourceLocation: sourceLocation)
            stage = 2
        case .messageStop:
            #expect(stage == 2, sourceLocation: sourceLocation)
            stage = 3
        case .error:
            Issue.record("unexpected error event", sourceLocation: sourceLocation)
        }
    }
    #expect(stage == 3, "the stream did not end with message_stop", sourceLocation: sourceLocation)
}

@Suite("Ollama chat stream → Anthropic events")
struct AnthropicStreamTranslatorTests {
    func style(exclude: Bool = false, stops: [String] = []) -> AnthropicResponseStyle {
        AnthropicResponseStyle(model: "asked-name", excludeReasoning: exclude, stopSequences: stops, estimatedInputTokens: 9, id: "msg_test")
    }

    func line(content: String = "", thinking: String? = nil, calls: [OllamaToolCall]? = nil, done: Bool = false,
        reason: String? = nil) -> OllamaChatChunk
    {
        OllamaChatChunk(
            model: "upstream", message: OllamaMessage(role: "assistant", content: content, thinking: thinking, toolCalls: calls),
            done: done, doneReason: reason,
            metrics: done ? OllamaMetrics(promptEvalCount: 11, evalCount: 5) : OllamaMetrics())
    }

    func run(_ lines: [OllamaChatChunk], style: AnthropicResponseStyle) -> [AnthropicStreamEvent] {
        var translator = AnthropicStreamTranslator(style: style)
        return [translator.start()] + lines.flatMap { translator.translate($0) }
    }

    func accumulate(_ events: [AnthropicStreamEvent]) throws -> AnthropicMessageResponse {
        var accumulator = AnthropicMessageAccumulator()
        for event in events { accumulator.apply(event) }
        return try #require(accumulator.message)
    }

    func call(_ name: String, _ arguments: [String: JSONValue] = [:]) -> OllamaToolCall {
        OllamaToolCall(function: .init(name: name, arguments: arguments))
    }

    @Test func plainText() throws {
        let events = run([line(content: "Hel"), line(content: "lo"), line(done: true, reason: "stop")], style: style())
        checkAnthropicGrammar(events)
        #expect(events.map(\.type) == [
            "message_start", "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
            "message_delta", "message_stop",
        ])
        guard case .messageStart(let start) = events[0] else { return }
        #expect(start.id == "msg_test" && start.model == "asked-name" && start.usage == AnthropicUsage(inputTokens: 9, outputTokens: 0))
        #expect(events[5] == .messageDelta(
            stopReason: "end_turn", stopSequence: nil, usage: AnthropicDeltaUsage(inputTokens: 11, outputTokens: 5)))
        let message = try accumulate(events)
        #expect(message.content == [.text("Hello")])
        #expect(message.usage == AnthropicUsage(inputTokens: 11, outputTokens: 5))
    }

    @Test func thinkingThenTextThenSeveralToolCalls() throws {
        let events = run([
            line(thinking: "Let me "), line(thinking: "think."), line(content: "I'll", thinking: " Done."), line(content: " call."),
            line(calls: [call("a", ["x": 1]), call("b", ["y": ["z": true]])]), line(calls: [call("c")]),
            line(done: true, reason: "stop"),
        ], style: style())
        checkAnthropicGrammar(events)
        let message = try accumulate(events)
        #expect(message.content.map(\.type) == ["thinking", "text", "tool_use", "tool_use", "tool_use"])
        #expect(message.content[0] == .thinking(
            thinking: "Let me think. Done.", signature: AnthropicThinkingSignature.make(for: "Let me think. Done.")))
        #expect(message.content[1] == .text("I'll call."))
        guard case .toolUse(let idA, "a", let inputA) = message.content[2], case .toolUse(let idB, "b", let inputB) = message.content[3],
            case .toolUse(_, "c", let inputC) = message.content[4]
        else {
            Issue.record("tool_use blocks out of order: \(message.content)")
            return
        }
        #expect(idA != idB)
        #expect(inputA == ["x": 1] && inputB == ["y": ["z": true]] && inputC == [:])
        #expect(message.stopReason == "tool_use")
        // The JSON pieces are the arguments' compact text.
        #expect(events.contains(.contentBlockDelta(index: 2, delta: .inputJSON(#"{"x":1}"#))))
        #expect(events.contains(.contentBlockDelta(index: 4, delta: .inputJSON("{}"))))
    }

    /// A tool call's input that does not parse keeps its text rather than becoming `{}`: a tool run
    /// with no arguments would fail silently.
    @Test func unparseableToolInputKeepsItsText() throws {
        let start = AnthropicStreamEvent.messageStart(AnthropicMessageResponse(id: "msg_x", model: "m"))
        func input(_ pieces: [String]) throws -> [String: JSONValue]? {
            let events: [AnthropicStreamEvent] =
                [start, .contentBlockStart(index: 0, block: .toolUse(id: "toolu_1", name: "f", input: [:]))]
                + pieces.map { .contentBlockDelta(index: 0, delta: .inputJSON($0)) } + [.contentBlockStop(index: 0)]
            guard case .toolUse(_, _, let input) = try accumulate(events).content.first else { return nil }
            return input
        }
        #expect(try input([#"{"city":"#, #""Paris","n":1}"#]) == ["city": "Paris", "n": 1])
        #expect(try input([#"{"city": Paris"#]) == ["_raw": #"{"city": Paris"#])
        #expect(try input(["[1,2]"]) == ["_raw": "[1,2]"])
    }

    @Test func toolCallsOnTheDoneLine() throws {
        let events = run([line(content: "Calling."), line(calls: [call("f")], done: true, reason: "stop")], style: style())
        checkAnthropicGrammar(events)
        #expect(try accumulate(events).stopReason == "tool_use")
    }

    @Test func emptyPiecesOpenNoBlock() throws {
        let events = run([line(content: ""), line(content: "", thinking: ""), line(done: true, reason: "stop")], style: style())
        checkAnthropicGrammar(events)
        #expect(try accumulate(events).content.isEmpty)
    }

    @Test func lengthIsMaxTokens() throws {
        let events = run([line(thinking: "long"), line(done: true, reason: "length")], style: style())
        checkAnthropicGrammar(events)
        let message = try accumulate(events)
        #expect(message.stopReason == "max_tokens")
        #expect(message.content.map(\.type) == ["thinking"])
    }

    @Test func excludedReasoningSendsNoThinkingBlock() throws {
        let events = run([line(thinking: "secret"), line(content: "<think>more</think>ok"), line(done: true)], style: style(exclude: true))
        checkAnthropicGrammar(events)
        #expect(try accumulate(events).content == [.text("ok")])
    }

    @Test func omittedThinkingKeepsItsBlockAndSignatureWithoutText() throws {
        var omitted = style()
        omitted.omitThinking = true
        let events = run([line(thinking: "Let me "), line(content: "Hi", thinking: "think."), line(done: true, reason: "stop")],
            style: omitted)
        checkAnthropicGrammar(events)
        #expect(!events.contains { if case .contentBlockDelta(_, .thinking) = $0 { true } else { false } })
        let message = try accumulate(events)
        #expect(message.content == [
            .thinking(thinking: "", signature: AnthropicThinkingSignature.make(for: "Let me think.")), .text("Hi"),
        ])
    }

    @Test func usageReportsCacheCountersAsZero() throws {
        let wire = String(buffer: JSONWire.encode(AnthropicUsage(inputTokens: 3, outputTokens: 4)))
        #expect(wire.contains(#""cache_creation_input_tokens":0"#) && wire.contains(#""cache_read_input_tokens":0"#))
    }

    @Test func thinkTagsInContentBecomeThinking() throws {
        let pieces = ["  <thi", "nk>I rea", "son</th", "ink>", "\n\nThe ans", "wer"]
        let events = run(pieces.map { line(content: $0) } + [line(done: true)], style: style())
        checkAnthropicGrammar(events)
        let message = try accumulate(events)
        #expect(message.content.map(\.type) == ["thinking", "text"])
        #expect(message.content[0] == .thinking(thinking: "I reason", signature: AnthropicThinkingSignature.make(for: "I reason")))
        #expect(message.content[1] == .text("The answer"))
    }

    @Test func stopSequenceSplitAcrossPiecesEndsTheAnswer() throws {
        var translator = AnthropicStreamTranslator(style: style(stops: ["STOP", "never"]))
        var events = [translator.start()]
        for piece in ["Hello S", "TO", "P and more"] {
            events += translator.translate(line(content: piece))
        }
        #expect(translator.finished)
        #expect(translator.translate(line(content: "late")).isEmpty)
        checkAnthropicGrammar(events)
        let message = try accumulate(events)
        #expect(message.content == [.text("Hello ")])
        #expect(message.stopReason == "stop_sequence" && message.stopSequence == "STOP")
        // Ollama never reported its counts: the estimate stays, output counts the lines seen.
        #expect(message.usage == AnthropicUsage(inputTokens: 9, outputTokens: 3))
    }

    @Test func earliestStopSequenceWins() throws {
        let events = run([line(content: "a b c d"), line(done: true)], style: style(stops: ["d", "b c", "c"]))
        let message = try accumulate(events)
        #expect(message.content == [.text("a ")])
        #expect(message.stopSequence == "b c")
    }

    @Test func heldBackPrefixIsReleasedWhenItIsNotAStop() throws {
        let events = run([line(content: "Hello S"), line(content: "T"), line(calls: [call("f")]), line(done: true)],
            style: style(stops: ["STOP"]))
        checkAnthropicGrammar(events)
        let message = try accumulate(events)
        #expect(message.content.map(\.type) == ["text", "tool_use"])
        #expect(message.content[0] == .text("Hello ST"))
        #expect(message.stopSequence == nil && message.stopReason == "tool_use")
        let atEnd = try accumulate(run([line(content: "S"), line(done: true)], style: style(stops: ["STOP"])))
        #expect(atEnd.content == [.text("S")])
    }

    @Test func stopSequenceAtTheVeryStartGivesNoTextBlock() throws {
        let events = run([line(thinking: "hm"), line(content: "STOP now")], style: style(stops: ["STOP"]))
        checkAnthropicGrammar(events)
        let message = try accumulate(events)
        #expect(message.content.map(\.type) == ["thinking"])
        #expect(message.stopReason == "stop_sequence")
    }

    @Test func streamAccumulatesToTheNonStreamedMessage() throws {
        let lines = [
            line(thinking: "plan"), line(content: "Answer: ", thinking: " ok"), line(content: "42"),
            line(calls: [call("f", ["n": 1])]), line(done: true, reason: "stop"),
        ]
        let streamed = try accumulate(run(lines, style: style()))
        // The same answer as Ollama gives it without streaming: one object.
        let whole = OllamaChatChunk(
            model: "upstream",
            message: OllamaMessage(role: "assistant", content: "Answer: 42", thinking: "plan ok", toolCalls: [call("f", ["n": 1])]),
            done: true, doneReason: "stop", metrics: OllamaMetrics(promptEvalCount: 11, evalCount: 5))
        let single = AnthropicResponseTranslator.message(from: whole, style: style())
        #expect(normalizedIDs(streamed) == normalizedIDs(single))
    }

    @Test func wireFormatOfEvents() throws {
        let encoded = String(buffer: AnthropicStreamAdapter.encode([
            .contentBlockStart(index: 0, block: .toolUse(id: "toolu_1", name: "f", input: [:])),
            .contentBlockDelta(index: 0, delta: .inputJSON("{}")),
            .messageDelta(stopReason: "end_turn", stopSequence: nil, usage: AnthropicDeltaUsage(outputTokens: 3)),
            .ping,
        ]))
        // Key order is the encoder's: compare each frame's event name and JSON.
        let frames = encoded.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        let expected: [(String, JSONValue)] = [
            ("content_block_start", ["type": "content_block_start", "index": 0,
                "content_block": ["type": "tool_use", "id": "toolu_1", "name": "f", "input": [:]]]),
            ("content_block_delta", ["type": "content_block_delta", "index": 0,
                "delta": ["type": "input_json_delta", "partial_json": "{}"]]),
            ("message_delta", ["type": "message_delta", "delta": ["stop_reason": "end_turn", "stop_sequence": .null],
                "usage": ["output_tokens": 3]]),
            ("ping", ["type": "ping"]),
        ]
        #expect(encoded.hasSuffix("\n\n"))
        try #require(frames.count == expected.count)
        for (frame, (name, json)) in zip(frames, expected) {
            let lines = frame.split(separator: "\n", omittingEmptySubsequences: false)
            #expect(lines.count == 2)
            #expect(lines[0] == "event: \(name)")
            #expect(lines[1].hasPrefix("data: "))
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(lines[1].dropFirst(6).utf8)) == json)
        }
    }

    // MARK: - Upstream bytes: lines split anywhere, errors anywhere

    static let upstreamBody: String = [
        #"{"model":"m","message":{"role":"assistant","content":"","thinking":"Weighing é "},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant","content":"Sure ✓","thinking":"options."},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant","content":", calling."},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant","content":"","tool_calls":[{"function":{"index":0,"name":"a","arguments":{"q":"é"}}},{"function":{"index":1,"name":"b","arguments":{}}}]},"done":false}"#,
        #"{"model":"m","message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","prompt_eval_count":20,"eval_count":12}"#,
    ].joined(separator: "\n") + "\n"

    /// Feeds upstream bytes in the given pieces through the line splitter and the translator.
    func relay(_ pieces: [ByteBuffer], style: AnthropicResponseStyle) throws(GatewayError) -> [AnthropicStreamEvent] {
        var translator = AnthropicStreamTranslator(style: style)
        var lines = NDJSONLineSplitter()
        var events = [translator.start()]
        for piece in pieces {
            lines.append(piece)
            while let line = lines.nextLine() {
                events += try AnthropicStreamAdapter.translate(line, translator: &translator)
            }
        }
        if let line = lines.finish() { events += try AnthropicStreamAdapter.translate(line, translator: &translator) }
        return events
    }

    @Test func linesSplitAnywhereGiveTheSameEvents() throws {
        let bytes = Array(Self.upstreamBody.utf8)
        let whole = try normalizedIDs(accumulate(relay([ByteBuffer(bytes: bytes)], style: style())))
        #expect(whole.content.map(\.type) == ["thinking", "text", "tool_use", "tool_use"])
        #expect(whole.usage == AnthropicUsage(inputTokens: 20, outputTokens: 12))
        for cut in 1..<bytes.count {
            let events = try relay([ByteBuffer(bytes: bytes[..<cut]), ByteBuffer(bytes: bytes[cut...])], style: style())
            checkAnthropicGrammar(events)
            #expect(try normalizedIDs(accumulate(events)) == whole, "cut at \(cut)")
        }
        // And one byte at a time.
        let bytewise = try relay(bytes.map { ByteBuffer(bytes: [$0]) }, style: style())
        #expect(try normalizedIDs(accumulate(bytewise)) == whole)
    }

    @Test func anErrorLineAtAnyPointFailsTheStream() throws {
        let lines = Self.upstreamBody.split(separator: "\n").map(String.init)
        for position in 0...lines.count - 1 {
            var body = lines[..<position].joined(separator: "\n")
            body += (position > 0 ? "\n" : "") + #"{"error":"model runner has unexpectedly stopped"}"# + "\n"
            do {
                let events = try relay([ByteBuffer(string: body)], style: style())
                Issue.record("no failure with the error at line \(position): \(events.map(\.type))")
            } catch {
                #expect(error.kind == .upstreamError)
                #expect(error.message == "model runner has unexpectedly stopped")
            }
        }
    }

    @Test func unreadableLineFailsTheStream() {
        #expect(throws: GatewayError.self) { try relay([ByteBuffer(string: "{\"message\":\n")], style: style()) }
    }

    @Test func errorEventFormat() throws {
        let renderer = AnthropicErrorRenderer()
        let event = String(buffer: renderer.streamEvent(for: GatewayError(.upstreamError, "boom")))
        #expect(event.hasPrefix("event: error\ndata: ") && event.hasSuffix("}\n\n"))
        let data = event.dropFirst("event: error\ndata: ".count).dropLast(2)
        #expect(try JSONDecoder().decode(JSONValue.self, from: Data(data.utf8))
            == ["type": "error", "error": ["type": "api_error", "message": "boom"]])
    }

    @Test("error kinds → Anthropic status and type", arguments: [
        (GatewayError.Kind.invalidRequest, 400, "invalid_request_error"), (.authentication, 401, "authentication_error"),
        (.permission, 403, "permission_error"), (.notFound, 404, "not_found_error"), (.payloadTooLarge, 413, "request_too_large"),
        (.rateLimited, 429, "rate_limit_error"), (.internalError, 500, "api_error"), (.upstreamUnavailable, 502, "api_error"),
        (.upstreamError, 502, "api_error"), (.timeout, 504, "timeout_error"), (.overloaded, 529, "overloaded_error"),
    ])
    func errorMapping(kind: GatewayError.Kind, status: Int, type: String) throws {
        let response = AnthropicErrorRenderer().response(for: GatewayError(kind, "message"))
        #expect(response.status.code == status)
        #expect(response.headers[.contentType] == "application/json")
        #expect(AnthropicErrorRenderer.type(of: kind) == type)
    }

    // MARK: - Non-streamed answers on golden fixtures

    static let responseFixtures = (try? Fixtures.names(in: "anthropic-response", suffix: ".ollama.json")) ?? []

    @Test("golden response", arguments: responseFixtures)
    func goldenResponse(name: String) throws {
        let answer = try JSONDecoder().decode(OllamaChatChunk.self, from: Fixtures.data("anthropic-response/\(name).ollama.json"))
        let message = AnthropicResponseTranslator.message(from: answer, style: style())
        #expect(try jsonTree(normalizedIDs(message)) == Fixtures.json("anthropic-response/\(name).message.json"))
    }

    @Test func responseFixturesArePresent() {
        #expect(Self.responseFixtures.count >= 6)
    }
}

/// Tool-use ids are random: compare messages with every id replaced by `toolu_X`.
func normalizedIDs(_ message: AnthropicMessageResponse) -> AnthropicMessageResponse {
    var message = message
    message.content = message.content.map { block in
        if case .toolUse(let id, let name, let input) = block, id.hasPrefix("toolu_") {
            return .toolUse(id: "toolu_X", name: name, input: input)
        }
        return block
    }
    return message
}
