import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Unknown routes, wrong methods and malformed HTTP", .timeLimit(.minutes(1)))
struct RoutingErrorTests {
    func withGateway(
        _ adjust: @Sendable @escaping (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol) async throws -> Void
    ) async throws {
        let app = try await buildApplication(
            configuration: TestGateway.configuration(upstream: TestGateway.deadUpstream, adjust), logger: TestGateway.logger)
        try await app.test(.live, body)
    }

    func json(_ response: TestResponse) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
    }

    @Test func unknownRoutesAnswerInTheFormatOfTheirAPI() async throws {
        try await withGateway { client in
            let openAI = try await client.execute(uri: "/v1/chat/complete", method: .post, body: ByteBuffer(string: "{}"))
            #expect(openAI.status == .notFound)
            let openAIError = try json(openAI)["error"]
            #expect(openAIError?["type"]?.stringValue == "invalid_request_error")
            #expect(openAIError?["code"]?.stringValue == "unknown_route")
            #expect(openAIError?["message"]?.stringValue?.contains("POST /v1/chat/complete") == true)

            let anthropic = try await client.execute(uri: "/anthropic/v1/nothing", method: .get)
            #expect(anthropic.status == .notFound)
            #expect(try json(anthropic)["type"]?.stringValue == "error")
            #expect(try json(anthropic)["error"]?["type"]?.stringValue == "not_found_error")

            let versioned = try await client.execute(
                uri: "/v1/nothing", method: .get, headers: [HTTPField.Name("anthropic-version")!: "2023-06-01"])
            #expect(try json(versioned)["type"]?.stringValue == "error")

            let ollama = try await client.execute(uri: "/api/nothing", method: .get)
            #expect(ollama.status == .notFound)
            #expect(try json(ollama)["error"]?.stringValue?.contains("/api/nothing") == true)

            let admin = try await client.execute(uri: "/admin/api/nothing", method: .get)
            #expect(admin.status == .notFound)
            #expect(try json(admin)["error"]?["type"]?.stringValue == "not_found")
            #expect(admin.headers[.cacheControl] == "no-store")

            let root = try await client.execute(uri: "/", method: .get)
            #expect(root.status == .notFound)
            #expect(try json(root)["error"]?["message"]?.stringValue?.contains("GET /") == true)
        }
    }

    @Test func aWrongMethodIs405WithAllow() async throws {
        try await withGateway { client in
            let openAI = try await client.execute(uri: "/v1/chat/completions", method: .get)
            #expect(openAI.status == .methodNotAllowed)
            #expect(openAI.headers[.allow] == "POST")
            #expect(try json(openAI)["error"]?["type"]?.stringValue == "invalid_request_error")

            // Anthropic's routes answer in its format even without its version header.
            for path in ["/v1/messages", "/v1/messages/count_tokens"] {
                let anthropic = try await client.execute(uri: path, method: .get)
                #expect(anthropic.status == .methodNotAllowed)
                #expect(try json(anthropic)["type"]?.stringValue == "error", "\(path)")
            }

            let ollama = try await client.execute(uri: "/api/tags", method: .delete)
            #expect(ollama.status == .methodNotAllowed)
            #expect(ollama.headers[.allow]?.contains("GET") == true)
            #expect(try json(ollama)["error"]?.stringValue != nil)

            let admin = try await client.execute(uri: "/admin/api/keys/some-id", method: .put)
            #expect(admin.status == .methodNotAllowed)
            let allow = Set((admin.headers[.allow] ?? "").components(separatedBy: ", "))
            #expect(allow == ["GET", "PATCH", "DELETE"])
            #expect(try json(admin)["error"]?["type"]?.stringValue == "method_not_allowed")

            let health = try await client.execute(uri: "/health/live", method: .post)
            #expect(health.status == .methodNotAllowed)
        }
    }

    @Test func badPercentEscapesInAdminIdsAre400() async throws {
        let token = "an-admin-token-for-automation-0123456789"
        try await withGateway({ $0.admin.token = token }) { client in
            for path in ["/admin/api/keys/%zz", "/admin/api/keys/%E0%A4%A", "/admin/api/models/%zz"] {
                let method: HTTPRequest.Method = path.contains("models") ? .put : .get
                let response = try await client.execute(
                    uri: path, method: method, headers: [.authorization: "Bearer \(token)", .contentType: "application/json"],
                    body: method == .put ? ByteBuffer(string: "{}") : nil)
                #expect(response.status == .badRequest, "\(path)")
                #expect(try json(response)["error"]?["type"]?.stringValue == "invalid_request", "\(path)")
            }
        }
    }

    // MARK: - Framing, on raw sockets

    @Test("malformed framing is a 400 in JSON and the connection closes", arguments: [
        // A chunk size that is not hexadecimal.
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        // A transfer coding the server cannot decode.
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: gzip\r\n\r\n{}",
        // A control byte in the path, then in a header.
        "GET /v1/mo\u{01}dels HTTP/1.1\r\nHost: localhost\r\n\r\n",
        "GET /v1/models HTTP/1.1\r\nHost: localhost\r\nX-Note: a\u{01}b\r\n\r\n",
        // Both Content-Length and chunked.
        "POST /api/chat HTTP/1.1\r\nHost: localhost\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ])
    func malformedFraming(request: String) async throws {
        try await withGateway { client in
            let reply = try await RawHTTP.exchange(port: try #require(client.port), [request], timeout: .seconds(10))
            #expect(reply.statusLine.hasPrefix("HTTP/1.1 400"), "\(reply.text)")
            #expect(reply.closedByServer)
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(reply.body.utf8))
            #expect(body["error"] != nil, "\(reply.body)")
            // One answer, not a second empty 400 after it.
            #expect(reply.text.components(separatedBy: "HTTP/1.1 4").count == 2, "\(reply.text)")
        }
    }
}
