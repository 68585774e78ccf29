import Foundation
import GatewayAPI
import Testing

@testable import Gateway

@Suite("OpenAI chat request → Ollama")
struct OpenAIChatRequestTranslatorTests {
    static let fixtureNames = (try? Fixtures.names(in: "openai-chat", suffix: ".request.json")) ?? []

    func translate(_ json: String, defaults: ParameterLayer = .init(), overrides: ParameterLayer = .init(),
        images: FetchedImages = [:]) throws -> UpstreamChatPlan
    {
        let request = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
        return try OpenAIChatRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: request.model, upstreamName: request.model, overrides: overrides),
            defaults: defaults, images: images)
    }

    @Test("golden fixture", arguments: fixtureNames)
    func golden(name: String) throws {
        let request = try JSONDecoder().decode(
            ChatCompletionRequest.self, from: Fixtures.data("openai-chat/\(name).request.json"))
        let remote = OpenAIChatRequestTranslator.remoteImages(in: request).urls
        let images = FetchedImages(
            byURL: Dictionary(uniqueKeysWithValues: remote.map { ($0, Data("FETCHED".utf8).base64EncodedString()) }),
            maxBytes: ImageFetchPolicy().maxBytes)
        let plan = try OpenAIChatRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: request.model, upstreamName: request.model),
            defaults: ParameterLayer(), images: images)
        let expected = try Fixtures.json("openai-chat/\(name).ollama.json")
        #expect(try jsonTree(plan.request) == expected)
    }

    @Test func fixturesArePresent() {
        #expect(Self.fixtureNames.count >= 10)
    }

    @Test func requestTimeoutIsAParameterNotSentUpstream() throws {
        let plan = try translate(#"{"model":"m","messages":[{"role":"user","content":"x"}],"timeout_ms":1500}"#)
        #expect(plan.parameters.timeout == .milliseconds(1500))
    }

    @Test func precedenceIsRequestThenOverrideThenDefault() throws {
        let defaults = try ParameterLayer(ollamaStyle: ["num_ctx": 2048, "temperature": 0.8, "top_k": 40, "keep_alive": "5m"])
        let overrides = try ParameterLayer(ollamaStyle: ["num_ctx": 32768, "temperature": 0.5, "think": "high"])
        let plan = try translate(
            #"{"model":"m","messages":[{"role":"user","content":"x"}],"temperature":0.1}"#,
            defaults: defaults, overrides: overrides)
        #expect(plan.request.options?["temperature"] == .double(0.1))
        #expect(plan.request.options?["num_ctx"] == .int(32768))
        #expect(plan.request.options?["top_k"] == .int(40))
        #expect(plan.request.keepAlive == .string("5m"))
        #expect(plan.request.think == .level("high"))
    }

    @Test func excludeReasoningKeepsThinkingOn() throws {
        let plan = try translate(
            #"{"model":"m","messages":[{"role":"user","content":"x"}],"think":true,"exclude_reasoning":true}"#)
        #expect(plan.request.think == .enabled(true))
        #expect(plan.parameters.excludeReasoning == true)
        let openRouter = try translate(
            #"{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning":{"effort":"low","exclude":true}}"#)
        #expect(openRouter.request.think == .level("low"))
        #expect(openRouter.parameters.excludeReasoning == true)
    }

    @Test("reasoning_effort levels", arguments: [
        ("minimal", OllamaThink.level("low")), ("low", .level("low")), ("medium", .level("medium")),
        ("high", .level("high")), ("xhigh", .level("max")), ("none", .enabled(false)),
    ])
    func reasoningEffort(effort: String, think: OllamaThink) throws {
        let plan = try translate(#"{"model":"m","messages":[{"role":"user","content":"x"}],"reasoning_effort":"\#(effort)"}"#)
        #expect(plan.request.think == think)
    }

    /// Each invalid request: the body, the `param` the 400 must name.
    @Test("client mistakes are 400s naming the field", arguments: [
        (#""n":2"#, "n"),
        (#""logprobs":true"#, "logprobs"),
        (#""think":false,"reasoning_effort":"high""#, "reasoning_effort"),
        (#""reasoning_effort":"low","reasoning":{"effort":"high"}"#, "reasoning.effort"),
        (#""reasoning":{"enabled":false,"effort":"high"}"#, "reasoning.effort"),
        (#""reasoning_effort":"extreme""#, "reasoning_effort"),
        (#""think":"maximum""#, "think"),
        (#""num_ctx":"big""#, "num_ctx"),
        (#""options":{"temperature":"hot"}"#, "options.temperature"),
        (#""options":[1]"#, "options"),
        (#""keep_alive":true"#, "keep_alive"),
        (#""timeout_ms":-5"#, "timeout_ms"),
        (#""max_tokens":0"#, "max_tokens"),
        (#""response_format":{"type":"yaml"}"#, "response_format.type"),
        (#""tools":[{"type":"function","function":{"name":"a"}}],"tool_choice":{"type":"function","function":{"name":"zz"}}"#, "tool_choice"),
        (#""tool_choice":{"type":"function","function":{"name":"zz"}}"#, "tool_choice"),
        (#""tools":[{"type":"retrieval","function":{"name":"a"}}]"#, "tools[0].type"),
    ])
    func invalidFields(fields: String, param: String) throws {
        let json = #"{"model":"m","messages":[{"role":"user","content":"x"}],"# + fields + "}"
        let error = try #require(throws: GatewayError.self) { try translate(json) }
        #expect(error.kind == .invalidRequest)
        #expect(error.param == param)
    }

    @Test("invalid messages are 400s naming the message", arguments: [
        (#"[]"#, "messages"),
        (#"[{"role":"wizard","content":"x"}]"#, "messages[0].role"),
        (#"[{"role":"user","content":[{"type":"input_audio","input_audio":{}}]}]"#, "messages[0].content[0].type"),
        (#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"data:image/png,abc"}}]}]"#, "messages[0].content[0].image_url.url"),
        (#"[{"role":"user","content":[{"type":"image_url","image_url":{"url":"ftp://host/x.png"}}]}]"#, "messages[0].content[0].image_url.url"),
        (#"[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"{oops"}}]}]"#,
         "messages[1].tool_calls[0].function.arguments"),
        (#"[{"role":"user","content":"q"},{"role":"assistant","tool_calls":[{"id":"c","type":"function","function":{"name":"f","arguments":"[1,2]"}}]}]"#,
         "messages[1].tool_calls[0].function.arguments"),
    ])
    func invalidMessages(messages: String, param: String) throws {
        let json = #"{"model":"m","messages":"# + messages + "}"
        let error = try #require(throws: GatewayError.self) { try translate(json) }
        #expect(error.kind == .invalidRequest)
        #expect(error.param == param)
    }

    @Test func decodingErrorsNameTheField() throws {
        let missing = try #require(throws: DecodingError.self) {
            try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(#"{"messages":[]}"#.utf8))
        }
        #expect(GatewayError.decoding(missing).param == "model")
        let wrongType = try #require(throws: DecodingError.self) {
            try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(#"{"model":"m","messages":[{"role":"user","content":5}]}"#.utf8))
        }
        #expect(GatewayError.decoding(wrongType).param == "messages[0].content")
        let notJSON = try #require(throws: DecodingError.self) {
            try JSONDecoder().decode(ChatCompletionRequest.self, from: Data("{nope".utf8))
        }
        #expect(GatewayError.decoding(notJSON).message == "The request body is not valid JSON.")
    }
}
