import Foundation
import GatewayAPI

/// The identity of one completion response, the same on every streamed chunk.
struct CompletionResponseStyle: Sendable {
    var id: String
    var created: Int
    /// The model name as the client asked for it.
    var model: String

    init(model: String, id: String? = nil, created: Int? = nil) {
        self.id = id ?? Identifiers.make("cmpl-")
        self.created = created ?? Int(Date().timeIntervalSince1970)
        self.model = model
    }
}

/// Ollama's non-streamed `/api/generate` answers, one per prompt → an OpenAI text completion.
///
/// A completion is the model's text only: `thinking`, and `<think>…</think>` written at the start of
/// the text by older reasoning models, are dropped.
enum OpenAICompletionResponseTranslator {
    static func completion(from answers: [OllamaGenerateChunk], prompts: [String], echo: Bool, style: CompletionResponseStyle)
        -> CompletionResponse
    {
        var choices: [CompletionResponse.Choice] = []
        var promptTokens = 0
        var completionTokens = 0
        for (index, answer) in answers.enumerated() {
            var splitter = ThinkTagSplitter()
            let text = splitter.feed(answer.response ?? "").content + splitter.finish().content
            let shown = echo && prompts.indices.contains(index) ? prompts[index] + text : text
            choices.append(.init(
                text: shown, index: index,
                finishReason: OpenAIFinishReason.from(doneReason: answer.doneReason, sawToolCalls: false)))
            promptTokens += answer.metrics.promptEvalCount ?? 0
            completionTokens += answer.metrics.evalCount ?? 0
        }
        return CompletionResponse(
            id: style.id, created: style.created, model: style.model, choices: choices,
            usage: CompletionUsage(promptTokens: promptTokens, completionTokens: completionTokens))
    }
}

/// Ollama's `/api/generate` NDJSON lines → OpenAI `text_completion` chunks, for one prompt after another.
///
/// Keeps what must stay stable across the stream: the id and `created`, the index of the choice being
/// streamed, `<think>` tags split out of the text, and the usage summed over the prompts.
struct OpenAICompletionStreamTranslator: Sendable {
    let style: CompletionResponseStyle
    let echo: Bool
    private var index = 0
    private var splitter = ThinkTagSplitter()
    private var promptTokens = 0
    private var completionTokens = 0

    init(style: CompletionResponseStyle, echo: Bool) {
        self.style = style
        self.echo = echo
    }

    /// Starts the choice of prompt `index`; with `echo` the prompt is its first text.
    mutating func begin(index: Int, prompt: String) -> [CompletionResponse] {
        self.index = index
        splitter = ThinkTagSplitter()
        return echo ? [chunk(text: prompt)] : []
    }

    /// The chunks for one upstream line; the finishing chunk of the choice too when the line is its last.
    mutating func translate(_ line: OllamaGenerateChunk) -> [CompletionResponse] {
        var chunks: [CompletionResponse] = []
        let text = splitter.feed(line.response ?? "").content
        if !text.isEmpty { chunks.append(chunk(text: text)) }
        if line.done {
            let rest = splitter.finish().content
            if !rest.isEmpty { chunks.append(chunk(text: rest)) }
            chunks.append(chunk(
                text: "", finishReason: OpenAIFinishReason.from(doneReason: line.doneReason, sawToolCalls: false)))
            promptTokens += line.metrics.promptEvalCount ?? 0
            completionTokens += line.metrics.evalCount ?? 0
        }
        return chunks
    }

    /// The usage chunk of `stream_options.include_usage`: no choices, the counts over every prompt.
    func usageChunk() -> CompletionResponse {
        CompletionResponse(
            id: style.id, created: style.created, model: style.model, choices: [],
            usage: CompletionUsage(promptTokens: promptTokens, completionTokens: completionTokens))
    }

    private func chunk(text: String, finishReason: String? = nil) -> CompletionResponse {
        CompletionResponse(
            id: style.id, created: style.created, model: style.model,
            choices: [.init(text: text, index: index, finishReason: finishReason)])
    }
}
