import Foundation
import GatewayAPI

/// How the response of one chat request is presented: its identity and the reasoning settings.
struct ChatResponseStyle: Sendable {
    var id: String
    var created: Int
    /// The model name as the client asked for it.
    var model: String
    var reasoningFormat: ReasoningFormat
    var excludeReasoning: Bool

    init(model: String, reasoningFormat: ReasoningFormat, excludeReasoning: Bool, id: String? = nil, created: Int? = nil) {
        self.id = id ?? Identifiers.make("chatcmpl-")
        self.created = created ?? Int(Date().timeIntervalSince1970)
        self.model = model
        self.reasoningFormat = reasoningFormat
        self.excludeReasoning = excludeReasoning
    }
}

enum OpenAIFinishReason {
    static func from(doneReason: String?, sawToolCalls: Bool) -> String {
        if sawToolCalls { return "tool_calls" }
        return doneReason == "length" ? "length" : "stop"
    }
}

extension OllamaToolCall {
    /// OpenAI's form: a stable id (Ollama's when it gave one) and the arguments as a JSON string.
    func openAI() -> ChatToolCall {
        ChatToolCall(
            id: id ?? Identifiers.make("call_"),
            function: .init(name: function.name, arguments: JSONWire.text(function.arguments)))
    }
}

/// Ollama's non-streamed `/api/chat` answer → an OpenAI chat completion.
enum OpenAIChatResponseTranslator {
    static func completion(from answer: OllamaChatChunk, style: ChatResponseStyle) -> ChatCompletionResponse {
        var splitter = ThinkTagSplitter()
        let fed = splitter.feed(answer.message?.content ?? "")
        let rest = splitter.finish()
        let reasoning = (answer.message?.thinking ?? "") + fed.reasoning + rest.reasoning
        var content = fed.content + rest.content
        let toolCalls = (answer.message?.toolCalls ?? []).map { $0.openAI() }

        var message = ChatResponseMessage(content: nil)
        if !reasoning.isEmpty, !style.excludeReasoning {
            switch style.reasoningFormat {
            case .reasoningContent: message.reasoningContent = reasoning
            case .reasoning: message.reasoning = reasoning
            case .both:
                message.reasoningContent = reasoning
                message.reasoning = reasoning
            case .thinkTags: content = "<think>\(reasoning)</think>\n\n" + content
            }
        }
        // `content` is null only when the answer is tool calls alone, as OpenAI does.
        message.content = content.isEmpty && !toolCalls.isEmpty ? nil : content
        message.toolCalls = toolCalls.isEmpty ? nil : toolCalls
        return ChatCompletionResponse(
            id: style.id, created: style.created, model: style.model,
            choices: [.init(
                message: message,
                finishReason: OpenAIFinishReason.from(doneReason: answer.doneReason, sawToolCalls: !toolCalls.isEmpty))],
            usage: CompletionUsage(answer.metrics))
    }
}

extension CompletionUsage {
    init(_ metrics: OllamaMetrics) {
        self.init(promptTokens: metrics.promptEvalCount ?? 0, completionTokens: metrics.evalCount ?? 0)
    }
}

/// Ollama's `/api/chat` NDJSON lines → OpenAI `chat.completion.chunk`s, one upstream line at a time.
///
/// Keeps what must stay stable across a stream: the id and `created`, the role sent once, tool-call
/// indexes counted over the whole response, an open inline `<think>` tag, and `<think>` tags split
/// out of content.
struct OpenAIChatStreamTranslator: Sendable {
    let style: ChatResponseStyle
    private var splitter = ThinkTagSplitter()
    private var sentRole = false
    private var toolCallCount = 0
    private var inlineThinkOpen = false
    private(set) var finished = false

    init(style: ChatResponseStyle) {
        self.style = style
    }

    /// The chunks for one upstream line; the finishing chunk too when the line is the last one.
    mutating func translate(_ line: OllamaChatChunk) -> [ChatCompletionChunk] {
        var chunks: [ChatCompletionChunk] = []
        if let message = line.message {
            let split = splitter.feed(message.content)
            var delta = delta(reasoning: (message.thinking ?? "") + split.reasoning, content: split.content)
            if let calls = message.toolCalls, !calls.isEmpty {
                closeInlineThink(into: &delta)
                delta.toolCalls = calls.map { call in
                    defer { toolCallCount += 1 }
                    let converted = call.openAI()
                    return ChatToolCallDelta(index: toolCallCount, id: converted.id, function: converted.function)
                }
            }
            chunks += self.chunks(delta)
        }
        if line.done {
            chunks.append(contentsOf: finish(doneReason: line.doneReason))
        }
        return chunks
    }

