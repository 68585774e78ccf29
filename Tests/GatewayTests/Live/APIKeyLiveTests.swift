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

@Suite("API keys on the API routes", .timeLimit(.minutes(2)))
struct APIKeyLiveTests {
    /// A gateway that requires keys, with a store on the same data directory to create them.
    func withKeys(
        keyCache: Duration = .seconds(10),
        _ body: @Sendable (LiveGateway, GatewayStore) async throws -> Void
    ) async throws {
        let dataDirectory = FileManagerTemp.directory()
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: dataDirectory), logger: TestGateway.logger)
        let store = GatewayStore(database: database)
        do {
            try await LiveGateway.run({
                $0.requireAPIKey = true
                $0.dataDirectory = dataDirectory
                $0.keyCacheLifetime = keyCache
            }) { gateway in
                try await body(gateway, store)
            }
        } catch {
            try await database.shutdown()
            throw error
        }
        try await database.shutdown()
    }

    func chat(_ gateway: LiveGateway, key: String?, header: String = "authorization", model: String = "sim-chat")
        async throws -> TestResponse
    {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let key {
            headers[HTTPField.Name(header)!] = header == "authorization" ? "Bearer \(key)" : key
        }
        return try await gateway.client.execute(
            uri: "/v1/chat/completions", method: .post, headers: headers,
            body: ByteBuffer(string: #"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#))
    }

    func error(_ response: TestResponse) throws -> OpenAIErrorBody.Detail {
        try JSONDecoder().decode(OpenAIErrorBody.self, from: Data(buffer: response.body)).error
    }

    @Test func everyHeaderFormIsAccepted() async throws {
        try await withKeys { gateway, store in
            let issued = try await store.apiKeys.create(APIKeySettings(name: "client"))
            for header in ["authorization", "x-api-key", "api-key"] {
                let response = try await chat(gateway, key: issued.secret.value, header: header)
                #expect(response.status == .ok, "\(header)")
            }
        }
    }

    @Test func missingUnknownDisabledExpiredAndRevokedKeysAre401WithDistinctMessages() async throws {
        try await withKeys(keyCache: .zero) { gateway, store in
            var messages: [String] = []
            let missing = try await chat(gateway, key: nil)
            #expect(missing.status == .unauthorized)
            messages.append(try error(missing).message)

            let unknown = try await chat(gateway, key: "sk-" + String(repeating: "a", count: 43))
            #expect(unknown.status == .unauthorized)
            messages.append(try error(unknown).message)

            let disabled = try await store.apiKeys.create(APIKeySettings(name: "off", enabled: false))
            let disabledResponse = try await chat(gateway, key: disabled.secret.value)
            #expect(disabledResponse.status == .unauthorized)
            messages.append(try error(disabledResponse).message)

            let expired = try await store.apiKeys.create(APIKeySettings(name: "old", expiresAt: Date(timeIntervalSinceNow: -60)))
            let expiredResponse = try await chat(gateway, key: expired.secret.value)
            #expect(expiredResponse.status == .unauthorized)
            messages.append(try error(expiredResponse).message)

            let revoked = try await store.apiKeys.create(APIKeySettings(name: "gone"))
            #expect(try await chat(gateway, key: revoked.secret.value).status == .ok)
            _ = try await store.apiKeys.revoke(id: revoked.record.id)
            let revokedResponse = try await chat(gateway, key: revoked.secret.value)
            #expect(revokedResponse.status == .unauthorized)
            messages.append(try error(revokedResponse).message)

            // Missing, unknown, disabled and expired each say what is wrong; a revoked key's secret
            // no longer exists anywhere, so it reads like an unknown one.
            #expect(Set(messages.prefix(4)).count == 4, "\(messages)")
            #expect(try error(missing).type == "authentication_error")
        }
    }

    @Test func modelsOutsideTheKeysListAre403() async throws {
        try await withKeys { gateway, store in
            let issued = try await store.apiKeys.create(APIKeySettings(name: "narrow", allowedModels: ["sim-th*"]))
            #expect(try await chat(gateway, key: issued.secret.value, model: "sim-think").status == .ok)
            let refused = try await chat(gateway, key: issued.secret.value, model: "sim-chat")
            #expect(refused.status == .forbidden)
            #expect(try error(refused).type == "permission_error")
            #expect(gateway.sim.recorder.requests(path: "/api/chat").count == 1, "a refused request never reaches Ollama")
        }
    }

    @Test func requestsPerMinuteHoldUnderConcurrentLoad() async throws {
        try await withKeys { gateway, store in
            let issued = try await store.apiKeys.create(
                APIKeySettings(name: "limited", limits: APIKeyLimits(requestsPerMinute: 5)))
            let port = try #require(gateway.client.port)
            // A connection per request, as concurrent clients have: the test client would queue the
            // twelve on its one connection, and on a loaded machine the last waited past its timeout.
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 12
            configuration.timeout.connect = .seconds(30)
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            let startMinute = Int(Date().timeIntervalSince1970) / 60
            let statuses: [(HTTPResponse.Status, HTTPFields)]
            do {
                statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, HTTPFields).self) { group in
                    for _ in 0..<12 {
                        group.addTask {
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(issued.secret.value)")
                            request.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}"#))
                            let response = try await http.execute(request, timeout: .seconds(60))
                            _ = try await response.body.collect(upTo: 1 << 20)
                            var fields = HTTPFields()
                            for (name, value) in response.headers { fields[HTTPField.Name(name)!] = value }
                            return (HTTPResponse.Status(code: Int(response.status.code)), fields)
                        }
                    }
                    var all: [(HTTPResponse.Status, HTTPFields)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
            let admitted = statuses.filter { $0.0 == .ok }
            let refused = statuses.filter { $0.0 == .tooManyRequests }
            // Exactly the limit got through; if the minute turned during the burst, at most the limit in each window.
            if Int(Date().timeIntervalSince1970) / 60 == startMinute {
                #expect(admitted.count == 5)
            } else {
                #expect((5...10).contains(admitted.count))
            }
            #expect(admitted.count + refused.count == 12)
            let headers = try #require(refused.first?.1)
            #expect(headers[.retryAfter].flatMap(Int.init) != nil)
            #expect(headers[HTTPField.Name("x-ratelimit-limit-requests")!] == "5")
            #expect(headers[HTTPField.Name("x-ratelimit-remaining-requests")!] == "0")
            #expect(headers[HTTPField.Name("x-ratelimit-reset-requests")!]?.hasSuffix("s") == true)
            #expect(admitted.first?.1[HTTPField.Name("x-ratelimit-limit-requests")!] == "5")
        }
    }

    @Test func concurrencyLimit() async throws {
        try await withKeys { gateway, store in
            let issued = try await store.apiKeys.create(
                APIKeySettings(name: "one-at-a-time", limits: APIKeyLimits(maxConcurrentRequests: 1)))
            let port = try #require(gateway.client.port)
            // Separate connections: the test client would queue requests on its one connection.
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            func send(_ body: String) async throws -> HTTPClientResponse {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "Authorization", value: "Bearer \(issued.secret.value)")
                request.body = .bytes(ByteBuffer(string: body))
                return try await http.execute(request, timeout: .seconds(30))
            }
            do {
                let slow = #"{"model":"sim-chat","messages":[{"role":"user","content":"hi"}],"options":{"sim_fault":"slow_first_token","sim_delay_ms":800}}"#
                let quick = #"{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]}"#
                async let first = send(slow)
                // Once Ollama has the first request, it holds the key's only slot.
                for _ in 0..<100 where gateway.sim.recorder.requests(path: "/api/chat").isEmpty {
                    try await Task.sleep(for: .milliseconds(20))
                }
                let second = try await send(quick)
                #expect(second.status == .tooManyRequests)
                #expect(second.headers.first(name: "Retry-After") != nil)
                #expect(try await first.status == .ok)
                #expect(try await send(quick).status == .ok, "the slot is free again")
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    @Test func tokenQuotaIsEnforcedOnceUsed() async throws {
        try await withKeys { gateway, store in
            let issued = try await store.apiKeys.create(
                APIKeySettings(name: "quota", limits: APIKeyLimits(tokenQuota: 5)))
            #expect(try await chat(gateway, key: issued.secret.value).status == .ok)
            let refused = try await chat(gateway, key: issued.secret.value)
            #expect(refused.status == .tooManyRequests)
            #expect(try error(refused).code == "insufficient_quota")
        }
    }

    /// The Responses API is limited exactly as the chat route: requests and tokens per minute, and
    /// the token quota, each refused with a 429 in OpenAI's format before Ollama is asked.
    @Test func limitsHoldOnTheResponsesRoute() async throws {
        try await withKeys { gateway, store in
            func respond(_ key: String) async throws -> TestResponse {
                try await gateway.client.execute(
                    uri: "/v1/responses", method: .post,
                    headers: [.authorization: "Bearer \(key)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"model":"sim-chat","input":"hi","store":false}"#))
            }
            let limits: [(APIKeyLimits, String, Int)] = [
                (APIKeyLimits(requestsPerMinute: 2), "rate_limit_exceeded", 2),
                (APIKeyLimits(tokensPerMinute: 5), "rate_limit_exceeded", 1),
                (APIKeyLimits(tokenQuota: 5), "insufficient_quota", 1),
            ]
            for (limit, code, admitted) in limits {
                let issued = try await store.apiKeys.create(APIKeySettings(name: code, limits: limit))
                let startMinute = Int(Date().timeIntervalSince1970) / 60
                for _ in 0..<admitted { #expect(try await respond(issued.secret.value).status == .ok, "\(limit)") }
                let asked = gateway.upstreamRequests("/api/chat").count
                let refused = try await respond(issued.secret.value)
                // A per-minute window that turned during the test grants the request again.
                if limit.tokenQuota != nil || Int(Date().timeIntervalSince1970) / 60 == startMinute {
                    #expect(refused.status == .tooManyRequests, "\(limit)")
                    #expect(try error(refused).code == code)
                    #expect(gateway.upstreamRequests("/api/chat").count == asked, "refused before Ollama is asked")
                }
            }
        }
    }

    /// 50 requests at once under a small token limit: reservations keep the tokens they use within
    /// the limit plus one request (the one that may always run alone).
    @Test(arguments: [APIKeyLimits(tokensPerMinute: 200), APIKeyLimits(tokenQuota: 300)])
    func tokenLimitsHoldUnderConcurrency(limits: APIKeyLimits) async throws {
        try await withKeys { gateway, store in
            let issued = try await store.apiKeys.create(APIKeySettings(name: "burst", limits: limits))
            let port = try #require(gateway.client.port)
            // One connection per request: 50 requests queued behind the client's 8 default connections
            // waited past its pool timeout on a loaded machine.
            var configuration = HTTPClient.Configuration()
            configuration.connectionPool.concurrentHTTP1ConnectionsPerHostSoftLimit = 50
            configuration.timeout.connect = .seconds(30)
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
            let startMinute = Int(Date().timeIntervalSince1970) / 60
            do {
                let results = try await withThrowingTaskGroup(of: (HTTPResponse.Status, Int).self) { group in
                    for index in 0..<50 {
                        group.addTask {
                            var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
                            request.method = .POST
                            request.headers.add(name: "Authorization", value: "Bearer \(issued.secret.value)")
                            // Half of them say how much they may write: they reserve little.
                            let maxTokens = index % 2 == 0 ? #","max_tokens":30"# : ""
                            request.body = .bytes(
                                ByteBuffer(string: #"{"model":"sim-chat","messages":[{"role":"user","content":"hi"}]"# + maxTokens + "}"))
                            let response = try await http.execute(request, timeout: .seconds(30))
                            let body = try await response.body.collect(upTo: 1 << 20)
                            let json = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
                            return (HTTPResponse.Status(code: Int(response.status.code)), json?["usage"]?["total_tokens"]?.intValue ?? 0)
                        }
                    }
                    var all: [(HTTPResponse.Status, Int)] = []
                    for try await result in group { all.append(result) }
                    return all
                }
                let served = results.filter { $0.0 == .ok }
                let used = served.reduce(0) { $0 + $1.1 }
                let largest = served.map(\.1).max() ?? 0
                let limit = limits.tokensPerMinute ?? limits.tokenQuota ?? 0
                #expect(!served.isEmpty)
                #expect(results.allSatisfy { $0.0 == .ok || $0.0 == .tooManyRequests }, "\(results.map(\.0))")
                // The minute may turn during the burst: then each window holds its own limit.
                let windows = limits.tokensPerMinute != nil && Int(Date().timeIntervalSince1970) / 60 != startMinute ? 2 : 1
                #expect(used <= windows * (limit + largest), "\(served.count) served used \(used) tokens")
            } catch {
                try await http.shutdown()
                throw error
            }
            try await http.shutdown()
        }
    }

    @Test func usageReachesTheKeyCounters() async throws {
        try await withKeys { gateway, store in
            let issued = try await store.apiKeys.create(APIKeySettings(name: "counted"))
            let response = try await chat(gateway, key: issued.secret.value)
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            let total = try #require(body["usage"]?["total_tokens"]?.intValue)
            var record = try await store.apiKeys.get(id: issued.record.id)
            for _ in 0..<40 where record?.tokensUsed != total {
                try await Task.sleep(for: .milliseconds(100))
                record = try await store.apiKeys.get(id: issued.record.id)
            }
            #expect(record?.tokensUsed == total)
            #expect(record?.lastUsedAt != nil)
        }
    }
}
