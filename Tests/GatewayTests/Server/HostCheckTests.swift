import Foundation
import Gateway
import Hummingbird
import HummingbirdTesting
import Testing

@testable import Gateway

@Suite("Which Host a request may name")
struct HostPolicyTests {
    func policy(_ allowed: [String] = [], host: String = "127.0.0.1") -> HostPolicy {
        var limits = ServerLimits()
        limits.allowedHosts = allowed
        return HostPolicy(limits, listenHost: host)
    }

    @Test func loopbackNamesAndAddressesWhateverThePort() {
        let defaults = policy()
        for host in ["localhost", "localhost:3000", "LOCALHOST.", "127.0.0.1", "127.0.0.1:54321", "[::1]", "[::1]:3000", "10.1.2.3:3000", nil] {
            #expect(defaults.allows(host: host), "\(host ?? "no Host")")
        }
    }

    @Test func otherNamesAreRefused() {
        let defaults = policy()
        for host in ["rebind.example", "rebind.example:3000", "localhost.rebind.example", "127.0.0.1.nip.io", "", "a:b:c", "[::1"] {
            #expect(!defaults.allows(host: host), "\(host)")
        }
    }

    @Test func listedNamesWildcardsAndTheListenHost() {
        let configured = policy(["gw.example.com", "*.corp.example", " Other.Example:8080 "], host: "gateway.lan")
        #expect(configured.allows(host: "gw.example.com:443"))
        #expect(configured.allows(host: "GW.EXAMPLE.COM"))
        #expect(configured.allows(host: "api.corp.example"))
        #expect(!configured.allows(host: "corp.example"))
        #expect(configured.allows(host: "other.example"))
        #expect(configured.allows(host: "gateway.lan:3000"))
        #expect(!configured.allows(host: "gw.example.com.evil.example"))
        #expect(policy(["*"]).allows(host: "anything.example"))
    }
}

@Suite("Requests for another host (DNS rebinding)", .timeLimit(.minutes(1)))
struct HostCheckLiveTests {
    func withGateway(
        _ adjust: @Sendable @escaping (inout GatewayConfiguration) -> Void = { _ in }, _ body: @Sendable (Int) async throws -> Void
    ) async throws {
        let app = try await buildApplication(
            configuration: TestGateway.configuration(upstream: TestGateway.deadUpstream, adjust), logger: TestGateway.logger)
        try await app.test(.live) { client in try await body(try #require(client.port)) }
    }

    func send(_ port: Int, _ method: String, _ path: String, host: String, body: String? = nil, extra: String = "")
        async throws -> (status: String, json: [String: Any]?)
    {
        var request = "\(method) \(path) HTTP/1.1\r\nHost: \(host)\r\nConnection: close\r\n\(extra)"
        if let body { request += "Content-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n" }
        request += "\r\n" + (body ?? "")
        let reply = try await RawHTTP.exchange(port: port, [request], timeout: .seconds(20))
        let json = try? JSONSerialization.jsonObject(with: Data(reply.body.utf8)) as? [String: Any]
        return (reply.statusLine, json)
    }

    @Test func theDefaultAdminLoginIsRefusedUnderAnotherName() async throws {
        try await withGateway { port async throws in
            let login = #"{"username":"admin","password":"admin"}"#
            let refused = try await send(port, "POST", "/admin/api/login", host: "rebind.example", body: login)
            #expect(refused.status.hasPrefix("HTTP/1.1 421"))
            let error = refused.json?["error"] as? [String: Any]
            #expect(error?["type"] as? String == "misdirected_request")
            #expect((error?["message"] as? String)?.contains("ALLOWED_HOSTS") == true)
            // The same request under the loopback name it is served by.
            let accepted = try await send(port, "POST", "/admin/api/login", host: "127.0.0.1:\(port)", body: login)
            #expect(accepted.status.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func everyAPIAnswersInItsOwnFormat() async throws {
        try await withGateway { port async throws in
            let openAI = try await send(port, "GET", "/v1/models", host: "rebind.example:\(port)")
            #expect(openAI.status.hasPrefix("HTTP/1.1 421"))
            #expect((openAI.json?["error"] as? [String: Any])?["code"] as? String == "misdirected_request")

            let anthropic = try await send(port, "POST", "/anthropic/v1/messages", host: "rebind.example", body: "{}")
            #expect(anthropic.status.hasPrefix("HTTP/1.1 421"))
            #expect(anthropic.json?["type"] as? String == "error")
            #expect((anthropic.json?["error"] as? [String: Any])?["type"] as? String == "invalid_request_error")

            let ollama = try await send(port, "GET", "/api/tags", host: "rebind.example")
            #expect(ollama.status.hasPrefix("HTTP/1.1 421"))
            #expect((ollama.json?["error"] as? String)?.contains("rebind.example") == true)

            // Unknown routes are checked too.
            #expect(try await send(port, "GET", "/nowhere", host: "rebind.example").status.hasPrefix("HTTP/1.1 421"))
            // Probes are not.
            #expect(try await send(port, "GET", "/health/live", host: "gateway-container:3000").status.hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test func listedNamesAreServed() async throws {
        try await withGateway({ $0.server.allowedHosts = ["gw.example.com", "*.corp.example"] }) { port async throws in
            #expect(try await send(port, "GET", "/admin/api/session", host: "gw.example.com:8443").status.hasPrefix("HTTP/1.1 401"))
            #expect(try await send(port, "GET", "/admin/api/session", host: "a.corp.example").status.hasPrefix("HTTP/1.1 401"))
            #expect(try await send(port, "GET", "/admin/api/session", host: "rebind.example").status.hasPrefix("HTTP/1.1 421"))
        }
        try await withGateway({ $0.server.allowedHosts = ["*"] }) { port async throws in
            #expect(try await send(port, "GET", "/admin/api/session", host: "rebind.example").status.hasPrefix("HTTP/1.1 401"))
        }
    }

    @Test func theSettingIsRead() async throws {
        let configuration = try await GatewayConfiguration.load(
            overrides: [
                "ALLOWED_HOSTS": "gw.example.com, *.corp.example", "CLIENT_IDLE_TIMEOUT_MS": "1500",
                "CLIENT_HEADER_TIMEOUT_MS": "2500", "CLIENT_BODY_TIMEOUT_MS": "3500", "MAX_CONNECTIONS": "77",
                "SHUTDOWN_DRAIN_TIMEOUT_MS": "4500",
            ],
            environmentFile: "/nonexistent/.env")
        #expect(configuration.server.allowedHosts == ["gw.example.com", "*.corp.example"])
        #expect(configuration.server.idleTimeout == .milliseconds(1500))
        #expect(configuration.server.headerTimeout == .milliseconds(2500))
        #expect(configuration.server.bodyTimeout == .milliseconds(3500))
        #expect(configuration.server.maxConnections == 77)
        #expect(configuration.server.shutdownDrainTimeout == .milliseconds(4500))
        for name in ServerLimits.environmentNames { #expect(GatewayConfiguration.environmentNames.contains(name)) }
        await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(overrides: ["MAX_CONNECTIONS": "0"], environmentFile: "/nonexistent/.env")
        }
        let defaults = try await GatewayConfiguration.load(environmentFile: "/nonexistent/.env")
        #expect(defaults.server.allowedHosts.isEmpty)
        #expect(defaults.server.shutdownDrainTimeout == .seconds(30))
    }
}
