import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// What reaches Ollama besides the body: the configured upstream credential, never the client's.
@Suite struct UpstreamHeadersTests {
    final class SeenHeaders: Sendable {
        let value = Mutex<[HTTPFields]>([])
    }

    @Test func clientCredentialsStayHereAndTheConfiguredHeaderGoesUp() async throws {
        let seen = SeenHeaders()
        let router = Router()
        router.post("/api/chat") { request, _ -> Response in
            seen.value.withLock { $0.append(request.headers) }
            let answer = #"{"model":"m","created_at":"2026-01-01T00:00:00Z","message":{"role":"assistant","content":"ok"},"done":true,"done_reason":"stop","prompt_eval_count":1,"eval_count":1}"#
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: answer)))
        }
        let upstream = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await upstream.test(.live) { upstreamClient in
            let port = try #require(upstreamClient.port)
            let app = try await buildApplication(
                configuration: TestGateway.configuration(upstream: "http://127.0.0.1:\(port)") {
                    $0.ollamaAuthHeader = ("Authorization", "Bearer upstream-secret")
                },
                logger: TestGateway.logger)
            try await app.test(.live) { client in
                let response = try await client.execute(
                    uri: "/v1/chat/completions", method: .post,
                    headers: [.authorization: "Bearer sk-client-key", HTTPField.Name("x-api-key")!: "sk-client-key"],
                    body: ByteBuffer(string: #"{"model":"m","messages":[{"role":"user","content":"x"}]}"#))
                #expect(response.status == .ok)
            }
        }
        let headers = try #require(seen.value.withLock { $0.first })
        #expect(headers[.authorization] == "Bearer upstream-secret")
        #expect(headers[HTTPField.Name("x-api-key")!] == nil)
        #expect(seen.value.withLock { $0.count } == 1)
    }
}
