import Foundation
import GatewayAPI
import Testing

@testable import Gateway

@Suite("OpenAI legacy completions ↔ Ollama /api/generate")
struct OpenAICompletionTranslatorTests {
    static let fixtureNames = (try? Fixtures.names(in: "openai-completions", suffix: ".request.json")) ?? []
    static let style = CompletionResponseStyle(model: "asked-name", id: "cmpl-fixture", created: 1_700_000_000)

    func decode(_ json: String) throws -> CompletionRequest {
        try JSONDecoder().decode(CompletionRequest.self, from: Data(json.utf8))
    }

    func translate(
        _ json: String, capabilities: Set<ModelCapability>? = nil, defaults: ParameterLayer = .init(),
        overrides: ParameterLayer = .init()
    ) throws -> UpstreamCompletionPlan {
        let request = try decode(json)
        return try OpenAICompletionRequestTranslator.translate(
            request,
            model: ResolvedModel(
                requestedName: request.model, upstreamName: request.model, overrides: overrides, capabilities: capabilities),
            defaults: defaults)
    }

    @Test("golden fixture", arguments: fixtureNames)
    func golden(name: String) throws {
        let request = try JSONDecoder().decode(
            CompletionRequest.self, from: Fixtures.data("openai-completions/\(name).request.json"))
        let plan = try OpenAICompletionRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: request.model, upstreamName: request.model), defaults: .init())
        #expect(try jsonTree(plan.requests) == Fixtures.json("openai-completions/\(name).ollama.json"))

        // Fixtures with an Ollama answer also pin the response.
        guard Bundle.module.url(forResource: "Fixtures/openai-completions/\(name).answer.json", withExtension: nil) != nil
        else { return }
        let answers = try JSONDecoder().decode(
            [OllamaGenerateChunk].self, from: Fixtures.data("openai-completions/\(name).answer.json"))
        let response = OpenAICompletionResponseTranslator.completion(
            from: answers, prompts: plan.prompts, echo: plan.echo,
            style: CompletionResponseStyle(model: request.model, id: "cmpl-fixture", created: 1_700_000_000))
        #expect(try jsonTree(response) == Fixtures.json("openai-completions/\(name).response.json"))
    }

    @Test func fixturesArePresent() {
        #expect(Self.fixtureNames.count >= 5)
    }

    @Test func noSamplingDefaultsAreForced() throws {
        let plan = try translate(#"{"model":"m","prompt":"x"}"#)
        #expect(plan.requests[0].options == nil)
        #expect(plan.requests[0].think == nil)
        #expect(plan.requests[0].raw == nil)
    }

    @Test func precedenceIsRequestThenOverrideThenDefault() throws {
        let defaults = try ParameterLayer(ollamaStyle: ["num_predict": 128, "temperature": 0.8, "keep_alive": "5m"])
        let overrides = try ParameterLayer(ollamaStyle: ["temperature": 0.5, "think": false])
        let plan = try translate(#"{"model":"m","prompt":"x","max_tokens":16}"#, defaults: defaults, overrides: overrides)
        #expect(plan.requests[0].options?["num_predict"] == .int(16))
        #expect(plan.requests[0].options?["temperature"] == .double(0.5))
        #expect(plan.requests[0].keepAlive == .string("5m"))
        #expect(plan.requests[0].think == .enabled(false))
    }

    @Test func requestTimeoutIsAParameterNotSentUpstream() throws {
        let plan = try translate(#"{"model":"m","prompt":"x","request_timeout":1500}"#)
        #expect(plan.parameters.timeout == .milliseconds(1500))
    }

    @Test func suffixNeedsInsertWhenCapabilitiesAreKnown() throws {
        #expect(throws: GatewayError.self) {
            try translate(#"{"model":"sim-chat","prompt":"x","suffix":"y"}"#, capabilities: [.completion])
        }
        let plan = try translate(#"{"model":"sim-code","prompt":"x","suffix":"y"}"#, capabilities: [.completion, .insert])
        #expect(plan.requests[0].suffix == "y")
        // An empty suffix is no suffix.
        #expect(try translate(#"{"model":"sim-chat","prompt":"x","suffix":""}"#, capabilities: [.completion]).requests[0].suffix == nil)
    }

    @Test func embeddingModelIsRefused() throws {
        let error = try #require(throws: GatewayError.self) {
            try translate(#"{"model":"sim-embed","prompt":"x"}"#, capabilities: [.embedding])
        }
        #expect(error.param == "model")
        #expect(error.message.contains("/v1/embeddings"))
    }

    /// Each invalid request: the body's fields, the `param` the 400 must name.
    @Test("client mistakes are 400s naming the field", arguments: [
        (#""prompt":"x","n":2"#, "n"),
        (#""prompt":"x","best_of":3"#, "best_of"),
        (#""prompt":"x","logprobs":1"#, "logprobs"),
        (#""prompt":"x","logprobs":0"#, "logprobs"),
        (#""prompt":[1,2,3]"#, "prompt"),
        (#""prompt":[[1,2],[3]]"#, "prompt"),
        (#""prompt":"""#, "prompt"),
        (#""prompt":[]"#, "prompt"),
        (#""prompt":["a",""]"#, "prompt"),
        (#""prompt":"x","max_tokens":0"#, "max_tokens"),
        (#""prompt":"x","think":"very""#, "think"),
        (#""prompt":"x","extra_body":{"raw":"yes"}"#, "extra_body.raw"),
    ])
    func clientMistakes(fields: String, param: String) throws {
        let error = try #require(throws: GatewayError.self) { try translate(#"{"model":"m",\#(fields)}"#) }
        #expect(error.kind == .invalidRequest)
        #expect(error.param == param)
    }

    // MARK: - Streaming

    func line(_ text: String, thinking: String? = nil, done: Bool = false, reason: String? = nil, prompt: Int = 0,
        eval: Int = 0) -> OllamaGenerateChunk
    {
        OllamaGenerateChunk(
            model: "upstream", response: text, thinking: thinking, done: done, doneReason: reason,
            metrics: done ? OllamaMetrics(promptEvalCount: prompt, evalCount: eval) : OllamaMetrics())
    }

    func texts(_ chunks: [CompletionResponse], index: Int) -> String {
        chunks.flatMap(\.choices).filter { $0.index == index }.map(\.text).joined()
    }

    @Test func streamOfOnePrompt() throws {
        var translator = OpenAICompletionStreamTranslator(style: Self.style, echo: false)
        var chunks = translator.begin(index: 0, prompt: "Say")
        #expect(chunks.isEmpty)
        for piece in [line(" hel"), line("lo"), line("", done: true, reason: "stop", prompt: 4, eval: 2)] {
            chunks += translator.translate(piece)
        }
        #expect(chunks.allSatisfy { $0.id == "cmpl-fixture" && $0.created == 1_700_000_000 && $0.model == "asked-name" })
        #expect(texts(chunks, index: 0) == " hello")
        #expect(chunks.last?.choices.first?.finishReason == "stop")
        #expect(chunks.last?.choices.first?.text == "")
        #expect(chunks.dropLast().allSatisfy { $0.choices.first?.finishReason == nil })
        let wire = try jsonTree(chunks[0])
        #expect(wire["object"] == "text_completion")
        #expect(wire["choices"]?[0]?["logprobs"] == .null)
        #expect(wire["choices"]?[0]?["finish_reason"] == .null)
        #expect(wire["usage"] == nil)
    }

    @Test func streamOfSeveralPromptsWithEchoAndUsage() throws {
        var translator = OpenAICompletionStreamTranslator(style: Self.style, echo: true)
        var chunks = translator.begin(index: 0, prompt: "A")
        chunks += translator.translate(line("1", done: true, reason: "length", prompt: 3, eval: 1))
        chunks += translator.begin(index: 1, prompt: "B")
        chunks += translator.translate(line("2"))
        chunks += translator.translate(line("", done: true, reason: "stop", prompt: 5, eval: 2))
        #expect(texts(chunks, index: 0) == "A1")
        #expect(texts(chunks, index: 1) == "B2")
        let finishes = chunks.flatMap(\.choices).compactMap { choice in choice.finishReason.map { (choice.index, $0) } }
        #expect(finishes.map(\.0) == [0, 1])
        #expect(finishes.map(\.1) == ["length", "stop"])
        let usage = translator.usageChunk()
        #expect(usage.choices.isEmpty)
        #expect(usage.usage == CompletionUsage(promptTokens: 8, completionTokens: 3))
    }

    @Test func thinkingIsNotPartOfTheText() {
        var translator = OpenAICompletionStreamTranslator(style: Self.style, echo: false)
        var chunks = translator.begin(index: 0, prompt: "x")
        for piece in [line("", thinking: "pondering"), line("<thi"), line("nk>secret</th"), line("ink>\n\nAnswer"),
            line("", done: true, reason: "stop")]
        {
            chunks += translator.translate(piece)
        }
        #expect(texts(chunks, index: 0) == "Answer")
        // A second prompt starts with a fresh splitter.
        chunks = translator.begin(index: 1, prompt: "y")
        chunks += translator.translate(line("<think>a</think>b", done: true))
        #expect(texts(chunks, index: 1) == "b")
    }
}
