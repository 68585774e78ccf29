import Foundation
import GatewayAPI
import GatewayStore
import Testing

@Suite("Stored responses")
struct ResponseRepositoryTests {
    func response(_ id: String, previous: String? = nil, createdAt: Int = 1_700_000_000, text: String = "answer")
        -> ResponseObject
    {
        var response = ResponseObject(
            id: id, createdAt: createdAt, status: "completed", model: "m",
            output: [.message(ResponseMessage(id: "msg_\(id)", role: "assistant", content: .parts([.outputText(text)]), status: "completed"))],
            previousResponseID: previous, tools: [.function(name: "f", description: nil, parameters: ["type": "object"], strict: true)])
        response.usage = ResponseUsage(inputTokens: 3, outputTokens: 2, reasoningTokens: 1)
        return response
    }

    func input(_ text: String) -> [ResponseItem] {
        [.message(ResponseMessage(id: "msg_in_\(text)", role: "user", content: .text(text))),
            .functionCallOutput(ResponseFunctionCallOutput(id: "fco_1", callID: "c", output: .text("out")))]
    }

    @Test("round trip, owner only", arguments: TestEngine.available)
    func roundTrip(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let responses = testStore(database).responses
            let stored = StoredResponse(owner: "key_a", response: response("resp_1"), inputItems: input("one"))
            try await responses.save(stored)
            #expect(try await responses.get(id: "resp_1", owner: "key_a") == stored)
            #expect(try await responses.get(id: "resp_1", owner: "key_b") == nil)
            #expect(try await responses.get(id: "resp_1", owner: "") == nil)
            #expect(try await !responses.delete(id: "resp_1", owner: "key_b"))
            #expect(try await responses.delete(id: "resp_1", owner: "key_a"))
            #expect(try await responses.get(id: "resp_1", owner: "key_a") == nil)
        }
    }

    @Test("a conversation is read back oldest first", arguments: TestEngine.available)
    func conversation(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let responses = testStore(database).responses
            try await responses.save(StoredResponse(owner: "k", response: response("r1"), inputItems: input("1")))
            try await responses.save(StoredResponse(owner: "k", response: response("r2", previous: "r1"), inputItems: input("2")))
            try await responses.save(StoredResponse(owner: "k", response: response("r3", previous: "r2"), inputItems: input("3")))
            // Another key's response in the middle of a chain is not followed.
            try await responses.save(StoredResponse(owner: "x", response: response("x1", previous: "r3"), inputItems: input("x")))
            try await responses.save(StoredResponse(owner: "k", response: response("r4", previous: "x1"), inputItems: input("4")))
            #expect(try await responses.conversation(endingAt: "r3", owner: "k")?.map(\.id) == ["r1", "r2", "r3"])
            #expect(try await responses.conversation(endingAt: "r4", owner: "k")?.map(\.id) == ["r4"])
            #expect(try await responses.conversation(endingAt: "r3", owner: "x") == nil)
            #expect(try await responses.conversation(endingAt: "nope", owner: "k") == nil)
            // Deleting the middle ends the chain there.
            try await responses.delete(id: "r2", owner: "k")
            #expect(try await responses.conversation(endingAt: "r3", owner: "k")?.map(\.id) == ["r3"])
        }
    }

    @Test("saving again replaces", arguments: TestEngine.available)
    func replace(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let responses = testStore(database).responses
            try await responses.save(StoredResponse(owner: "k", response: response("r1"), inputItems: input("1")))
            var failed = response("r1", text: "partial")
            failed.status = "failed"
            failed.error = ResponseErrorInfo(code: "server_error", message: "boom")
            try await responses.save(StoredResponse(owner: "k", response: failed, inputItems: input("1")))
            #expect(try await responses.get(id: "r1", owner: "k")?.response == failed)
        }
    }

    @Test("pruned by age", arguments: TestEngine.available)
    func prune(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let responses = testStore(database).responses
            try await responses.save(StoredResponse(owner: "k", response: response("old", createdAt: 1_000), inputItems: []))
            try await responses.save(StoredResponse(owner: "k", response: response("new", createdAt: 2_000), inputItems: []))
            #expect(try await responses.prune(before: Date(timeIntervalSince1970: 1_500)) == 1)
            #expect(try await responses.get(id: "old", owner: "k") == nil)
            #expect(try await responses.get(id: "new", owner: "k") != nil)
        }
    }
}
