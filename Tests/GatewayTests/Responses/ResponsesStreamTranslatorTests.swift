import Foundation
import GatewayAPI
import Testing

@testable import Gateway

/// Checks a whole event sequence as the OpenAI SDK's `responses.stream()` helper reads it:
/// `response.created` then `response.in_progress`; sequence numbers 0, 1, 2…; items added at output
/// indexes 0, 1, 2… one open at a time, each with its parts and deltas, then done with the same id;
/// exactly one terminal event, last, whose response lists every item that was done.
func checkResponsesGrammar(_ events: [ResponseStreamEvent], sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(events.map(\.sequenceNumber) == Array(0..<events.count), "sequence numbers", sourceLocation: sourceLocation)
    #expect(events.prefix(2).map(\.type) == ["response.created", "response.in_progress"], sourceLocation: sourceLocation)
    #expect(events.filter(\.isTerminal).count == 1 && events.last?.isTerminal == true,
        "one terminal event, last: \(events.map(\.type))", sourceLocation: sourceLocation)
    let id = events.first?.response?.id
    var open: (index: Int, id: String?, type: String, text: String, partOpen: Bool)?
    var done: [ResponseItem] = []
    for event in events.dropFirst(2) {
        switch event.kind {
        case .created, .inProgress:
            Issue.record("lifecycle event after the start", sourceLocation: sourceLocation)
        case .outputItemAdded(let index, let item):
            #expect(open == nil && index == done.count, "item \(index) added out of order", sourceLocation: sourceLocation)
            open = (index, item.id, item.type, "", false)
        case .contentPartAdded(let itemID, let index, let contentIndex, let part):
            #expect(open?.id == itemID && open?.index == index && open?.type == "message" && contentIndex == 0,
                sourceLocation: sourceLocation)
            #expect(part == .outputText(""), sourceLocation: sourceLocation)
            open?.partOpen = true
        case .reasoningSummaryPartAdded(let itemID, let index, let summaryIndex, let part):
            #expect(open?.id == itemID && open?.index == index && open?.type == "reasoning" && summaryIndex == 0,
                sourceLocation: sourceLocation)
            #expect(part.text.isEmpty, sourceLocation: sourceLocation)
            open?.partOpen = true
        case .outputTextDelta(let itemID, _, _, let delta), .reasoningSummaryTextDelta(let itemID, _, _, let delta):
            #expect(open?.id == itemID && open?.partOpen == true && !delta.isEmpty, sourceLocation: sourceLocation)
            open?.text += delta
        case .outputTextDone(let itemID, _, _, let text), .reasoningSummaryTextDone(let itemID, _, _, let text):
            #expect(open?.id == itemID && open?.text == text, "done text is the deltas' sum", sourceLocation: sourceLocation)
        case .contentPartDone(let itemID, _, _, let part):
            #expect(open?.id == itemID && part == .outputText(open?.text ?? ""), sourceLocation: sourceLocation)
            open?.partOpen = false
        case .reasoningSummaryPartDone(let itemID, _, _, let part):
            #expect(open?.id == itemID && part.text == open?.text, sourceLocation: sourceLocation)
            open?.partOpen = false
        case .functionCallArgumentsDelta(let itemID, _, let delta):
            #expect(open?.id == itemID && open?.type == "function_call", sourceLocation: sourceLocation)
            open?.text += delta
        case .functionCallArgumentsDone(let itemID, _, _, let arguments):
            #expect(open?.id == itemID && open?.text == arguments, sourceLocation: sourceLocation)
        case .outputItemDone(let index, let item):
            #expect(open?.index == index && open?.id == item.id && open?.partOpen == false,
                "item \(index) done while not open", sourceLocation: sourceLocation)
            open = nil
            done.append(item)
        case .completed(let response), .incomplete(let response), .failed(let response):
            #expect(open == nil, "an item left open", sourceLocation: sourceLocation)
            #expect(response.id == id && response.output == done, "the terminal response lists every item",
                sourceLocation: sourceLocation)
        case .error:
            #expect(open == nil, sourceLocation: sourceLocation)
        }
    }
}

@Suite("Ollama chat stream → Responses events")
struct ResponsesStreamTranslatorTests {
    static let template = ResponseObject(id: "resp_test", createdAt: 1_700_000_000, status: "in_progress", model: "asked-name")

