import Foundation
import GatewayAPI
import Testing

@testable import Gateway

@Suite("Responses request → Ollama")
struct ResponsesRequestTranslatorTests {
    static let fixtureNames = (try? Fixtures.names(in: "responses-request", suffix: ".request.json")) ?? []

    func decode(_ json: String) throws -> ResponsesRequest {
        try JSONDecoder().decode(ResponsesRequest.self, from: Data(json.utf8))
    }

    func translate(_ json: String, history: [ResponseItem] = [], defaults: ParameterLayer = .init(),
        overrides: ParameterLayer = .init()) throws -> UpstreamChatPlan
    {
        let request = try decode(json)
        let model = request.model ?? "m"
        return try ResponsesRequestTranslator.translate(
            request, history: history, model: ResolvedModel(requestedName: model, upstreamName: model, overrides: overrides),
            defaults: defaults)
    }

    func error(_ json: String) throws -> GatewayError {
        do {
            _ = try translate(json)
        } catch let error as GatewayError {
            return error
        }
        Issue.record("expected a refusal")
        return GatewayError.invalid("none")
    }

    @Test("golden fixture", arguments: fixtureNames)
    func golden(name: String) throws {
        let request = try JSONDecoder().decode(
            ResponsesRequest.self, from: Fixtures.data("responses-request/\(name).request.json"))
        let remote = ResponsesRequestTranslator.remoteImages(in: request.inputItems).urls
        let images = FetchedImages(
            byURL: Dictionary(uniqueKeysWithValues: remote.map { ($0, Data("FETCHED".utf8).base64EncodedString()) }),
            maxBytes: ImageFetchPolicy().maxBytes)
        let model = try #require(request.model)
        let plan = try ResponsesRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: model, upstreamName: model), defaults: ParameterLayer(),
            images: images)
        let expected = try Fixtures.json("responses-request/\(name).ollama.json")
        #expect(try jsonTree(plan.request) == expected)
    }

    @Test func fixturesArePresent() {
        #expect(Self.fixtureNames.count >= 10)
    }

    @Test func remoteImagesNameTheirField() throws {
        let request = try decode(
            #"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":"https://x/a.png"}]}]}"#)
        let remote = ResponsesRequestTranslator.remoteImages(in: request.inputItems)
        #expect(remote.urls == ["https://x/a.png"])
        #expect(remote.params["https://x/a.png"] == "input[0].content[0].image_url")
    }

    @Test func historyComesBeforeTheInputAndInstructionsFirst() throws {
        let history: [ResponseItem] = [
            .message(ResponseMessage(role: "user", content: .text("first"))),
            .message(ResponseMessage(id: "msg_a", role: "assistant", content: .parts([.outputText("one")]), status: "completed")),
        ]
        let plan = try translate(#"{"model":"m","instructions":"Sys","input":"second"}"#, history: history)
        #expect(plan.request.messages.map(\.role) == ["system", "user", "assistant", "user"])
        #expect(plan.request.messages.map(\.content) == ["Sys", "first", "one", "second"])
    }

    @Test(arguments: ["web_search", "web_search_preview", "file_search", "computer_use_preview", "code_interpreter",
        "image_generation", "mcp", "local_shell", "custom"])
    func hostedToolsAreRefusedByName(type: String) throws {
        let failure = try error(#"{"model":"m","input":"x","tools":[{"type":"function","name":"f"},{"type":"\#(type)"}]}"#)
        #expect(failure.kind == .invalidRequest)
        #expect(failure.param == "tools[1].type")
        #expect(failure.message.contains("'\(type)'"))
    }

    @Test func unknownItemTypesAreRefusedByName() throws {
        let failure = try error(#"{"model":"m","input":[{"type":"item_reference","id":"msg_1"}]}"#)
        #expect(failure.param == "input[0].type")
        #expect(failure.message.contains("'item_reference'"))
    }

    @Test func unknownContentPartsAndFileImagesAreRefused() throws {
        let part = try error(#"{"model":"m","input":[{"role":"user","content":[{"type":"input_file","file_id":"f"}]}]}"#)
        #expect(part.param == "input[0].content[0].type")
        let file = try error(#"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","file_id":"f"}]}]}"#)
        #expect(file.param == "input[0].content[0].file_id")
    }

    @Test func badFieldsNameThemselves() throws {
        #expect(try error(#"{"model":"m","input":"x","background":true}"#).param == "background")
        #expect(try error(#"{"model":"m","input":"x","conversation":"conv_1"}"#).param == "conversation")
        #expect(try error(#"{"model":"m","input":"x","truncation":"middle"}"#).param == "truncation")
        #expect(try error(#"{"model":"m","input":"x","reasoning":{"effort":"huge"}}"#).param == "reasoning.effort")
        #expect(try error(#"{"model":"m","input":"x","reasoning":{"summary":"long"}}"#).param == "reasoning.summary")
        #expect(try error(#"{"model":"m","input":"x","max_output_tokens":0}"#).param == "max_output_tokens")
        #expect(try error(#"{"model":"m","input":"x","text":{"format":{"type":"xml"}}}"#).param == "text.format.type")
        #expect(try error(#"{"model":"m","input":"x","text":{"format":{"type":"json_schema","name":"n"}}}"#).param
            == "text.format.schema")
        #expect(try error(#"{"model":"m","input":"x","tool_choice":{"type":"web_search"}}"#).param == "tool_choice")
        #expect(try error(#"{"model":"m","input":"x","tool_choice":{"type":"function","name":"nope"}}"#).param == "tool_choice")
        #expect(try error(#"{"model":"m","input":[]}"#).param == "input")
        #expect(try error(#"{"model":"m","input":[{"role":"robot","content":"x"}]}"#).param == "input[0].role")
        #expect(try error(#"{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":"[1]"}]}"#)
            .param == "input[0].arguments")
        #expect(try error(#"{"model":"m","input":"x","metadata":"tag"}"#).param == "metadata")
    }

    @Test func effortAndThinkMustAgree() throws {
        let failure = try error(#"{"model":"m","input":"x","think":false,"reasoning":{"effort":"high"}}"#)
        #expect(failure.param == "reasoning.effort")
        let plan = try translate(#"{"model":"m","input":"x","reasoning":{"effort":"minimal"}}"#)
        #expect(plan.request.think == .level("low"))
    }

    @Test func precedenceIsRequestThenOverrideThenDefault() throws {
        let defaults = try ParameterLayer(ollamaStyle: ["num_ctx": 2048, "temperature": 0.8])
        let overrides = try ParameterLayer(ollamaStyle: ["num_ctx": 32768, "temperature": 0.5])
        let plan = try translate(#"{"model":"m","input":"x","temperature":0.1}"#, defaults: defaults, overrides: overrides)
        #expect(plan.request.options?["temperature"] == .double(0.1))
        #expect(plan.request.options?["num_ctx"] == .int(32768))
    }

    @Test func theResponseEchoesTheRequest() throws {
        let request = try decode(
            #"{"model":"asked","input":"x","instructions":"I","max_output_tokens":9,"parallel_tool_calls":false,"previous_response_id":"resp_0","store":false,"temperature":0.3,"top_p":0.5,"user":"u","metadata":{"k":"v"},"truncation":"auto","reasoning":{"effort":"low"},"text":{"format":{"type":"json_object"}},"tools":[{"type":"function","name":"f"}],"tool_choice":"required"}"#)
        let response = ResponsesRequestTranslator.response(for: request, id: "resp_1", createdAt: 5, model: "asked")
        let wire = try jsonTree(response)
        #expect(wire["id"] == "resp_1")
        #expect(wire["object"] == "response")
        #expect(wire["status"] == "in_progress")
        #expect(wire["instructions"] == "I")
        #expect(wire["max_output_tokens"] == 9)
        #expect(wire["parallel_tool_calls"] == false)
        #expect(wire["previous_response_id"] == "resp_0")
        #expect(wire["store"] == false)
        #expect(wire["user"] == "u")
        #expect(wire["metadata"] == ["k": "v"])
        #expect(wire["truncation"] == "auto")
        #expect(wire["reasoning"] == ["effort": "low", "summary": nil])
        #expect(wire["text"] == ["format": ["type": "json_object"]])
        #expect(wire["tool_choice"] == "required")
        #expect(wire["tools"]?[0]?["name"] == "f")
        #expect(wire["usage"] == .null)
        #expect(wire["error"] == .null)
    }
}
