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
        // Capabilities not known: Ollama's default decides (a thinking model thinks).
        let adaptive = try translate(#"{"model":"m","max_tokens":9,"thinking":{"type":"adaptive"},"messages":\#(user(#""x""#))}"#)
        #expect(adaptive.chat.request.think == nil)
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
        #expect(try refusal(#"{"model":"m","max_tokens":9,"messages":[{"role":"tool","content":"x"}]}"#).param == "messages[0].role")
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

    // MARK: - What Claude Code and other current clients send

    func translate(_ json: String, capabilities: Set<ModelCapability>?, stripBillingHeader: Bool = false) throws
        -> AnthropicUpstreamPlan
    {
        let request = try decode(json)
        return try AnthropicRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: "m", upstreamName: "m", capabilities: capabilities),
            defaults: ParameterLayer(), stripBillingHeader: stripBillingHeader)
    }

    @Test func systemMessagesKeepTheirPlaceInTheConversation() throws {
        let plan = try translate(#"""
            {"model":"m","max_tokens":9,"system":"top","messages":[
             {"role":"user","content":"hi"},
             {"role":"system","content":"now answer in French"},
             {"role":"assistant","content":"ok"},
             {"role":"system","content":[{"type":"text","text":"a"},{"type":"text","text":"b","cache_control":{"type":"ephemeral"}}]},
             {"role":"user","content":"go"}]}
            """#)
        let messages = plan.chat.request.messages
        #expect(messages.map(\.role) == ["system", "user", "system", "assistant", "system", "user"])
        #expect(messages[2].content == "now answer in French")
        #expect(messages[4].content == "a\nb")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"messages":[{"role":"system","content":[{"type":"image","source":{"type":"base64","data":"x"}}]},{"role":"user","content":"x"}]}"#
        ).param == "messages[0].content[0].type")
    }

    @Test func toolChangesInSystemMessagesDecideTheToolsOllamaSees() throws {
        let plan = try translate(#"""
            {"model":"m","max_tokens":9,"tools":[{"name":"a"},{"name":"b"}],"messages":[
             {"role":"user","content":"hi"},
             {"role":"system","content":[{"type":"tool_removal","tool":{"type":"tool_reference","name":"a"}},
               {"type":"tool_addition","tool":{"type":"tool_definition","definition":{"name":"c","description":"C","input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}}},
               {"type":"text","text":"tools changed"}]},
             {"role":"user","content":"go"}]}
            """#)
        #expect(plan.chat.request.tools?.map(\.function.name) == ["b", "c"])
        #expect(plan.chat.request.tools?.last?.function.description == "C")
        #expect(plan.chat.request.messages[1].content == "tools changed")
        // Removed, then added back by reference.
        let back = try translate(#"""
            {"model":"m","max_tokens":9,"tools":[{"name":"a"}],"messages":[{"role":"user","content":"hi"},
             {"role":"system","content":[{"type":"tool_removal","tool":{"type":"tool_reference","name":"a"}}]},
             {"role":"system","content":[{"type":"tool_addition","tool":{"type":"tool_reference","name":"a"}}]},
             {"role":"user","content":"go"}]}
            """#)
        #expect(back.chat.request.tools?.map(\.function.name) == ["a"])
        // Everything removed: no tools at all.
        let none = try translate(#"""
            {"model":"m","max_tokens":9,"tools":[{"name":"a"}],"messages":[{"role":"user","content":"hi"},
             {"role":"system","content":[{"type":"tool_removal","tool":{"type":"tool_reference","name":"a"}}]}]}
            """#)
        #expect(none.chat.request.tools == nil)
        #expect(try refusal(#"""
            {"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"},
             {"role":"system","content":[{"type":"tool_addition","tool":{"type":"tool_reference","name":"nowhere"}}]}]}
            """#).param == "messages[1].content[0].tool.name")
        #expect(try refusal(#"""
            {"model":"m","max_tokens":9,"messages":[{"role":"user","content":"hi"},
             {"role":"system","content":[{"type":"tool_addition","tool":{"type":"mcp_toolset_reference","server_name":"s"}}]}]}
            """#).param == "messages[1].content[0].tool.type")
        // tool_choice is checked against the tools in force.
        #expect(try refusal(#"""
            {"model":"m","max_tokens":9,"tools":[{"name":"a"},{"name":"b"}],"tool_choice":{"type":"tool","name":"a"},"messages":[{"role":"user","content":"hi"},
             {"role":"system","content":[{"type":"tool_removal","tool":{"type":"tool_reference","name":"a"}}]}]}
            """#).param == "tool_choice.name")
    }

    @Test func adaptiveThinkingThinksWhereTheModelCan() throws {
        let adaptive = #"{"model":"m","max_tokens":9,"thinking":{"type":"adaptive"},"messages":\#(user(#""x""#))}"#
        #expect(try translate(adaptive, capabilities: [.completion, .tools]).chat.request.think == nil)
        #expect(try translate(adaptive, capabilities: [.completion, .thinking]).chat.request.think == .enabled(true))
        let withEffort =
            #"{"model":"m","max_tokens":9,"thinking":{"type":"adaptive"},"output_config":{"effort":"low"},"messages":\#(user(#""x""#))}"#
        #expect(try translate(withEffort, capabilities: [.completion, .thinking]).chat.request.think == .level("low"))
        #expect(try translate(withEffort, capabilities: [.completion]).chat.request.think == nil)
        // An explicit `think:false` beside adaptive is not a contradiction: adaptive lets it decide.
        let off = #"{"model":"m","max_tokens":9,"think":false,"thinking":{"type":"adaptive"},"messages":\#(user(#""x""#))}"#
        #expect(try translate(off, capabilities: [.completion, .thinking]).chat.request.think == .enabled(false))
    }

    @Test("output_config.effort → Ollama level", arguments: [
        ("low", OllamaThink.level("low")), ("medium", .level("medium")), ("high", .level("high")), ("xhigh", .level("max")),
        ("max", .level("max")),
    ])
    func effortLevels(effort: String, expected: OllamaThink) throws {
        let enabled = try translate(
            #"{"model":"m","max_tokens":9,"thinking":{"type":"enabled","budget_tokens":2000},"output_config":{"effort":"\#(effort)"},"messages":\#(user(#""x""#))}"#,
            capabilities: [.completion, .thinking])
        #expect(enabled.chat.request.think == expected)
        let alone = try translate(
            #"{"model":"m","max_tokens":9,"output_config":{"effort":"\#(effort)"},"messages":\#(user(#""x""#))}"#,
            capabilities: [.completion, .thinking])
        #expect(alone.chat.request.think == expected)
        let plain = try translate(
            #"{"model":"m","max_tokens":9,"output_config":{"effort":"\#(effort)"},"messages":\#(user(#""x""#))}"#,
            capabilities: [.completion])
        #expect(plain.chat.request.think == nil)
    }

    @Test func badEffortAndDisplayAreNamed() throws {
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"output_config":{"effort":"huge"},"messages":\#(user(#""x""#))}"#).param
            == "output_config.effort")
        #expect(try refusal(
            #"{"model":"m","max_tokens":9,"thinking":{"type":"adaptive","display":"loud"},"messages":\#(user(#""x""#))}"#).param
            == "thinking.display")
        let request = try decode(
            #"{"model":"m","max_tokens":9,"thinking":{"type":"adaptive","display":"omitted"},"output_config":null,"messages":\#(user(#""x""#))}"#)
        #expect(request.thinkingDisplay == "omitted")
        #expect(request.effort == nil)
    }

    @Test func nullOllamaOptionsAreNotSet() throws {
        let overrides = try ParameterLayer(ollamaStyle: ["num_ctx": 8192])
        let plan = try translate(
            #"{"model":"m","max_tokens":9,"num_ctx":null,"keep_alive":null,"think":null,"options":{"seed":null,"top_k":3},"extra_body":{"num_gpu":null},"messages":\#(user(#""x""#))}"#,
            overrides: overrides)
        #expect(plan.chat.request.options?["num_ctx"] == .int(8192))
        #expect(plan.chat.request.options?["seed"] == nil)
        #expect(plan.chat.request.options?["num_gpu"] == nil)
        #expect(plan.chat.request.options?["top_k"] == .int(3))
        #expect(plan.chat.request.keepAlive == nil)
        #expect(plan.chat.request.think == nil)
        // A null at the top level does not hide the same option set inside `options`.
        let nested = try ParameterLayer(ollamaStyle: ["num_ctx": nil, "options": ["num_ctx": 4096]])
        #expect(nested.options["num_ctx"] == .int(4096))
    }

    @Test func billingHeaderLineIsRemovedWhenAsked() throws {
        func request(_ stamp: String) -> String {
            #"""
            {"model":"m","max_tokens":32000,"system":[
              {"type":"text","text":"x-anthropic-billing-header: cc_version=2.1.0.\#(stamp); cc_entrypoint=sdk-py; cch=\#(stamp);"},
              {"type":"text","text":"You are Claude Code.","cache_control":{"type":"ephemeral"}}],
             "messages":[{"role":"user","content":"hi"}]}
            """#
        }
        let first = try translate(request("a1"), capabilities: nil, stripBillingHeader: true)
        let second = try translate(request("b2"), capabilities: nil, stripBillingHeader: true)
        #expect(first.chat.request.messages[0].content == "You are Claude Code.")
        #expect(first.chat.request == second.chat.request)
        let kept = try translate(request("a1"), capabilities: nil, stripBillingHeader: false)
        #expect(kept.chat.request.messages[0].content.hasPrefix("x-anthropic-billing-header: cc_version=2.1.0.a1;"))
        #expect(ClaudeCodeBillingHeader.strip("a\nx-anthropic-billing-header: x;\nb") == "a\nb")
        #expect(ClaudeCodeBillingHeader.strip("no header") == "no header")
    }
}
