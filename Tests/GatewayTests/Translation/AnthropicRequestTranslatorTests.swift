import Foundation
import GatewayAPI
import Testing

@testable import Gateway

@Suite("Anthropic messages request → Ollama")
struct AnthropicRequestTranslatorTests {
    static let fixtureNames = (try? Fixtures.names(in: "anthropic-messages", suffix: ".request.json")) ?? []

    func decode(_ json: String) throws -> AnthropicMessagesRequest {
        try JSONDecoder().decode(AnthropicMessagesRequest.self, from: Data(json.utf8))
    }

    func translate(
        _ json: String, defaults: ParameterLayer = .init(), overrides: ParameterLayer = .init(), images: FetchedImages = [:],
        requireMaxTokens: Bool = true
    ) throws -> AnthropicUpstreamPlan {
        let request = try decode(json)
        return try AnthropicRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: request.model, upstreamName: request.model, overrides: overrides),
            defaults: defaults, images: images, requireMaxTokens: requireMaxTokens)
    }

    /// The 400 a request gets, with the field it names.
    func refusal(_ json: String) throws -> GatewayError {
        do {
            _ = try translate(json)
        } catch let error as GatewayError {
            return error
        }
        Issue.record("expected a refusal for \(json)")
        return GatewayError(.internalError, "none")
    }

    func user(_ content: String) -> String { #"[{"role":"user","content":\#(content)}]"# }

    @Test("golden fixture", arguments: fixtureNames)
    func golden(name: String) throws {
        let request = try JSONDecoder().decode(
            AnthropicMessagesRequest.self, from: Fixtures.data("anthropic-messages/\(name).request.json"))
        let remote = AnthropicRequestTranslator.remoteImages(in: request)
        let images = FetchedImages(
            byURL: Dictionary(uniqueKeysWithValues: remote.urls.map { ($0, Data("FETCHED".utf8).base64EncodedString()) }),
            maxBytes: ImageFetchPolicy().maxBytes)
        let plan = try AnthropicRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: request.model, upstreamName: request.model),
            defaults: ParameterLayer(), images: images)
        let expected = try Fixtures.json("anthropic-messages/\(name).ollama.json")
        #expect(try jsonTree(plan.chat.request) == expected)
    }

    @Test func fixturesArePresent() {
        #expect(Self.fixtureNames.count >= 10)
    }

    @Test func maxTokensIsRequiredExceptForCounting() throws {
        let json = #"{"model":"m","messages":\#(user(#""x""#))}"#
        #expect(try refusal(json).param == "max_tokens")
        let counted = try translate(json, requireMaxTokens: false)
        #expect(counted.chat.request.options?["num_predict"] == nil)
        #expect(try refusal(#"{"model":"m","max_tokens":0,"messages":\#(user(#""x""#))}"#).param == "max_tokens")
    }

    @Test func stopSequencesAreMatchedByTheGatewayNotSentAsOptions() throws {
        let plan = try translate(#"{"model":"m","max_tokens":5,"stop_sequences":["END","\n\n"],"messages":\#(user(#""x""#))}"#)
        #expect(plan.stopSequences == ["END", "\n\n"])
        #expect(plan.chat.request.options?["stop"] == nil)
        #expect(try refusal(#"{"model":"m","max_tokens":5,"stop_sequences":[""],"messages":\#(user(#""x""#))}"#).param
            == "stop_sequences[0]")
    }

    @Test("thinking budget → Ollama level", arguments: [
        (1024, OllamaThink.level("low")), (4095, .level("low")), (4096, .level("medium")), (16383, .level("medium")),
        (16384, .level("high")), (64000, .level("high")),
    ])
    func budgetLevels(budget: Int, expected: OllamaThink) throws {
        let plan = try translate(
            #"{"model":"m","max_tokens":100000,"thinking":{"type":"enabled","budget_tokens":\#(budget)},"messages":\#(user(#""x""#))}"#)
        #expect(plan.chat.request.think == expected)
    }

    @Test func thinkingForms() throws {
        let adaptive = try translate(#"{"model":"m","max_tokens":9,"thinking":{"type":"adaptive"},"messages":\#(user(#""x""#))}"#)
        #expect(adaptive.chat.request.think == .enabled(true))
        let none = try translate(#"{"model":"m","max_tokens":9,"messages":\#(user(#""x""#))}"#)
        #expect(none.chat.request.think == nil)
        #expect(try refusal(#"{"model":"m","max_tokens":9,"thinking":{"type":"sometimes"},"messages":\#(user(#""x""#))}"#).param
            == "thinking.type")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"thinking":{"type":"enabled","budget_tokens":0},"messages":\#(user(#""x""#))}"#).param
            == "thinking.budget_tokens")
    }

    @Test func thinkingMustAgreeWithTheThinkControl() throws {
        let contradiction = try refusal(
            #"{"model":"m","max_tokens":9,"think":false,"thinking":{"type":"enabled","budget_tokens":2000},"messages":\#(user(#""x""#))}"#)
        #expect(contradiction.kind == .invalidRequest)
        #expect(contradiction.param == "thinking")
        let agreeing = try translate(
            #"{"model":"m","max_tokens":9,"think":true,"thinking":{"type":"enabled","budget_tokens":20000},"messages":\#(user(#""x""#))}"#)
        #expect(agreeing.chat.request.think == .level("high"))
    }

    @Test func excludeReasoningKeepsThinkingOn() throws {
        let plan = try translate(
            #"{"model":"m","max_tokens":9,"exclude_reasoning":true,"thinking":{"type":"enabled","budget_tokens":5000},"messages":\#(user(#""x""#))}"#)
        #expect(plan.chat.request.think == .level("medium"))
        #expect(plan.chat.parameters.excludeReasoning == true)
    }

    @Test func precedenceIsRequestThenOverrideThenDefault() throws {
        let defaults = try ParameterLayer(ollamaStyle: ["num_ctx": 2048, "temperature": 0.8, "top_k": 40, "keep_alive": "5m"])
        let overrides = try ParameterLayer(ollamaStyle: ["num_ctx": 32768, "temperature": 0.5, "think": "high", "request_timeout": 1500])
        let plan = try translate(
            #"{"model":"m","max_tokens":9,"temperature":0.1,"messages":\#(user(#""x""#))}"#, defaults: defaults, overrides: overrides)
        #expect(plan.chat.request.options?["temperature"] == .double(0.1))
        #expect(plan.chat.request.options?["num_ctx"] == .int(32768))
        #expect(plan.chat.request.options?["top_k"] == .int(40))
        #expect(plan.chat.request.keepAlive == .string("5m"))
        #expect(plan.chat.request.think == .level("high"))
        #expect(plan.chat.parameters.timeout == .milliseconds(1500))
        let timed = try translate(#"{"model":"m","max_tokens":9,"timeout_ms":250,"messages":\#(user(#""x""#))}"#, overrides: overrides)
        #expect(timed.chat.parameters.timeout == .milliseconds(250))
        #expect(timed.chat.request.options?["timeout_ms"] == nil)
    }

    @Test func wrongControlTypesNameTheField() throws {
        #expect(try refusal(#"{"model":"m","max_tokens":9,"num_ctx":"big","messages":\#(user(#""x""#))}"#).param == "num_ctx")
        #expect(try refusal(#"{"model":"m","max_tokens":9,"extra_body":{"think":"deep"},"messages":\#(user(#""x""#))}"#).param
            == "think")
    }

    @Test func unknownBlocksAreKeptThenRefusedByName() throws {
        let request = try decode(
            #"{"model":"m","max_tokens":9,"messages":\#(user(#"[{"type":"document","source":{"type":"text","data":"x"}}]"#))}"#)
        guard case .blocks(let blocks) = request.messages[0].content, case .unknown(let type, let raw) = blocks[0] else {
            Issue.record("the unknown block was not kept")
            return
        }
        #expect(type == "document")
        #expect(raw["source"]?["data"] == "x")
        let error = try refusal(
            #"{"model":"m","max_tokens":9,"messages":\#(user(#"[{"type":"text","text":"a"},{"type":"document"}]"#))}"#)
        #expect(error.param == "messages[0].content[1].type")
        #expect(error.message.contains("'document'"))
    }

    @Test func misplacedBlocksAreRefused() throws {
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}]}"#
        ).param == "messages[0].content[0].type")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"messages":\#(user(#"[{"type":"tool_use","id":"t","name":"f","input":{}}]"#))}"#
        ).param == "messages[0].content[0].type")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"messages":[{"role":"assistant","content":[{"type":"tool_use","id":"t","name":"f","input":[1]}]}]}"#
        ).param == "messages[0].content[0].input")
        #expect(try refusal(#"{"model":"m","max_tokens":9,"messages":[{"role":"system","content":"x"}]}"#).param == "messages[0].role")
        #expect(try refusal(#"{"model":"m","max_tokens":9,"messages":[]}"#).param == "messages")
        #expect(try refusal(#"{"model":"m","max_tokens":9,"system":[{"type":"image","source":{"type":"base64","data":"x"}}],"messages":\#(user(#""x""#))}"#).param
            == "system[0].type")
    }

    @Test func toolsAndToolChoiceErrors() throws {
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"tools":[{"type":"web_search_20250305","name":"web_search"}],"messages":\#(user(#""x""#))}"#
        ).param == "tools[0].type")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"tools":[{"name":"a","input_schema":{"type":"object"}}],"tool_choice":{"type":"tool","name":"b"},"messages":\#(user(#""x""#))}"#
        ).param == "tool_choice.name")
        #expect(try refusal(#"{"model":"m","max_tokens":9,"tool_choice":{"type":"any"},"messages":\#(user(#""x""#))}"#).param
            == "tool_choice")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"tools":[{"name":"a"}],"tool_choice":{"type":"sometimes"},"messages":\#(user(#""x""#))}"#
        ).param == "tool_choice")
        let custom = try translate(
            #"{"model":"m","max_tokens":9,"tools":[{"type":"custom","name":"a"}],"messages":\#(user(#""x""#))}"#)
        #expect(custom.chat.request.tools?.first?.function.parameters == ["type": "object", "properties": [:]])
    }

    @Test func toolResultsFollowTheirCallInOrderWithImages() throws {
        let plan = try translate(#"""
            {"model":"m","max_tokens":9,"messages":[
             {"role":"user","content":"go"},
             {"role":"assistant","content":[{"type":"tool_use","id":"t1","name":"one","input":{}},{"type":"tool_use","id":"t2","name":"two","input":{}}]},
             {"role":"user","content":[{"type":"text","text":"after"},
               {"type":"tool_result","tool_use_id":"t2","content":[{"type":"text","text":"B"},{"type":"image","source":{"type":"base64","media_type":"image/png","data":"QUJD"}}]},
               {"type":"tool_result","tool_use_id":"t1"}]}]}
            """#)
        let messages = plan.chat.request.messages
        #expect(messages.map(\.role) == ["user", "assistant", "tool", "tool", "user"])
        #expect(messages[2].toolCallID == "t2" && messages[2].toolName == "two" && messages[2].content == "B")
        #expect(messages[2].images == ["QUJD"])
        #expect(messages[3].toolCallID == "t1" && messages[3].toolName == "one" && messages[3].content == "")
        #expect(messages[4].content == "after")
    }

    @Test func imageSources() throws {
        let dataURL = try translate(
            #"{"model":"m","max_tokens":9,"messages":\#(user(#"[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"data:image/png;base64,QUJD"}}]"#))}"#)
        #expect(dataURL.chat.request.messages[0].images == ["QUJD"])
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"messages":\#(user(#"[{"type":"image","source":{"type":"file","file_id":"f"}}]"#))}"#
        ).param == "messages[0].content[0].source.type")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"messages":\#(user(#"[{"type":"image","source":{"type":"url","url":"ftp://x/y.png"}}]"#))}"#
        ).param == "messages[0].content[0].source.url")
        let request = try decode(#"""
            {"model":"m","max_tokens":9,"messages":[{"role":"user","content":[
             {"type":"image","source":{"type":"url","url":"https://a/1.png"}},
             {"type":"tool_result","tool_use_id":"t","content":[{"type":"image","source":{"type":"url","url":"https://a/2.png"}}]},
             {"type":"image","source":{"type":"url","url":"https://a/1.png"}}]}]}
            """#)
        let remote = AnthropicRequestTranslator.remoteImages(in: request)
        #expect(remote.urls == ["https://a/1.png", "https://a/2.png"])
        #expect(remote.params["https://a/2.png"] == "messages[0].content[1].content[0].source.url")
    }

    @Test func decodingErrorsNameTheField() throws {
        do {
            _ = try decode(#"{"model":"m","max_tokens":9,"messages":[{"role":"user","content":[{"type":"text"}]}]}"#)
            Issue.record("expected a decoding error")
        } catch {
            #expect(GatewayError.decoding(error).param == "messages[0].content[0].text")
        }
    }
}
