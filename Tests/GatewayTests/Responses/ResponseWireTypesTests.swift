import Foundation
import GatewayAPI
import Testing

@Suite("Responses wire types")
struct ResponseWireTypesTests {
    func decode<T: Decodable>(_ type: T.Type, _ json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    @Test func inputIsAStringOrItems() throws {
        let text = try decode(ResponsesRequest.self, #"{"model":"m","input":"hi"}"#)
        #expect(text.inputItems == [.message(ResponseMessage(role: "user", content: .text("hi")))])
        let items = try decode(ResponsesRequest.self, #"{"model":"m","input":[{"role":"user","content":"a"},{"type":"message","role":"assistant","content":[{"type":"output_text","text":"b","annotations":[]}]}]}"#)
        #expect(items.inputItems.map(\.type) == ["message", "message"])
        #expect(items.store == nil && items.stream == false)
    }

    @Test func unknownItemsPartsAndToolsAreKeptWhole() throws {
        let request = try decode(ResponsesRequest.self, #"{"model":"m","input":[{"type":"item_reference","id":"msg_1"},{"role":"user","content":[{"type":"input_file","file_id":"f"}]}],"tools":[{"type":"web_search","search_context_size":"low"}]}"#)
        #expect(request.inputItems.first == .unknown(type: "item_reference", value: ["type": "item_reference", "id": "msg_1"]))
        guard case .message(let message) = request.inputItems.last, case .parts(let parts) = message.content else {
            Issue.record("a message with parts")
            return
        }
        #expect(parts == [.unknown(type: "input_file", value: ["type": "input_file", "file_id": "f"])])
        #expect(request.tools == [.other(type: "web_search", value: ["type": "web_search", "search_context_size": "low"])])
        // Kept whole, they encode back as they came.
        #expect(try jsonTree(request.inputItems.first) == ["type": "item_reference", "id": "msg_1"])
    }

    @Test func ollamaControlsBesideTheSurfaceFields() throws {
        let request = try decode(ResponsesRequest.self, #"{"model":"m","input":"x","temperature":0.5,"num_ctx":4096,"think":"high","extra_body":{"top_k":3}}"#)
        #expect(request.temperature == 0.5)
        #expect(request.think == "high")
        #expect(request.ollamaControls == ["num_ctx": 4096, "top_k": 3])
    }

    @Test func itemsRoundTripAsStored() throws {
        let items: [ResponseItem] = [
            .message(ResponseMessage(id: "msg_1", role: "assistant", content: .parts([.outputText("hi"), .refusal("no")]), status: "completed")),
            .message(ResponseMessage(role: "user", content: .parts([.inputText("a"), .inputImage(imageURL: "data:x", fileID: nil, detail: nil)]))),
            .functionCall(ResponseFunctionCall(id: "fc_1", callID: "c", name: "f", arguments: "{}", status: "completed")),
            .functionCallOutput(ResponseFunctionCallOutput(callID: "c", output: .text("ok"))),
            .reasoning(ResponseReasoning(id: "rs_1", summary: [.init(text: "think")])),
        ]
        let data = try JSONEncoder().encode(items)
        let decoded = try JSONDecoder().decode([ResponseItem].self, from: data)
        #expect(decoded.map(\.type) == items.map(\.type))
        #expect(decoded[0] == items[0] && decoded[2] == items[2] && decoded[3] == items[3] && decoded[4] == items[4])
        // The API writes the image detail it used; "auto" when none was asked for.
        #expect(try jsonTree(items[1])["content"]?[1]?["detail"] == "auto")
        #expect(try jsonTree(items[0])["content"]?[0]?["annotations"] == [])
    }

    @Test func identifiedGivesEachItemAnIdOfItsKind() {
        var count = 0
        let items: [ResponseItem] = [
            .message(ResponseMessage(role: "user", content: .text("a"))),
            .functionCallOutput(ResponseFunctionCallOutput(callID: "c", output: .text("x"))),
            .message(ResponseMessage(id: "msg_given", role: "user", content: .text("b"))),
        ]
        let identified = items.map { item in
            item.identified { prefix in
                count += 1
                return "\(prefix)\(count)"
            }
        }
        #expect(identified.map(\.id) == ["msg_1", "fco_2", "msg_given"])
    }

    @Test func reasoningTextPrefersTheFullContent() {
        #expect(ResponseReasoning(summary: [.init(text: "a"), .init(text: "b")]).text == "a\n\nb")
        #expect(ResponseReasoning(summary: [.init(text: "short")], content: [.init(type: "reasoning_text", text: "long")]).text == "long")
    }
}
