import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import HummingbirdTesting
import NIOCore
import OllamaSim
import Testing

@testable import Gateway

/// Two gateway instances, three simulators and one PostgreSQL: the whole picture of docs/backends.md's
/// "Several gateway instances". Runs with `REQUIRE_POSTGRES=1` (scripts/postgres-test-server.sh).
@Suite("Two gateways on one PostgreSQL", .timeLimit(.minutes(3)))
struct TwoGatewaysLiveTests {
    static let adminToken = "two-gateways-admin-token-0123456789"

    struct Instance {
        let client: any TestClientProtocol

        func send(
            _ method: HTTPRequest.Method, _ path: String, json: String? = nil, key: String? = nil, admin: Bool = false
        ) async throws -> TestResponse {
            var headers: HTTPFields = [:]
            if let key { headers[.authorization] = "Bearer \(key)" }
            if admin { headers[.authorization] = "Bearer \(TwoGatewaysLiveTests.adminToken)" }
            if json != nil { headers[.contentType] = "application/json" }
            return try await client.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        }

        func chat(key: String, _ text: String = "hi") async throws -> TestResponse {
            try await send(
                .post, "/v1/chat/completions", json: #"{"model":"sim-chat","messages":[{"role":"user","content":"\#(text)"}]}"#,
                key: key)
        }

        func json(_ response: TestResponse) throws -> JSONValue {
            try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
        }
    }

    @Test(arguments: AdminEngine.available.filter { $0 == .postgres })
    func theWholePicture(engine: AdminEngine) async throws {
        let location = try AdminTestLocation.make(engine)
        do {
            try await withOllamaSimulator(SimulatorConfiguration()) { a in
                try await withOllamaSimulator(SimulatorConfiguration()) { b in
                    try await withOllamaSimulator(SimulatorConfiguration()) { c in
                        try await run(location: location, sims: [a, b, c])
                    }
                }
            }
        } catch {
            try? await location.remove()
            throw error
        }
        try await location.remove()
    }

    func run(location: AdminTestLocation, sims: [RunningSimulator]) async throws {
        let configuration = TestGateway.configuration(upstream: sims[0].baseURL) {
            location.configure(&$0)
            $0.requireAPIKey = true
            $0.admin.token = Self.adminToken
            $0.backends = [Backend(name: "a", url: sims[0].baseURL), Backend(name: "b", url: sims[1].baseURL)]
            $0.backendTuning.probeInterval = .milliseconds(200)
        }
        let first = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
        let second = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
        try await first.test(.live) { oneClient in
            let one = Instance(client: oneClient)
            let completedOnSecond = try await second.test(.live) { twoClient -> Int in
                let two = Instance(client: twoClient)
                // A key made on one works on the other at once (a key never seen is read from the database).
                let created = try await one.send(
                    .post, "/admin/api/keys", json: #"{"name":"shared","rpm":8}"#, admin: true)
                #expect(created.status == .created, "\(String(buffer: created.body))")
                let key = try #require(try one.json(created)["secret"]?.stringValue)
                #expect(try await two.chat(key: key).status == .ok)

                // Limits hold across both: 8 a minute in all, whichever instance is asked.
                var statuses: [HTTPResponse.Status] = []
                let minute = Int(Date().timeIntervalSince1970) / 60
                for index in 0..<11 {
                    statuses.append(try await (index % 2 == 0 ? one : two).chat(key: key, "n\(index)").status)
                }
                if Int(Date().timeIntervalSince1970) / 60 == minute {
                    #expect(statuses.filter { $0 == .ok }.count == 7, "\(statuses)")  // 1 before + 7 = 8
                }

                // A backend added on one instance serves on both; taken down there, both avoid it.
                let added = try await one.send(
                    .post, "/admin/api/backends", json: #"{"name":"c","url":"\#(sims[2].baseURL)","priority":0}"#, admin: true)
                #expect(added.status == .created, "\(String(buffer: added.body))")
                let seen = try await waitUntil {
                    try one.json(try await two.send(.get, "/admin/api/backends", admin: true))["backends"]?.arrayValue?
                        .contains { $0["name"] == "c" } == true
                }
                #expect(seen, "the other instance reads the new backend within a probe interval")
                let disabled = try await one.send(.patch, "/admin/api/backends/c", json: #"{"enabled":false}"#, admin: true)
                #expect(disabled.status == .ok)
                let off = try await waitUntil {
                    try one.json(try await two.send(.get, "/admin/api/backends/c", admin: true))["state"] == "disabled"
                }
                #expect(off)
                let before = sims[2].recorder.requests(path: "/api/chat").count
                let unlimited = try await one.send(.post, "/admin/api/keys", json: #"{"name":"load"}"#, admin: true)
                let loadKey = try #require(try one.json(unlimited)["secret"]?.stringValue)
                for index in 0..<6 {
                    #expect(try await (index % 2 == 0 ? one : two).chat(key: loadKey, "c\(index)").status == .ok)
                }
                #expect(sims[2].recorder.requests(path: "/api/chat").count == before)

                // A backend that fails is avoided by both (each notices on its own).
                sims[0].setFault(.http503, forModel: "sim-chat")
                for index in 0..<6 {
                    #expect(try await (index % 2 == 0 ? one : two).chat(key: loadKey, "f\(index)").status == .ok)
                }
                sims[0].setFault(nil, forModel: "sim-chat")

                // A last burst on the second instance, which then shuts down (its usage queue is flushed
                // as it stops): every request it completed is in the shared usage log.
                return try await withThrowingTaskGroup(of: Bool.self) { group in
                    for index in 0..<8 {
                        group.addTask { (try? await two.chat(key: loadKey, "last \(index)").status) == .ok }
                    }
                    var completed = 0
                    for try await ok in group where ok { completed += 1 }
                    return completed
                }
            }
            // Usage from both instances in one report (read through the first).
            let counted = try await waitUntil {
                let page = try one.json(try await one.send(.get, "/admin/api/usage/requests?limit=500", admin: true))
                let entries = page["entries"]?.arrayValue ?? []
                return entries.filter { $0["endpoint"] == "/v1/chat/completions" && $0["status"] == 200 }.count
                    >= 1 + 7 + 6 + 6 + completedOnSecond
            }
            #expect(counted, "every completed request is in the one usage log")
            let page = try one.json(try await one.send(.get, "/admin/api/usage/requests?limit=500", admin: true))
            // Each served request names the backend that served it (which one depends on what was loaded where).
            let served = (page["entries"]?.arrayValue ?? []).filter { $0["status"] == 200 }
            let backends = Set(served.compactMap { $0["backend"]?.stringValue })
            #expect(!backends.isEmpty && backends.isSubset(of: ["a", "b"]), "\(backends)")
            #expect(served.allSatisfy { $0["backend"]?.stringValue != nil })
        }
    }

    func waitUntil(timeout: Duration = .seconds(10), _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(100))
        }
        return false
    }
}
