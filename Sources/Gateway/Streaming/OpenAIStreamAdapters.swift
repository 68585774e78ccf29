import GatewayAPI
import HTTPTypes
import NIOCore

/// OpenAI chat completions: `chat.completion.chunk` events, `[DONE]` at the end, an `{"error"}`
/// event (then nothing) when the stream fails.
struct OpenAIChatStreamAdapter: StreamAdapter {
    var translator: OpenAIChatStreamTranslator
    /// `stream_options.include_usage`: a last chunk with the counts and no choices.
    let includeUsage: Bool
    private(set) var usage: (prompt: Int, completion: Int)?
    private(set) var finishReason: String?
    /// The chunks of a plain token of answer text and of thinking, filled from Ollama's bytes.
    private let textChunk: TextEventTemplate?
    private let thinkingChunk: TextEventTemplate?

    init(translator: OpenAIChatStreamTranslator, includeUsage: Bool) {
        self.translator = translator
        self.includeUsage = includeUsage
        self.textChunk = TextEventTemplate { text, output in
            ServerSentEvents.appendData(to: &output) { $0.write(translator.textChunk(text)) }
        }
        self.thinkingChunk = TextEventTemplate { text, output in
            ServerSentEvents.appendData(to: &output) { $0.write(translator.thinkingChunk(text)) }
        }
    }

    var headers: HTTPFields { ServerSentEvents.headers }
    var heartbeat: ByteBuffer? { SSEHeartbeat.comment }

    mutating func translate(_ line: OllamaChatLine, into output: inout ByteBuffer) -> Int {
        if case .text(let text) = line, let textChunk, translator.passesTextThrough {
            if line.isEmptyText { return 0 }
            textChunk.write(text, into: &output)
            return 1
        }
        if case .thinking(let thinking) = line, let thinkingChunk, translator.passesThinkingThrough {
            thinkingChunk.write(thinking, into: &output)
            return 1
        }
        let chunk = line.chunk
        let before = output.readableBytes
        for converted in translator.translate(chunk) {
            ServerSentEvents.appendData(to: &output) { $0.write(converted) }
        }
        if chunk.done {
            usage = (chunk.metrics.promptEvalCount ?? 0, chunk.metrics.evalCount ?? 0)
            finishReason = chunk.doneReason
            if includeUsage {
                let usage = translator.usageChunk(chunk.metrics)
                ServerSentEvents.appendData(to: &output) { $0.write(usage) }
            }
        }
        return !chunk.done && output.readableBytes > before ? 1 : 0
    }

    mutating func closing(into output: inout ByteBuffer) {
        output.writeImmutableBuffer(ServerSentEvents.done)
    }

    func failure(_ error: GatewayError, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(OpenAIErrorRenderer().streamEvent(for: error))
    }
}

/// OpenAI legacy completions: `text_completion` chunks, one choice per prompt, the prompts answered
/// one after the other (`OllamaPromptStreams`).
struct OpenAICompletionStreamAdapter: StreamAdapter {
    var translator: OpenAICompletionStreamTranslator
    let prompts: [String]
    let includeUsage: Bool
    private var index = 0

    init(translator: OpenAICompletionStreamTranslator, prompts: [String], includeUsage: Bool) {
        self.translator = translator
        self.prompts = prompts
        self.includeUsage = includeUsage
    }

    var headers: HTTPFields { ServerSentEvents.headers }
    var heartbeat: ByteBuffer? { SSEHeartbeat.comment }
    var usage: (prompt: Int, completion: Int)? {
        let counts = translator.usageChunk().usage
        return (counts?.promptTokens ?? 0, counts?.completionTokens ?? 0)
    }

    mutating func opening(into output: inout ByteBuffer) {
        Self.append(translator.begin(index: 0, prompt: prompts[0]), to: &output)
    }

    mutating func translate(_ chunk: OllamaGenerateChunk, into output: inout ByteBuffer) -> Int {
        Self.append(translator.translate(chunk), to: &output)
        if chunk.done, index + 1 < prompts.count {
            // The next prompt's choice starts where this one ended (with `echo`, with its prompt).
            index += 1
            Self.append(translator.begin(index: index, prompt: prompts[index]), to: &output)
        }
        return chunk.done ? 0 : 1
    }

    mutating func closing(into output: inout ByteBuffer) {
        if includeUsage { Self.append([translator.usageChunk()], to: &output) }
        output.writeImmutableBuffer(ServerSentEvents.done)
    }

    func failure(_ error: GatewayError, into output: inout ByteBuffer) {
        output.writeImmutableBuffer(OpenAIErrorRenderer().streamEvent(for: error))
    }

    private static func append(_ chunks: [CompletionResponse], to output: inout ByteBuffer) {
        for chunk in chunks {
            output.writeImmutableBuffer(ServerSentEvents.data(JSONWire.encode(chunk)))
        }
    }
}

/// The answers to a completion's prompts, one after the other, as one stream: the first already
/// started by the route (so Ollama's quick refusals keep their status), each later one started when
/// the one before it is done. Later prompts can only fail inside the stream.
struct OllamaPromptStreams: AsyncSequence, Sendable {
    typealias Element = [OllamaGenerateChunk]
    let first: OllamaLineStream<OllamaGenerateChunk>
    let plan: UpstreamCompletionPlan
    let upstream: OllamaClient
    let deadline: ContinuousClock.Instant

    struct AsyncIterator: AsyncIteratorProtocol {
        let streams: OllamaPromptStreams
        var current: OllamaLineStream<OllamaGenerateChunk>.AsyncIterator
        var index = 0

        mutating func next() async throws -> [OllamaGenerateChunk]? {
            while true {
                if let lines = try await current.next() { return lines }
                index += 1
                guard index < streams.plan.requests.count else { return nil }
                let request = streams.plan.requests[index]
                let deadline = streams.deadline
                let upstream = streams.upstream
                current = try await streams.plan.model.namingNotFound {
                    try await upstream.streamGenerate(request, deadline: .now() + TimeAmount(deadline - .now))
                }.makeAsyncIterator()
            }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(streams: self, current: first.makeAsyncIterator())
    }
}
