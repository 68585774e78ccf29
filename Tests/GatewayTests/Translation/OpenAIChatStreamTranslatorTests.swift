import Foundation
import GatewayAPI
import Testing

@testable import Gateway

@Suite("Ollama chat stream → OpenAI chunks")
struct OpenAIChatStreamTranslatorTests {
    func style(_ format: ReasoningFormat = .reasoningContent, exclude: Bool = false) -> ChatResponseStyle {
        ChatResponseStyle(model: "asked-name", reasoningFormat: format, excludeReasoning: exclude, id: "chatcmpl-test", created: 1_700_000_000)
    }

    func line(content: String = "", thinking: String? = nil, calls: [OllamaToolCall]? = nil, done: Bool = false,
        reason: String? = nil) -> OllamaChatChunk
    {
        OllamaChatChunk(
            model: "upstream", message: OllamaMessage(role: "assistant", content: content, thinking: thinking, toolCalls: calls),
            done: done, doneReason: reason,
            metrics: done ? OllamaMetrics(promptEvalCount: 11, evalCount: 5) : OllamaMetrics())
    }

    func run(_ lines: [OllamaChatChunk], style: ChatResponseStyle) -> [ChatCompletionChunk] {
        var translator = OpenAIChatStreamTranslator(style: style)
        return lines.flatMap { translator.translate($0) }
    }

    func contents(_ chunks: [ChatCompletionChunk]) -> String {
        chunks.compactMap { $0.choices.first?.delta.content }.joined()
    }

    func reasoning(_ chunks: [ChatCompletionChunk]) -> String {
        chunks.compactMap { $0.choices.first?.delta.reasoningContent }.joined()
    }

    @Test func plainContentStream() throws {
        let chunks = run([line(content: "Hel"), line(content: "lo"), line(done: true, reason: "stop")], style: style())
        #expect(chunks.allSatisfy { $0.id == "chatcmpl-test" && $0.created == 1_700_000_000 && $0.model == "asked-name" })
        #expect(chunks.first?.choices.first?.delta.role == "assistant")
        #expect(chunks.dropFirst().allSatisfy { $0.choices.first?.delta.role == nil })
        #expect(contents(chunks) == "Hello")
        #expect(chunks.last?.choices.first?.finishReason == "stop")
        #expect(chunks.dropLast().allSatisfy { $0.choices.first?.finishReason == nil })
        let wire = try jsonTree(chunks[0])
        #expect(wire["object"] == "chat.completion.chunk")
        #expect(wire["choices"]?.arrayValue?.first?["finish_reason"] == .null)
    }

    @Test func firstChunkCarriesRoleEvenWhenEmpty() {
        let chunks = run([line(content: ""), line(content: "x"), line(done: true)], style: style())
        #expect(chunks.count == 3)
        #expect(chunks[0].choices[0].delta.role == "assistant")
        #expect(chunks[0].choices[0].delta.content == "")
    }

    @Test func lengthFinish() {
        let chunks = run([line(content: "a"), line(done: true, reason: "length")], style: style())
        #expect(chunks.last?.choices.first?.finishReason == "length")
    }

    @Test func usageChunkHasNoChoices() throws {
        let translator = OpenAIChatStreamTranslator(style: style())
        let usage = translator.usageChunk(OllamaMetrics(promptEvalCount: 11, evalCount: 5))
        #expect(usage.choices.isEmpty)
        #expect(usage.usage == CompletionUsage(promptTokens: 11, completionTokens: 5))
        #expect(try jsonTree(usage)["usage"]?["total_tokens"] == 16)
    }

    @Test func thinkingThenContent() {
        let chunks = run([
            line(thinking: "Let me "), line(thinking: "think."), line(content: "Answer", thinking: " Done."),
            line(done: true),
        ], style: style())
        #expect(reasoning(chunks) == "Let me think. Done.")
        #expect(contents(chunks) == "Answer")
    }

    /// A client that reads `content or reasoning_content` from each delta must not lose a token when
    /// one Ollama line carries both: they go out in separate chunks, the reasoning first.
    @Test func reasoningAndContentNeverShareAChunk() {
        let chunks = run([line(thinking: "."), line(content: "You", thinking: " done"), line(done: true)], style: style())
        for chunk in chunks {
            let delta = chunk.choices.first?.delta
            #expect(!(delta?.reasoningContent != nil && delta?.content?.isEmpty == false), "\(chunks)")
        }
        let naive = chunks.compactMap { chunk in chunk.choices.first.map { $0.delta.reasoningContent ?? $0.delta.content ?? "" } }
        #expect(naive.joined() == ". doneYou")
        #expect(chunks.filter { $0.choices.first?.delta.role != nil }.count == 1)
    }

    @Test("reasoning formats", arguments: [ReasoningFormat.reasoning, .both, .thinkTags])
    func reasoningFormats(format: ReasoningFormat) {
        let chunks = run([line(thinking: "hmm"), line(content: "yes"), line(done: true)], style: style(format))
        let reasoningField = chunks.compactMap { $0.choices.first?.delta.reasoning }.joined()
        switch format {
        case .reasoning:
            #expect(reasoningField == "hmm")
            #expect(reasoning(chunks) == "")
            #expect(contents(chunks) == "yes")
        case .both:
            #expect(reasoningField == "hmm")
            #expect(reasoning(chunks) == "hmm")
        case .thinkTags:
            #expect(contents(chunks) == "<think>hmm</think>\n\nyes")
            #expect(reasoningField == "" && reasoning(chunks) == "")
        case .reasoningContent:
            break
        }
    }

