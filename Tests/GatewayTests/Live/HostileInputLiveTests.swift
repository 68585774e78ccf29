import Foundation
import Gateway
import GatewayAPI
import HummingbirdTesting
import NIOCore
import OllamaSim
import Testing

/// Values no model can honour, numbers no type can hold, and bodies whose shape costs more to decode
/// than to send: each is a 400 in the caller's format naming the field or the limit, never a trap
/// (the simulator runs in the same process here, as in `--demo`).
@Suite("Hostile input against ollama-sim", .timeLimit(.minutes(2)))
struct HostileInputLiveTests {
    static let adminToken = "hostile-admin-token-0123456789"

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
    }

    // MARK: - Numbers from the issue

    @Test func hugeMaxTokensIsClampedOnEveryGeneratingRoute() async throws {
        try await LiveGateway.run { gateway in
            let huge = "9223372036854775807"
            let requests = [
                ("/v1/chat/completions", #"{"model":"sim-chat","max_tokens":\#(huge),"messages":[{"role":"user","content":"Hi"}]}"#, "/api/chat"),
                ("/v1/chat/completions", #"{"model":"sim-chat","max_completion_tokens":\#(huge),"messages":[{"role":"user","content":"Hi"}]}"#, "/api/chat"),
                ("/v1/messages", #"{"model":"sim-chat","max_tokens":\#(huge),"messages":[{"role":"user","content":"Hi"}]}"#, "/api/chat"),
                ("/v1/completions", #"{"model":"sim-chat","max_tokens":\#(huge),"prompt":"Hi"}"#, "/api/generate"),
                ("/api/chat", #"{"model":"sim-chat","stream":false,"options":{"num_predict":\#(huge)},"messages":[{"role":"user","content":"Hi"}]}"#, "/api/chat"),
                ("/api/generate", #"{"model":"sim-chat","stream":false,"options":{"num_predict":\#(huge)},"prompt":"Hi"}"#, "/api/generate"),
            ]
            for (path, body, upstreamPath) in requests {
                let response = try await gateway.post(path, body)
                #expect(response.status == .ok, "\(path): \(String(buffer: response.body))")
                let sent = try #require(gateway.upstreamRequests(upstreamPath).last)
                #expect(sent["options"]?["num_predict"] == .int(2_147_483_647), "\(path)")
            }
        }
    }

    @Test func keepAliveBeyondADurationIsA400InEachFormat() async throws {
        try await LiveGateway.run { gateway in
            let native = try await gateway.post(
                "/api/chat", #"{"model":"sim-chat","keep_alive":1e19,"messages":[{"role":"user","content":"Hi"}]}"#)
            #expect(native.status == .badRequest)
            let nativeMessage = try #require(try json(native)["error"]?.stringValue)
            #expect(nativeMessage.contains("'keep_alive' must be at most 9223372036 seconds"))

            let openAI = try await gateway.post(
                "/v1/chat/completions", #"{"model":"sim-chat","keep_alive":"99999999999h","messages":[{"role":"user","content":"Hi"}]}"#)
            #expect(openAI.status == .badRequest)
            #expect(try json(openAI)["error"]?["param"] == "keep_alive")

            let anthropic = try await gateway.post(
                "/v1/messages", #"{"model":"sim-chat","max_tokens":5,"keep_alive":1e19,"messages":[{"role":"user","content":"Hi"}]}"#)
            #expect(anthropic.status == .badRequest)
            #expect(try json(anthropic)["type"] == "error")
            #expect(try json(anthropic)["error"]?["message"]?.stringValue?.contains("keep_alive") == true)

            let generate = try await gateway.post("/api/generate", #"{"model":"sim-chat","keep_alive":"soon","prompt":"Hi"}"#)
            #expect(generate.status == .badRequest)
            // Legal values still pass: negative is forever, a duration string as Ollama parses it.
            for keepAlive in ["-1", "-1e300", #""1h30m""#, "9223372036", #""-5m""#] {
                let response = try await gateway.post(
                    "/api/chat", #"{"model":"sim-chat","stream":false,"keep_alive":\#(keepAlive),"messages":[{"role":"user","content":"Hi"}]}"#)
                #expect(response.status == .ok, "\(keepAlive): \(String(buffer: response.body))")
            }
            #expect(gateway.upstreamRequests("/api/chat").count == 5)
        }
    }

    @Test func contextAndGenerationLengthsOllamaWouldRefuse() async throws {
        try await LiveGateway.run { gateway in
            let embeddings = try await gateway.post("/v1/embeddings", #"{"model":"sim-embed","input":"hello","num_ctx":-1}"#)
            #expect(embeddings.status == .badRequest)
            #expect(try json(embeddings)["error"]?["param"] == "num_ctx")
            #expect(try json(embeddings)["error"]?["type"] == "invalid_request_error")

            let refusals: [(String, String, String)] = [
                ("/v1/chat/completions", #"{"model":"sim-chat","num_ctx":0,"messages":[{"role":"user","content":"Hi"}]}"#, "num_ctx"),
                ("/v1/chat/completions", #"{"model":"sim-chat","options":{"num_ctx":4294967296},"messages":[{"role":"user","content":"Hi"}]}"#, "options.num_ctx"),
                ("/v1/chat/completions", #"{"model":"sim-chat","num_predict":-3,"messages":[{"role":"user","content":"Hi"}]}"#, "num_predict"),
                ("/v1/completions", #"{"model":"sim-chat","prompt":"Hi","num_ctx":-1}"#, "num_ctx"),
                ("/v1/messages/count_tokens", #"{"model":"sim-chat","num_ctx":-1,"messages":[{"role":"user","content":"Hi"}]}"#, "num_ctx"),
                ("/api/embed", #"{"model":"sim-embed","input":"x","options":{"num_ctx":-1}}"#, "options.num_ctx"),
                ("/api/embeddings", #"{"model":"sim-embed","prompt":"x","options":{"num_ctx":-1}}"#, "options.num_ctx"),
            ]
            for (path, body, param) in refusals {
                let response = try await gateway.post(path, body)
                #expect(response.status == .badRequest, "\(path) \(body)")
                let text = String(buffer: response.body)
                #expect(text.contains(param), "\(path): \(text)")
            }
            // -1 and -2 are Ollama's own "no limit" and "fill the context".
            for numPredict in [-1, -2] {
                let response = try await gateway.post(
                    "/v1/chat/completions", #"{"model":"sim-chat","num_predict":\#(numPredict),"messages":[{"role":"user","content":"Hi"}]}"#)
                #expect(response.status == .ok)
            }
        }
    }

    // MARK: - Admin time parameters

    @Test func outOfRangeAdminTimesAre400sNamingTheParameter() async throws {
        try await LiveGateway.run({ $0.admin.token = Self.adminToken }) { gateway in
            func get(_ path: String) async throws -> TestResponse {
                try await gateway.client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(Self.adminToken)"])
            }
            let routes = [
                "/admin/api/audit", "/admin/api/usage/totals", "/admin/api/usage/series", "/admin/api/usage/top?group_by=model",
                "/admin/api/usage/percentiles", "/admin/api/usage/requests", "/admin/api/usage/export",
            ]
            for route in routes {
                let separator = route.contains("?") ? "&" : "?"
                for name in ["since", "until"] {
                    for value in ["99999999999999999999999", "1e400", "253402300800", "10000-01-01T00:00:00Z"] {
                        let response = try await get(route + separator + name + "=" + value)
                        #expect(response.status == .badRequest, "\(route) \(name)=\(value)")
                        let message = try json(response)["error"]?["message"]?.stringValue ?? ""
                        #expect(message.contains("'\(name)'"), "\(route) \(name)=\(value): \(message)")
                    }
                }
                let fine = try await get(route + separator + "since=0")
                #expect(fine.status == .ok, "\(route): \(String(buffer: fine.body))")
            }
            // Cursors carry a time too: one beyond the representable years is not a cursor this API returned.
            for route in ["/admin/api/audit", "/admin/api/usage/requests"] {
                for cursor in ["9223372036854775807.1", "-9223372036854775808.1", "99999999999999999999.1"] {
                    let response = try await get(route + "?cursor=" + cursor)
                    #expect(response.status == .badRequest, "\(route) cursor=\(cursor)")
                    #expect(try json(response)["error"]?["message"]?.stringValue?.contains("'cursor'") == true)
                }
            }
        }
    }

    // MARK: - Shape limits and the event loop

    /// A tool whose schema nests `depth` objects.
    static func deepTool(depth: Int) -> String {
        let schema = String(repeating: #"{"type":"object","properties":{"a":"#, count: depth) + #"{"type":"string"}"#
            + String(repeating: "}}", count: depth)
        return #"{"name":"f","description":"d","input_schema":\#(schema)}"#
    }

    @Test func deepAndWideBodiesAre400sNamingTheLimit() async throws {
        try await LiveGateway.run { gateway in
            let deep = #"{"model":"sim-tools","max_tokens":5,"tools":[\#(Self.deepTool(depth: 500))],"messages":[{"role":"user","content":"Hi"}]}"#
            let anthropic = try await gateway.post("/v1/messages", deep)
            #expect(anthropic.status == .badRequest)
            #expect(try json(anthropic)["error"]?["message"] == "The request body nests arrays and objects more than 64 levels deep.")

            let message = #"{"role":"user","content":"x"}"#
            let wide = #"{"model":"sim-chat","messages":["# + Array(repeating: message, count: 10_001).joined(separator: ",") + "]}"
            let openAI = try await gateway.post("/v1/chat/completions", wide)
            #expect(openAI.status == .badRequest)
            #expect(try json(openAI)["error"]?["message"] == "The request body has an array or object with more than 10000 elements.")
            #expect(try json(openAI)["error"]?["code"] == "request_too_complex")

            let native = try await gateway.post("/api/chat", wide)
            #expect(native.status == .badRequest)
            #expect(try json(native)["error"] == "The request body has an array or object with more than 10000 elements.")
            #expect(gateway.upstreamRequests("/api/chat").isEmpty)

            // A real schema nests far less than the limit and still passes.
            let usual = #"{"model":"sim-tools","max_tokens":5,"tools":[\#(Self.deepTool(depth: 12))],"messages":[{"role":"user","content":"Hi"}]}"#
            #expect(try await gateway.post("/v1/messages", usual).status == .ok)
        }
    }

    // MARK: - Inline images

    @Test func inlineImagesAreHeldToTheImageLimit() async throws {
        try await LiveGateway.run({ $0.imageFetch.maxBytes = 1024 }) { gateway in
            let big = Data(repeating: 0x41, count: 2048).base64EncodedString()
            let small = Data(repeating: 0x41, count: 512).base64EncodedString()
            func openAI(_ payload: String) -> String {
                #"{"model":"sim-vision","messages":[{"role":"user","content":[{"type":"text","text":"What is it?"},{"type":"image_url","image_url":{"url":"data:image/png;base64,\#(payload)"}}]}]}"#
            }
            func anthropic(_ payload: String) -> String {
                #"{"model":"sim-vision","max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{"type":"base64","media_type":"image/png","data":"\#(payload)"}},{"type":"text","text":"What?"}]}]}"#
            }
            let refusedOpenAI = try await gateway.post("/v1/chat/completions", openAI(big))
            #expect(refusedOpenAI.status == .badRequest)
            #expect(try json(refusedOpenAI)["error"]?["param"] == "messages[0].content[1].image_url.url")
            #expect(try json(refusedOpenAI)["error"]?["message"]?.stringValue?.contains("IMAGE_FETCH_MAX_BYTES") == true)
            let refusedAnthropic = try await gateway.post("/v1/messages", anthropic(big))
            #expect(refusedAnthropic.status == .badRequest)
            #expect(try json(refusedAnthropic)["error"]?["message"]?.stringValue?.contains("1024 bytes") == true)
            #expect(gateway.upstreamRequests("/api/chat").isEmpty)

            #expect(try await gateway.post("/v1/chat/completions", openAI(small)).status == .ok)
            #expect(try await gateway.post("/v1/messages", anthropic(small)).status == .ok)

            // Native bodies carry plain base64: the same limit.
            let nativeChat = { (payload: String) in
                #"{"model":"sim-vision","stream":false,"messages":[{"role":"user","content":"What?","images":["\#(payload)"]}]}"#
            }
            let refusedChat = try await gateway.post("/api/chat", nativeChat(big))
            #expect(refusedChat.status == .badRequest)
            #expect(try json(refusedChat)["error"]?.stringValue?.contains("'messages[0].images[0]'") == true)
            let refusedGenerate = try await gateway.post(
                "/api/generate", #"{"model":"sim-vision","stream":false,"prompt":"What?","images":["\#(big)"]}"#)
            #expect(refusedGenerate.status == .badRequest)
            #expect(try json(refusedGenerate)["error"]?.stringValue?.contains("IMAGE_FETCH_MAX_BYTES") == true)
            #expect(try await gateway.post("/api/chat", nativeChat(small)).status == .ok)
            #expect(gateway.upstreamRequests("/api/generate").isEmpty)
        }
    }
}
