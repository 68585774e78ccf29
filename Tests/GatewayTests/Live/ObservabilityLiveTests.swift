import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOPosix
import Testing

@Suite("Metrics and health", .timeLimit(.minutes(1)))
struct ObservabilityLiveTests {
    func metric(_ text: String, _ prefix: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { $0.split(separator: " ").last }.flatMap {
            Double($0)
        }
    }

    @Test func metricsMoveAsRequestsAreServed() async throws {
        try await LiveGateway.run { gateway in
            _ = try await gateway.post(
                "/v1/chat/completions", #"{"model":"sim-chat","messages":[{"role":"user","content":"Hello there"}]}"#)
            // A stream ends its connection: it goes on a connection of its own.
            let port = try #require(gateway.client.port)
            let http = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton)
            var streamed = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/chat/completions")
            streamed.method = .POST
            streamed.body = .bytes(ByteBuffer(string: #"{"model":"sim-chat","stream":true,"messages":[{"role":"user","content":"Hello"}]}"#))
            let events = try await http.execute(streamed, timeout: .seconds(10)).body.collect(upTo: 1 << 20)
            try await http.shutdown()
            #expect(String(buffer: events).contains("[DONE]"))
            let response = try await gateway.client.execute(uri: "/metrics", method: .get)
            #expect(response.status == .ok)
            let text = String(buffer: response.body)
            let requests = #"gateway_requests_total{route="/v1/chat/completions",model="sim-chat:latest",status="200"}"#
            #expect(metric(text, requests) == 2, "\(text)")
            #expect(metric(text, #"gateway_tokens_total{direction="out",model="sim-chat:latest"}"#) ?? 0 > 0)
            #expect(metric(text, #"gateway_request_duration_seconds_count{route="/v1/chat/completions"}"#) == 2)
            #expect(metric(text, #"gateway_time_to_first_token_seconds_count{route="/v1/chat/completions"}"#) == 1)
            #expect(metric(text, "gateway_streams_in_flight") == 0)
            #expect(metric(text, "gateway_usage_queue_depth") != nil)
            #expect(metric(text, "gateway_usage_records_dropped") == 0)
        }
    }

    @Test func upstreamErrorsAreCountedByKind() async throws {
        try await LiveGateway.run { gateway in
            _ = try await gateway.post(
                "/v1/chat/completions",
                #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"options":{"sim_fault":"http_503"}}"#)
            let text = String(buffer: try await gateway.client.execute(uri: "/metrics", method: .get).body)
            #expect(metric(text, #"gateway_upstream_errors_total{kind="overloaded"}"#) == 1)
        }
    }

    @Test func aMetricsTokenIsRequiredWhenSet() async throws {
        try await LiveGateway.run({ $0.metricsToken = "scrape-secret" }) { gateway in
            #expect(try await gateway.client.execute(uri: "/metrics", method: .get).status == .unauthorized)
            let wrong = try await gateway.client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer nope"])
            #expect(wrong.status == .unauthorized)
            let right = try await gateway.client.execute(
                uri: "/metrics", method: .get, headers: [.authorization: "Bearer scrape-secret"])
            #expect(right.status == .ok)
        }
    }

    @Test func readinessChecksTheDatabaseAndOllama() async throws {
        try await LiveGateway.run { gateway in
            // The check gives each backend 10 s to answer: with the whole suite running at once on a
            // loaded two-core machine that was once not enough, so a 503 is asked again (twice at most).
            var response = try await gateway.client.execute(uri: "/health/ready", method: .get)
            for _ in 0..<2 where response.status != .ok {
                response = try await gateway.client.execute(uri: "/health/ready", method: .get)
            }
            #expect(response.status == .ok)
            let body = try JSONDecoder().decode(JSONValue.self, from: Data(buffer: response.body))
            #expect(body["database"] == "ok")
            #expect(body["ollama"] == "ok")
            #expect(body["ollama_version"] == "0.12.6")
        }
    }
}