    @Test func thinkTagClosedBeforeToolCallsAndAtEnd() {
        let call = OllamaToolCall(id: "call_a", function: .init(index: 0, name: "f", arguments: [:]))
        let withCall = run([line(thinking: "plan"), line(calls: [call]), line(done: true)], style: style(.thinkTags))
        #expect(contents(withCall) == "<think>plan</think>\n\n")
        let onlyThinking = run([line(thinking: "plan"), line(done: true, reason: "length")], style: style(.thinkTags))
        #expect(contents(onlyThinking) == "<think>plan</think>\n\n")
    }

    @Test func excludedReasoningIsNotSent() {
        let chunks = run([line(thinking: "secret"), line(content: "ok"), line(done: true)], style: style(exclude: true))
        #expect(reasoning(chunks) == "")
        #expect(contents(chunks) == "ok")
    }

    @Test func thinkTagsInContentBecomeReasoning() {
        let pieces = ["  <thi", "nk>I rea", "son</th", "ink>", "\n\nThe ans", "wer"]
        let chunks = run(pieces.map { line(content: $0) } + [line(done: true)], style: style())
        #expect(reasoning(chunks) == "I reason")
        #expect(contents(chunks) == "The answer")
    }

    @Test func contentWithoutThinkTagsPassesThrough() {
        let chunks = run([line(content: "<b>bold</b> <think>not at start</think>"), line(done: true)], style: style())
        #expect(contents(chunks) == "<b>bold</b> <think>not at start</think>")
        #expect(reasoning(chunks) == "")
    }

    @Test func unfinishedThinkTagIsReasoning() {
        let chunks = run([line(content: "<think>cut off by the limit"), line(done: true, reason: "length")], style: style())
        #expect(reasoning(chunks) == "cut off by the limit")
        #expect(contents(chunks) == "")
    }

    @Test func toolCallIndexesCountAcrossTheResponse() throws {
        let a = OllamaToolCall(id: "call_a", function: .init(index: 0, name: "a", arguments: ["x": 1]))
        let b = OllamaToolCall(function: .init(index: 1, name: "b", arguments: ["y": "z"]))
        let c = OllamaToolCall(id: "call_c", function: .init(index: 0, name: "c", arguments: [:]))
        let chunks = run([line(calls: [a, b]), line(calls: [c]), line(done: true)], style: style())
        let calls = chunks.flatMap { $0.choices.first?.delta.toolCalls ?? [] }
        #expect(calls.map(\.index) == [0, 1, 2])
        #expect(calls.map(\.function?.name) == ["a", "b", "c"])
        #expect(calls[0].id == "call_a")
        #expect(calls[1].id?.hasPrefix("call_") == true)
        #expect(calls[0].function?.arguments == #"{"x":1}"#)
        #expect(calls.allSatisfy { $0.type == "function" })
        #expect(chunks.last?.choices.first?.finishReason == "tool_calls")
    }

    @Test func toolCallsOnTheDoneLine() {
        let call = OllamaToolCall(function: .init(name: "f", arguments: [:]))
        let chunks = run([line(content: "Calling."), line(calls: [call], done: true)], style: style())
        #expect(chunks.flatMap { $0.choices.first?.delta.toolCalls ?? [] }.count == 1)
        #expect(chunks.last?.choices.first?.finishReason == "tool_calls")
    }

    @Test func nonStreamedCompletion() throws {
        let answer = OllamaChatChunk(
            model: "upstream",
            message: OllamaMessage(role: "assistant", content: "<think>r</think>\nfinal"),
            done: true, doneReason: "stop", metrics: OllamaMetrics(promptEvalCount: 3, evalCount: 4))
        let completion = OpenAIChatResponseTranslator.completion(from: answer, style: style())
        #expect(completion.choices[0].message.content == "final")
        #expect(completion.choices[0].message.reasoningContent == "r")
        #expect(completion.usage == CompletionUsage(promptTokens: 3, completionTokens: 4))
        #expect(completion.model == "asked-name")
        let wire = try jsonTree(completion)
        #expect(wire["object"] == "chat.completion")
        #expect(wire["usage"]?["total_tokens"] == 7)
    }

    @Test func nonStreamedToolCallsHaveNullContent() throws {
        let call = OllamaToolCall(function: .init(name: "lookup", arguments: ["city": "Paris"]))
        let answer = OllamaChatChunk(
            message: OllamaMessage(role: "assistant", content: "", toolCalls: [call]), done: true, doneReason: "stop")
        let completion = OpenAIChatResponseTranslator.completion(from: answer, style: style())
        let wire = try jsonTree(completion)
        let message = try #require(wire["choices"]?.arrayValue?.first?["message"])
        #expect(message["content"] == .null)
        #expect(message["tool_calls"]?.arrayValue?.first?["function"]?["arguments"] == #"{"city":"Paris"}"#)
        #expect(message["tool_calls"]?.arrayValue?.first?["type"] == "function")
        #expect(completion.choices[0].finishReason == "tool_calls")
    }
}