    /// The finishing chunks: what the think-tag splitter held back, then `finish_reason`.
    mutating func finish(doneReason: String?) -> [ChatCompletionChunk] {
        guard !finished else { return [] }
        finished = true
        var chunks: [ChatCompletionChunk] = []
        let rest = splitter.finish()
        var delta = delta(reasoning: rest.reasoning, content: rest.content)
        closeInlineThink(into: &delta)
        chunks += self.chunks(delta)
        chunks.append(ChatCompletionChunk(
            id: style.id, created: style.created, model: style.model,
            choices: [.init(delta: ChatDelta(), finishReason: OpenAIFinishReason.from(
                doneReason: doneReason, sawToolCalls: toolCallCount > 0))]))
        return chunks
    }

    /// The usage chunk of `stream_options.include_usage`: no choices, just the counts.
    func usageChunk(_ metrics: OllamaMetrics) -> ChatCompletionChunk {
        ChatCompletionChunk(id: style.id, created: style.created, model: style.model, choices: [], usage: CompletionUsage(metrics))
    }

    private mutating func delta(reasoning: String, content: String) -> ChatDelta {
        var delta = ChatDelta()
        var text = ""
        if !reasoning.isEmpty, !style.excludeReasoning {
            switch style.reasoningFormat {
            case .reasoningContent: delta.reasoningContent = reasoning
            case .reasoning: delta.reasoning = reasoning
            case .both:
                delta.reasoningContent = reasoning
                delta.reasoning = reasoning
            case .thinkTags:
                if !inlineThinkOpen {
                    text += "<think>"
                    inlineThinkOpen = true
                }
                text += reasoning
            }
        }
        if !content.isEmpty {
            if inlineThinkOpen {
                text += "</think>\n\n"
                inlineThinkOpen = false
            }
            text += content
        }
        if !text.isEmpty { delta.content = text }
        return delta
    }

    private mutating func closeInlineThink(into delta: inout ChatDelta) {
        guard inlineThinkOpen else { return }
        delta.content = (delta.content ?? "") + "</think>\n\n"
        inlineThinkOpen = false
    }

    /// Wraps a delta in chunks. Reasoning and the answer never share a chunk: when one upstream line
    /// carries the end of the reasoning and the start of the answer, the reasoning goes first in a
    /// chunk of its own, as reasoning APIs send them, so a client that reads one field per chunk
    /// loses nothing.
    private mutating func chunks(_ delta: ChatDelta) -> [ChatCompletionChunk] {
        let hasReasoning = delta.reasoningContent != nil || delta.reasoning != nil
        guard hasReasoning, delta.content != nil || delta.toolCalls != nil else { return chunk(delta).map { [$0] } ?? [] }
        var reasoning = ChatDelta()
        reasoning.reasoningContent = delta.reasoningContent
        reasoning.reasoning = delta.reasoning
        var answer = delta
        answer.reasoningContent = nil
        answer.reasoning = nil
        return [chunk(reasoning), chunk(answer)].compactMap { $0 }
    }

    /// Wraps a delta in a chunk; the first chunk carries the role, and empty deltas are dropped after it.
    private mutating func chunk(_ delta: ChatDelta) -> ChatCompletionChunk? {
        var delta = delta
        let isEmpty = delta.content == nil && delta.reasoningContent == nil && delta.reasoning == nil && delta.toolCalls == nil
        if !sentRole {
            sentRole = true
            delta.role = "assistant"
            if delta.content == nil && delta.toolCalls == nil { delta.content = "" }
        } else if isEmpty {
            return nil
        }
        return wrap(delta)
    }

    private func wrap(_ delta: ChatDelta) -> ChatCompletionChunk {
        ChatCompletionChunk(id: style.id, created: style.created, model: style.model, choices: [.init(delta: delta)])
    }

    /// Whether a piece of answer text would become a chunk with that text alone: the role is sent, no
    /// `<think>` tag is being split out or left open, the answer is not finished. Then its chunk
    /// can be written from Ollama's bytes (`OpenAIChatStreamAdapter`).
    var passesTextThrough: Bool { sentRole && splitter.passesThrough && !inlineThinkOpen && !finished }

    /// The chunk of a piece of answer text, when `passesTextThrough`.
    func textChunk(_ text: String) -> ChatCompletionChunk {
        var delta = ChatDelta()
        delta.content = text
        return wrap(delta)
    }

    /// Whether a piece of thinking would become a chunk with that reasoning alone, in one field: the
    /// role is sent, the answer not finished, and reasoning goes to `reasoning_content` or to
    /// `reasoning` (not both, not inline `<think>` tags, not left out).
    var passesThinkingThrough: Bool {
        sentRole && !finished && !style.excludeReasoning
            && (style.reasoningFormat == .reasoningContent || style.reasoningFormat == .reasoning)
    }

    /// The chunk of a piece of thinking, when `passesThinkingThrough`.
    func thinkingChunk(_ text: String) -> ChatCompletionChunk {
        var delta = ChatDelta()
        if style.reasoningFormat == .reasoning { delta.reasoning = text } else { delta.reasoningContent = text }
        return wrap(delta)
    }
}