    static func style(parallel: Bool = true, exclude: Bool = false) -> ResponsesStyle {
        var response = template
        response.parallelToolCalls = parallel
        var style = ResponsesStyle(response: response, excludeReasoning: exclude)
        style.sequentialIDs = true
        style.now = { 1_700_000_009 }
        return style
    }

    static func line(content: String = "", thinking: String? = nil, calls: [OllamaToolCall]? = nil, done: Bool = false,
        reason: String? = nil) -> OllamaChatChunk
    {
        OllamaChatChunk(
            model: "upstream", message: OllamaMessage(role: "assistant", content: content, thinking: thinking, toolCalls: calls),
            done: done, doneReason: reason,
            metrics: done ? OllamaMetrics(promptEvalCount: 11, evalCount: 8) : OllamaMetrics())
    }

    static func call(_ name: String, _ arguments: [String: JSONValue] = [:], id: String? = nil) -> OllamaToolCall {
        OllamaToolCall(id: id, function: .init(name: name, arguments: arguments))
    }

    /// The scenarios of the golden fixtures: upstream lines, and how the stream ends.
    static let scenarios: [String: (lines: [OllamaChatChunk], style: ResponsesStyle, failure: GatewayError?)] = [
        "text": ([line(content: "Hel"), line(content: "lo"), line(done: true, reason: "stop")], style(), nil),
        "reasoning-then-text": (
            [line(thinking: "Think"), line(thinking: " more"), line(content: "Ans", thinking: "."), line(content: "wer"),
                line(done: true, reason: "stop")], style(), nil),
        "think-tags": ([line(content: "<think>Plan</think>"), line(content: "Done"), line(done: true)], style(), nil),
        "function-call": ([line(calls: [call("get_weather", ["city": "Paris"], id: "call_a")]), line(done: true)], style(), nil),
        "text-then-calls": (
            [line(content: "Checking."), line(calls: [call("a", id: "call_1"), call("b", ["x": 1], id: "call_2")]),
                line(done: true)], style(), nil),
        "parallel-off": ([line(calls: [call("a", id: "call_1"), call("b", id: "call_2")]), line(done: true)], style(parallel: false), nil),
        "max-output-tokens": ([line(content: "Cut"), line(done: true, reason: "length")], style(), nil),
        "exclude-reasoning": ([line(thinking: "secret"), line(content: "Hi"), line(done: true)], style(exclude: true), nil),
        "failed-mid-text": (
            [line(content: "Part")],
            style(), GatewayError(.upstreamError, "Ollama failed: runner crashed", code: "upstream_error")),
        "failed-before-output": ([], style(), GatewayError(.timeout, "Ollama sent nothing for 120 seconds.", code: "timeout")),
    ]

    static func events(_ name: String) throws -> [ResponseStreamEvent] {
        let scenario = try #require(scenarios[name])
        var translator = ResponsesStreamTranslator(style: scenario.style)
        var events = translator.start()
        for line in scenario.lines { events += translator.translate(line) }
        if let failure = scenario.failure { events += translator.fail(failure) }
        return events
    }

    @Test("golden stream fixture", arguments: scenarios.keys.sorted())
    func golden(name: String) throws {
        let events = try Self.events(name)
        checkResponsesGrammar(events)
        let actual = try jsonTree(events)
        let path = "responses-stream/\(name).events.json"
        if ProcessInfo.processInfo.environment["RECORD_FIXTURES"] == "1" {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .appendingPathComponent("Fixtures/\(path)")
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try encoder.encode(actual).write(to: file)
        }
        #expect(try actual == Fixtures.json(path))
    }

