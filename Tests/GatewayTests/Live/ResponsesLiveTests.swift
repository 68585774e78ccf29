import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOPosix
import OllamaSim
import Testing

@Suite("The Responses API against the simulator", .timeLimit(.minutes(2)))
struct ResponsesLiveTests {
    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
    }

    func error(_ response: TestResponse) throws -> OpenAIErrorBody.Detail {
        try JSONDecoder().decode(OpenAIErrorBody.self, from: Data(buffer: response.body)).error
    }

    /// The events of a streamed response, with their SSE names.
    func events(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) -> [JSONValue] {
        let parsed = SSEEvents(response.body)
        for (name, data) in parsed.events {
            let type = (try? JSONDecoder().decode(JSONValue.self, from: Data(data.utf8)))?["type"]?.stringValue
            #expect(name == type, "the SSE event name is the type", sourceLocation: sourceLocation)
        }
        return parsed.json
    }

    @Test func aPlainResponse() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/responses", #"{"model":"sim-chat","instructions":"Be brief.","input":"Hello there"}"#)
            #expect(response.status == .ok)
            let body = try json(response)
            #expect(body["object"] == "response")
            #expect(body["status"] == "completed")
            #expect(body["model"] == "sim-chat")
            #expect(body["output"]?[0]?["type"] == "message")
            #expect(body["output"]?[0]?["content"]?[0]?["text"] == "You said: Hello there")
            #expect(body["usage"]?["output_tokens"]?.intValue ?? 0 > 0)
            let sent = try #require(gateway.upstreamRequests("/api/chat").first)
            #expect(sent["messages"]?[0] == ["role": "system", "content": "Be brief."])
            #expect(sent["stream"] == false)
        }
    }

    @Test func aStreamedResponseFollowsTheGrammar() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/responses", #"{"model":"sim-think","input":"Hello there","stream":true,"reasoning":{"summary":"auto"}}"#)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType] == "text/event-stream")
            let events = events(response)
            let types = events.compactMap { $0["type"]?.stringValue }
            #expect(types.first == "response.created")
            #expect(types.last == "response.completed")
            #expect(events.compactMap { $0["sequence_number"]?.intValue } == Array(0..<events.count))
            #expect(types.contains("response.reasoning_summary_text.delta"))
            let final = try #require(events.last?["response"])
            #expect(final["output"]?.arrayValue?.map { $0["type"] } == ["reasoning", "message"])
            #expect(final["output"]?[1]?["content"]?[0]?["text"] == "You said: Hello there")
            #expect(final["usage"]?["output_tokens_details"]?["reasoning_tokens"]?.intValue ?? 0 > 0)
        }
    }

    @Test func storedResponsesContinueAndCanBeReadAndDeleted() async throws {
        try await LiveGateway.run { gateway in
            let first = try json(try await gateway.post(
                "/v1/responses", #"{"model":"sim-chat","input":[{"role":"user","content":"One"}]}"#))
            let firstID = try #require(first["id"]?.stringValue)
            // A stream keeps its connection: the requests below go over the same one.
            let second = try await gateway.post(
                "/v1/responses", #"{"model":"sim-chat","input":"Two","previous_response_id":"\#(firstID)","stream":true}"#)
            let secondID = try #require(events(second).last?["response"]?["id"]?.stringValue)
            #expect(try json(try await gateway.client.execute(uri: "/v1/responses/\(secondID)", method: .get))["previous_response_id"]
                == .string(firstID))
            let listed = try await gateway.client.execute(uri: "/v1/responses/\(firstID)", method: .get)
            #expect(listed.status == .ok)
            #expect(try json(listed)["id"]?.stringValue == firstID)
            let chat = gateway.upstreamRequests("/api/chat")
            #expect(chat.count == 2)
            #expect(chat[1]["messages"]?.arrayValue?.map { $0["content"] } == ["One", "You said: One", "Two"])

            let items = try await gateway.client.execute(uri: "/v1/responses/\(firstID)/input_items?order=asc", method: .get)
            let page = try json(items)
            #expect(page["object"] == "list")
            #expect(page["data"]?[0]?["content"] == "One")
            #expect(page["data"]?[0]?["id"]?.stringValue?.hasPrefix("msg_") == true)
            #expect(page["has_more"] == false)

            let deleted = try await gateway.client.execute(uri: "/v1/responses/\(firstID)", method: .delete)
            #expect(try json(deleted) == ["id": .string(firstID), "object": "response", "deleted": true])
            let gone = try await gateway.client.execute(uri: "/v1/responses/\(firstID)", method: .get)
            #expect(gone.status == .notFound)
            #expect(try error(gone).code == "response_not_found")
            let again = try await gateway.post(
                "/v1/responses", #"{"model":"sim-chat","input":"x","previous_response_id":"\#(firstID)"}"#)
            #expect(again.status == .notFound)
            #expect(try error(again).param == "previous_response_id")
        }
    }

    @Test func storeFalseStoresNothing() async throws {
        try await LiveGateway.run { gateway in
            for stream in [false, true] {
                let body = #"{"model":"sim-chat","input":"x","store":false,"stream":\#(stream)}"#
                let id: String?
                if stream {
                    id = events(try await gateway.post("/v1/responses", body)).last?["response"]?["id"]?.stringValue
                } else {
                    id = try json(try await gateway.post("/v1/responses", body))["id"]?.stringValue
                }
                let read = try await gateway.client.execute(uri: "/v1/responses/\(try #require(id))", method: .get)
                #expect(read.status == .notFound)
            }
        }
    }

    @Test func anotherKeySeesNothing() async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        let owner = try await store.apiKeys.create(APIKeySettings(name: "owner"))
        let other = try await store.apiKeys.create(APIKeySettings(name: "other"))
        try await LiveGateway.run({
            $0.requireAPIKey = true
            $0.dataDirectory = dataDirectory
        }) { gateway in
            func call(_ method: HTTPRequest.Method, _ path: String, key: String, body: String? = nil) async throws -> TestResponse {
                try await gateway.client.execute(
                    uri: path, method: method,
                    headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                    body: body.map { ByteBuffer(string: $0) })
            }
            let created = try json(try await call(
                .post, "/v1/responses", key: owner.secret.value, body: #"{"model":"sim-chat","input":"mine"}"#))
            let id = try #require(created["id"]?.stringValue)
            for (method, path) in [
                (HTTPRequest.Method.get, "/v1/responses/\(id)"), (.get, "/v1/responses/\(id)/input_items"),
                (.post, "/v1/responses/\(id)/cancel"), (.delete, "/v1/responses/\(id)"),
            ] {
                let response = try await call(method, path, key: other.secret.value)
                #expect(response.status == .notFound, "\(method) \(path)")
            }
            let continued = try await call(
                .post, "/v1/responses", key: other.secret.value,
                body: #"{"model":"sim-chat","input":"x","previous_response_id":"\#(id)"}"#)
            #expect(continued.status == .notFound)
            #expect(try await call(.get, "/v1/responses/\(id)", key: owner.secret.value).status == .ok)
            let cancel = try await call(.post, "/v1/responses/\(id)/cancel", key: owner.secret.value)
            #expect(cancel.status == .badRequest)
            #expect(try error(cancel).message.contains("background"))
        }
        try await database.shutdown()
    }

    @Test func aFunctionToolRoundTrip() async throws {
        try await LiveGateway.run { gateway in
            let tools = #"[{"type":"function","name":"get_weather","parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}]"#
            let first = try json(try await gateway.post(
                "/v1/responses", #"{"model":"sim-tools","input":"get_weather please","tools":\#(tools)}"#))
            let call = try #require(first["output"]?[0])
            #expect(call["type"] == "function_call")
            #expect(call["name"] == "get_weather")
            let callID = try #require(call["call_id"]?.stringValue)
            let firstID = try #require(first["id"]?.stringValue)
            let second = try json(try await gateway.post(
                "/v1/responses",
                #"{"model":"sim-tools","previous_response_id":"\#(firstID)","tools":\#(tools),"input":[{"type":"function_call_output","call_id":"\#(callID)","output":"Sunny"}]}"#))
            #expect(second["output"]?[0]?["content"]?[0]?["text"] == "The tool get_weather returned: Sunny")
        }
    }

    @Test func refusalsAreOpenAIErrors() async throws {
        try await LiveGateway.run { gateway in
            let hosted = try await gateway.post(
                "/v1/responses", #"{"model":"sim-tools","input":"x","tools":[{"type":"web_search"}]}"#)
            #expect(hosted.status == .badRequest)
            #expect(try error(hosted).param == "tools[0].type")
            #expect(try error(hosted).message.contains("'web_search'"))
            let noModel = try await gateway.post("/v1/responses", #"{"input":"x"}"#)
            #expect(noModel.status == .badRequest)
            #expect(try error(noModel).param == "model")
            let unknown = try await gateway.post("/v1/responses", #"{"model":"nope","input":"x"}"#)
            #expect(unknown.status == .notFound)
            let malformed = try await gateway.post("/v1/responses", #"{"model":"sim-chat","input":5}"#)
            #expect(malformed.status == .badRequest)
            let noTools = try await gateway.post(
                "/v1/responses", #"{"model":"sim-chat","input":"x","tools":[{"type":"function","name":"f"}]}"#)
            #expect(noTools.status == .badRequest)
            let badLimit = try await gateway.client.execute(uri: "/v1/responses/resp_x/input_items?limit=0", method: .get)
            #expect(badLimit.status == .badRequest)
            #expect(gateway.upstreamRequests("/api/chat").isEmpty)
        }
    }

    @Test func inputTokensAreOllamasCount() async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/responses/input_tokens", #"{"model":"sim-chat","input":"Hello there"}"#)
            #expect(response.status == .ok)
            #expect(response.headers[HTTPField.Name("x-token-count")!] == "exact")
            let body = try json(response)
            #expect(body["object"] == "response.input_tokens")
            let answer = try json(try await gateway.post("/v1/responses", #"{"model":"sim-chat","input":"Hello there"}"#))
            #expect(body["input_tokens"] == answer["usage"]?["input_tokens"])
        }
    }

    @Test("failures mid-stream end with response.failed", arguments: ["error_mid_stream", "no_done", "drop_mid_stream"])
    func midStream(fault: String) async throws {
        try await LiveGateway.run { gateway in
            let response = try await gateway.post(
                "/v1/responses",
                #"{"model":"sim-chat","input":"Hello there","stream":true,"options":{"sim_fault":"\#(fault)","sim_fault_after":2}}"#)
            #expect(response.status == .ok)
            let events = events(response)
            #expect(events.last?["type"] == "response.failed", "\(events.map { $0["type"] })")
            #expect(events.contains { $0["type"] == "response.output_text.delta" }, "output before the failure was relayed")
            let failed = try #require(events.last?["response"])
            #expect(failed["status"] == "failed")
            #expect(failed["error"]?["message"]?.stringValue?.isEmpty == false)
            // The failed response is stored as the client saw it.
            let id = try #require(failed["id"]?.stringValue)
            let stored = try json(try await gateway.client.execute(uri: "/v1/responses/\(id)", method: .get))
            #expect(stored["status"] == "failed")
            // Unstreamed, Ollama's failure is the HTTP status (`no_done` is a streaming fault only).
            guard fault != "no_done" else { return }
            let plain = try await gateway.post(
                "/v1/responses",
                #"{"model":"sim-chat","input":"x","options":{"sim_fault":"\#(fault)","sim_fault_after":2}}"#)
            #expect(plain.status == .badGateway)
            #expect(try error(plain).type == "api_error")
        }
    }

    @Test func anIdleStreamEndsWithResponseFailed() async throws {
        try await LiveGateway.run({ $0.streamIdleTimeout = .milliseconds(400) }) { gateway in
            let stalled = try await gateway.post(
                "/v1/responses", #"{"model":"sim-chat","input":"x","stream":true,"options":{"sim_fault":"stall"}}"#)
            let events = events(stalled)
            #expect(events.last?["type"] == "response.failed")
            #expect(events.last?["response"]?["error"]?["code"] == "server_error")
            #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(3)))
        }
    }

    @Test func aClientThatLeavesCancelsUpstream() async throws {
        try await LiveGateway.run { gateway in
            let port = try #require(gateway.client.port)
            try await withHTTPClient { http in
                do {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/responses")
                    request.method = .POST
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(
                        string: #"{"model":"sim-chat","input":"x","stream":true,"options":{"sim_fault":"stall","sim_fault_after":1}}"#))
                    let response = try await http.execute(request, timeout: .seconds(30))
                    #expect(response.status == .ok)
                    var body = response.body.makeAsyncIterator()
                    let first = try await body.next()
                    #expect(first.map { String(buffer: $0).contains("response.created") } == true)
                    // Leaving without reading the rest closes the connection.
                }
                #expect(await gateway.sim.recorder.waitForDisconnects(1, timeout: .seconds(5)))
            }
        }
    }

    /// Accounted and permitted as the chat route is: the request log names the route and holds
    /// Ollama's counts, and a key limited to other models is refused before Ollama is asked.
    @Test func usageAndPermissionsAreTheChatRoutes() async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        let key = try await store.apiKeys.create(APIKeySettings(name: "limited", allowedModels: ["sim-chat"]))
        try await LiveGateway.run({
            $0.requireAPIKey = true
            $0.dataDirectory = dataDirectory
        }) { gateway in
            func post(_ body: String) async throws -> TestResponse {
                try await gateway.client.execute(
                    uri: "/v1/responses", method: .post,
                    headers: [.authorization: "Bearer \(key.secret.value)", .contentType: "application/json"],
                    body: ByteBuffer(string: body))
            }
            let answer = try json(try await post(#"{"model":"sim-chat","input":"Hello there"}"#))
            let refused = try await post(#"{"model":"sim-think","input":"Hello there"}"#)
            #expect(refused.status == .forbidden)
            #expect(try error(refused).code == "model_not_allowed")
            #expect(gateway.upstreamRequests("/api/chat").count == 1)
            var entries: [UsageLogEntry] = []
            for _ in 0..<50 {
                entries = try await store.usage.log(UsageLogQuery(limit: 10)).entries
                if entries.count >= 2 { break }
                try await Task.sleep(for: .milliseconds(100))
            }
            let records = entries.map(\.record)
            #expect(records.count == 2)
            #expect(records.allSatisfy { $0.endpoint == "/v1/responses" && $0.keyID == key.record.id })
            let served = try #require(records.first { $0.status == 200 })
            #expect(served.promptTokens == answer["usage"]?["input_tokens"]?.intValue)
            #expect(served.completionTokens == answer["usage"]?["output_tokens"]?.intValue)
            #expect(records.contains { $0.status == 403 })
        }
        try await database.shutdown()
    }
}
