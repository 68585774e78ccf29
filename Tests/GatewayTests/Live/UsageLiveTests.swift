import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Usage accounting", .timeLimit(.minutes(1)))
struct UsageLiveTests {
    /// Waits until the recorder has written `count` log rows.
    func logEntries(_ store: GatewayStore, count: Int) async throws -> [UsageRecord] {
        var entries: [UsageLogEntry] = []
        for _ in 0..<50 {
            entries = try await store.usage.log(UsageLogQuery(limit: 500)).entries
            if entries.count >= count { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        return entries.map(\.record)
    }

    /// A streamed answer is accounted with the counts of Ollama's last line, as the client saw them.
    @Test func streamsAreRecordedWithOllamasCounts() async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        try await LiveGateway.run({ $0.dataDirectory = dataDirectory }) { gateway in
            let response = try await gateway.post(
                "/v1/chat/completions",
                #"{"model":"sim-chat","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"Hello there"}]}"#)
            let usage = try #require(SSEEvents(response.body).json.last?["usage"])
            let record = try #require(try await logEntries(store, count: 1).first)
            #expect(record.streamed && !record.cancelled)
            #expect(record.promptTokens == usage["prompt_tokens"]?.intValue)
            #expect(record.completionTokens == usage["completion_tokens"]?.intValue)
            #expect(record.timeToFirstTokenMs != nil)
        }
        try await database.shutdown()
    }

    @Test func everyRouteIsRecordedWithOllamasCounts() async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        let issued = try await store.apiKeys.create(APIKeySettings(name: "counted"))
        let token = "usage-admin-token-0123456789"
        try await LiveGateway.run({
            $0.dataDirectory = dataDirectory
            $0.requireAPIKey = true
            $0.admin.token = token
        }) { gateway in
            func post(_ path: String, _ body: String) async throws -> TestResponse {
                try await gateway.client.execute(
                    uri: path, method: .post,
                    headers: [.authorization: "Bearer \(issued.secret.value)", .contentType: "application/json"],
                    body: ByteBuffer(string: body))
            }
            let openAI = try await post(
                "/v1/chat/completions", #"{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}]}"#)
            let usage = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: openAI.body))["usage"]
            _ = try await post("/v1/messages", #"{"model":"sim-chat","max_tokens":30,"messages":[{"role":"user","content":"Hi"}]}"#)
            _ = try await post("/api/generate", #"{"model":"sim-chat","prompt":"Hi","stream":false}"#)
            _ = try await post("/v1/embeddings", #"{"model":"sim-embed","input":["a","b"]}"#)
            _ = try await post("/v1/chat/completions", #"{"model":"nope","messages":[{"role":"user","content":"x"}]}"#)
            let unauthenticated = try await gateway.client.execute(
                uri: "/v1/chat/completions", method: .post, body: ByteBuffer(string: "{}"))
            #expect(unauthenticated.status == .unauthorized)

            let records = try await logEntries(store, count: 6)
            #expect(records.count == 6)
            let chat = try #require(records.first { $0.endpoint == "/v1/chat/completions" && $0.status == 200 })
            #expect(chat.promptTokens == usage?["prompt_tokens"]?.intValue)
            #expect(chat.completionTokens == usage?["completion_tokens"]?.intValue)
            #expect(chat.keyID == issued.record.id)
            #expect(chat.modelRequested == "sim-chat" && chat.modelResolved == "sim-chat:latest")
            #expect(!chat.streamed && !chat.cancelled)
            #expect(chat.latencyMs > 0)
            #expect(records.contains { $0.endpoint == "/v1/messages" && $0.completionTokens > 0 })
            #expect(records.contains { $0.endpoint == "/api/generate" && $0.completionTokens > 0 })
            #expect(records.contains { $0.endpoint == "/v1/embeddings" && $0.promptTokens > 0 })
            #expect(records.contains { $0.status == 404 && $0.errorType == "notFound" })
            #expect(records.contains { $0.status == 401 && $0.keyID == nil })

            // The admin queries return what was recorded.
            func admin(_ path: String) async throws -> TestResponse {
                try await gateway.client.execute(uri: path, method: .get, headers: [.authorization: "Bearer \(token)"])
            }
            let totals = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: try await admin("/admin/api/usage/totals").body))
            #expect(totals["rows"]?[0]?["metrics"]?["requests"] == 6, "\(totals)")
            #expect(totals["rows"]?[0]?["metrics"]?["errors"] == 2)
            let byModel = try JSONDecoder().decode(
                JSONValue.self, from: Data(buffer: try await admin("/admin/api/usage/top?group_by=model&by=requests").body))
            #expect(byModel["rows"]?[0]?["group"] == "sim-chat:latest")
            let page = try JSONDecoder().decode(
                JSONValue.self, from: Data(buffer: try await admin("/admin/api/usage/requests?limit=2&status=2xx").body))
            #expect(page["entries"]?.arrayValue?.count == 2)
            let export = try await admin("/admin/api/usage/export?format=csv")
            #expect(export.status == .ok)
            // CSV rows end with CRLF (RFC 4180): a header and six rows.
            #expect(String(buffer: export.body).unicodeScalars.split(separator: "\n").count == 7)
            #expect(try await admin("/admin/api/usage/series?granularity=week").status == .badRequest)
        }
        try await database.shutdown()
    }
}
