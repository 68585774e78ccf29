import AsyncHTTPClient
import Foundation
import Gateway
import NIOCore
import NIOPosix
import Testing

@Suite("Login throttling under concurrent attempts", .timeLimit(.minutes(2)))
struct LoginThrottleRaceTests {
    /// Sends requests at once, on as many connections.
    func concurrently(_ count: Int, port: Int, _ make: @Sendable @escaping (Int) -> HTTPClientRequest) async throws -> [Int] {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(30), concurrentHTTP1ConnectionsPerHostSoftLimit: count)
        let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: configuration)
        do {
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for index in 0..<count {
                    group.addTask { Int(try await http.execute(make(index), timeout: .seconds(60)).status.code) }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            try await http.shutdown()
            return statuses
        } catch {
            try? await http.shutdown()
            throw error
        }
    }

    static func login(port: Int, password: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/admin/api/login")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: #"{"username":"admin","password":"\#(password)"}"#))
        return request
    }

    static func keys(port: Int, bearer: String) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/admin/api/keys")
        request.headers.add(name: "Authorization", value: "Bearer \(bearer)")
        return request
    }

    @Test(arguments: AdminEngine.available)
    func atMostTheLimitOfWrongPasswordsIsChecked(engine: AdminEngine) async throws {
        // A slower bcrypt widens the window in which attempts overlap.
        try await AdminTests.withFreshGateway(
            engine, { $0.adminPassword = AdminTests.password; $0.admin.passwordHashCost = 8 }
        ) { admin, _ in
            let port = try #require(admin.client.port)
            let statuses = try await concurrently(40, port: port) { _ in Self.login(port: port, password: "wrong password") }
            #expect(statuses.count == 40)
            #expect(statuses.filter { $0 == 401 }.count <= 5, "\(statuses)")
            #expect(statuses.filter { $0 == 429 }.count >= 35, "\(statuses)")
            #expect(statuses.allSatisfy { $0 == 401 || $0 == 429 })
        }
    }

    @Test(arguments: AdminEngine.available)
    func wrongTokensDoNotLockTheRightOneOut(engine: AdminEngine) async throws {
        let token = "an-admin-token-for-automation-0123456789"
        try await AdminTests.withFreshGateway(
            engine, { $0.admin.token = token; $0.adminPassword = AdminTests.password; $0.admin.loginMaxFailuresPerAddress = 3 }
        ) { admin, _ in
            let port = try #require(admin.client.port)
            // Wrong tokens and an API key from this address, concurrently.
            let wrong = try await concurrently(12, port: port) { index in
                Self.keys(port: port, bearer: index % 2 == 0 ? "sk-gw-not-an-admin-token-\(index)" : token + "x")
            }
            #expect(wrong.allSatisfy { $0 == 401 || $0 == 429 })
            #expect(wrong.filter { $0 == 401 }.count <= 3, "\(wrong)")
            // The right token still works, from the same address, at once.
            let right = try await concurrently(4, port: port) { _ in Self.keys(port: port, bearer: token) }
            #expect(right == [200, 200, 200, 200])
            // And password logins from that address are not locked out by the token guesses.
            var signIn = admin
            #expect(try await signIn.login("admin", AdminTests.password).status == .ok)
        }
    }
}