    @Test func everyEventTypeHasAFixture() throws {
        let types = Set(try Self.scenarios.keys.flatMap { try Self.events($0).map(\.type) })
        #expect(types == [
            "response.created", "response.in_progress", "response.output_item.added", "response.output_item.done",
            "response.content_part.added", "response.content_part.done", "response.output_text.delta",
            "response.output_text.done", "response.reasoning_summary_part.added", "response.reasoning_summary_part.done",
            "response.reasoning_summary_text.delta", "response.reasoning_summary_text.done",
            "response.function_call_arguments.delta", "response.function_call_arguments.done", "response.completed",
            "response.incomplete", "response.failed",
        ])
    }

    @Test func completedCarriesUsageWithReasoningShare() throws {
        let events = try Self.events("reasoning-then-text")
        let response = try #require(events.last?.response)
        #expect(response.status == "completed")
        #expect(response.completedAt == 1_700_000_009)
        // 11 characters of reasoning, 6 of answer, 8 tokens in all.
        #expect(response.usage == ResponseUsage(inputTokens: 11, outputTokens: 8, reasoningTokens: 5))
        #expect(response.outputText == "Answer")
    }

    @Test func lengthEndsIncomplete() throws {
        let response = try #require(try Self.events("max-output-tokens").last?.response)
        #expect(response.status == "incomplete")
        #expect(response.incompleteDetails?.reason == "max_output_tokens")
    }

    @Test func aFailureKeepsThePartialOutputAndSaysWhy() throws {
        let events = try Self.events("failed-mid-text")
        let response = try #require(events.last?.response)
        #expect(events.last?.type == "response.failed")
        #expect(response.status == "failed")
        #expect(response.error == ResponseErrorInfo(code: "server_error", message: "Ollama failed: runner crashed"))
        guard case .message(let message) = response.output.first else {
            Issue.record("the partial message is kept")
            return
        }
        #expect(message.status == "incomplete")
        #expect(response.outputText == "Part")
    }

    @Test("every failure path ends with one terminal event", arguments: [
        GatewayError(.upstreamError, "Ollama: boom"),
        GatewayError(.upstreamError, "Ollama ended the stream before it was done.", code: "upstream_incomplete"),
        GatewayError(.timeout, "idle"),
        GatewayError(.rateLimited, "slow down"),
    ])
    func failurePaths(error: GatewayError) throws {
        for lines in [[], [Self.line(thinking: "hm")], [Self.line(content: "x")], [Self.line(calls: [Self.call("f")])]] {
            var translator = ResponsesStreamTranslator(style: Self.style())
            var events = translator.start()
            for line in lines { events += translator.translate(line) }
            events += translator.fail(error)
            checkResponsesGrammar(events)
            #expect(translator.finished)
            // Nothing follows the terminal event: a late line or a second failure adds nothing.
            #expect(translator.translate(Self.line(content: "late", done: true)).isEmpty)
            #expect(translator.fail(error).isEmpty)
        }
    }

    @Test func aFinishedStreamIgnoresAFailure() throws {
        var translator = ResponsesStreamTranslator(style: Self.style())
        _ = translator.start()
        let events = translator.translate(Self.line(content: "x", done: true))
        #expect(events.last?.type == "response.completed")
        #expect(translator.fail(GatewayError(.timeout, "late")).isEmpty)
    }

    @Test func rateLimitsAndRefusalsHaveTheirCodes() {
        #expect(ResponsesStreamTranslator.errorCode(GatewayError(.rateLimited, "x")) == "rate_limit_exceeded")
        #expect(ResponsesStreamTranslator.errorCode(GatewayError.invalid("x")) == "invalid_prompt")
        #expect(ResponsesStreamTranslator.errorCode(GatewayError(.timeout, "x")) == "server_error")
    }

    @Test func theNonStreamedAnswerIsTheSameMachine() throws {
        var translator = ResponsesStreamTranslator(style: Self.style())
        _ = translator.start()
        _ = translator.translate(OllamaChatChunk(
            model: "m",
            message: OllamaMessage(
                role: "assistant", content: "Sure.", thinking: "Plan.", toolCalls: [Self.call("f", ["a": 1], id: "call_x")]),
            done: true, doneReason: "stop", metrics: OllamaMetrics(promptEvalCount: 3, evalCount: 4)))
        let response = translator.response
        #expect(response.status == "completed")
        #expect(response.output.map(\.type) == ["reasoning", "message", "function_call"])
        guard case .functionCall(let call) = response.output.last else { return }
        #expect(call.callID == "call_x" && call.arguments == #"{"a":1}"# && call.status == "completed")
    }

    @Test func eventsEncodeWithTheirWireFields() throws {
        let events = try Self.events("text")
        let delta = try jsonTree(try #require(events.first { $0.type == "response.output_text.delta" }))
        #expect(delta["logprobs"] == [])
        #expect(delta["item_id"] == "msg_0")
        #expect(delta["content_index"] == 0)
        let completed = try jsonTree(try #require(events.last))
        #expect(completed["response"]?["usage"]?["output_tokens_details"]?["reasoning_tokens"] == 0)
        #expect(completed["response"]?["output"]?[0]?["content"]?[0]?["annotations"] == [])
    }
}
