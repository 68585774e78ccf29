import AsyncHTTPClient
import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import NIOPosix
import Synchronization
import Testing
import Tracing

@testable import Gateway

/// OpenTelemetry traces: W3C trace context, the OTLP/HTTP JSON encoding, the settings, and a traced
/// gateway exporting to a receiver of the test's own.
@Suite("Traces", .timeLimit(.minutes(2)))
struct TracingTests {
    // MARK: - Trace context

    @Test func traceparentRoundTripsAndRefusesWhatW3CRefuses() throws {
        let header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        let identity = try #require(SpanIdentity(traceparent: header))
        #expect(identity.traceID == "0af7651916cd43dd8448eb211c80319c")
        #expect(identity.spanIDText == "b7ad6b7169203331")
        #expect(identity.sampled)
        #expect(identity.traceparent == header)
        #expect(SpanIdentity(traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")?.sampled == false)
        for bad in [
            "", "garbage", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",  // all-zero trace id
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",  // all-zero span id
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",  // forbidden version
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",  // upper case
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",  // version 00 has four fields
            "00-0af7651916cd43dd8448eb211c8031zz-b7ad6b7169203331-01",
        ] {
            #expect(SpanIdentity(traceparent: bad) == nil, "\(bad)")
        }
    }

    @Test func spansEncodeAsOTLPJSON() throws {
        let exporter = OTLPExporter(
            configuration: TracingConfiguration(endpoint: "http://127.0.0.1:9/v1/traces"),
            http: HTTPClient.shared, logger: Logger(label: "test"))
        let tracer = OTLPTracer(exporter: exporter)
        let parent = tracer.startSpan("chat m", context: .topLevel, ofKind: .server)
        parent.attributes["gen_ai.usage.input_tokens"] = Int64(12)
        parent.attributes.set("gen_ai.response.finish_reasons", value: .stringArray(["stop"]))
        parent.attributes["gen_ai.server.time_to_first_token"] = 0.25
        parent.attributes["note"] = "quote \" and\nnewline"
        let child = tracer.startSpan("POST /api/chat", context: parent.context, ofKind: .client)
        parent.adopt(child)
        parent.setStatus(SpanStatus(code: .error, message: "upstream_error"))
        parent.end()
        #expect(!child.isRecording, "a child still open ends with its parent")
        #expect(exporter.depth.queued == 2)

        let spans = exporter.takeQueued()
        let json = OTLPJSON.encode(spans, serviceName: "gw")
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(json.readableBytesView))
        let resource = try #require(decoded["resourceSpans"]?[0])
        #expect(resource["resource"]?["attributes"]?[0]?["value"]?["stringValue"]?.stringValue == "gw")
        let encoded = try #require(resource["scopeSpans"]?[0]?["spans"]?.arrayValue)
        let server = try #require(encoded.first { $0["name"]?.stringValue == "chat m" })
        let client = try #require(encoded.first { $0["name"]?.stringValue == "POST /api/chat" })
        #expect(server["kind"]?.intValue == 2 && client["kind"]?.intValue == 3)
        #expect(server["traceId"]?.stringValue?.count == 32 && server["spanId"]?.stringValue?.count == 16)
        #expect(client["traceId"] == server["traceId"])
        #expect(client["parentSpanId"] == server["spanId"])
        #expect(server["parentSpanId"] == nil)
        #expect(server["status"]?["code"]?.intValue == 2)
        let start = try #require(server["startTimeUnixNano"]?.stringValue.flatMap { UInt64($0) })
        let end = try #require(server["endTimeUnixNano"]?.stringValue.flatMap { UInt64($0) })
        #expect(end >= start && start > 1_700_000_000_000_000_000)
        let attributes = Self.attributes(of: server)
        #expect(attributes["gen_ai.usage.input_tokens"]?["intValue"]?.stringValue == "12")
        #expect(attributes["gen_ai.response.finish_reasons"]?["arrayValue"]?["values"]?[0]?["stringValue"]?.stringValue == "stop")
        #expect(attributes["gen_ai.server.time_to_first_token"]?["doubleValue"]?.doubleValue == 0.25)
        #expect(attributes["note"]?["stringValue"]?.stringValue == "quote \" and\nnewline")
    }

    @Test func settingsFollowOpenTelemetrysNames() async throws {
        func load(_ values: [String: String]) async throws -> GatewayConfiguration {
            try await GatewayConfiguration.load(overrides: values, environmentFile: "/nonexistent/.env")
        }
        #expect(try await load([:]).tracing == nil)
        let base = try #require(try await load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"]).tracing)
        #expect(base.endpoint == "http://collector:4318/v1/traces")
        let own = try #require(try await load([
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://ignored:4318", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "https://vendor/api/traces",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-api-key=abc%20def, tenant = t1", "OTEL_SERVICE_NAME": "gw-eu",
            "OTEL_BSP_SCHEDULE_DELAY": "250",
        ]).tracing)
        #expect(own.endpoint == "https://vendor/api/traces")
        #expect(own.headers.map { "\($0.name)=\($0.value)" } == ["x-api-key=abc def", "tenant=t1"])
        #expect(own.serviceName == "gw-eu" && own.scheduleDelay == .milliseconds(250))
        await #expect(throws: ConfigurationError.self) {
            try await load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"])
        }
        await #expect(throws: ConfigurationError.self) { try await load(["OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318"]) }
        await #expect(throws: ConfigurationError.self) {
            try await load(["OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318", "OTEL_EXPORTER_OTLP_HEADERS": "novalue"])
        }
        await #expect(throws: ConfigurationError.self) { try await load(["LOG_FORMAT": "xml"]) }
        #expect(try await load(["LOG_FORMAT": "json"]).logFormat == .json)
        for name in TracingConfiguration.environmentNames {
            #expect(GatewayConfiguration.environmentNames.contains(name))
        }
    }

    // MARK: - A traced gateway

    /// Receives OTLP/HTTP JSON exports, as a collector would.
    final class Receiver: Sendable {
        let bodies = Mutex<[String]>([])

        var spans: [JSONValue] {
            bodies.withLock { $0 }.flatMap { body -> [JSONValue] in
                guard let decoded = try? JSONDecoder().decode(JSONValue.self, from: Data(body.utf8)) else { return [] }
                return (decoded["resourceSpans"]?.arrayValue ?? []).flatMap { resource in
                    (resource["scopeSpans"]?.arrayValue ?? []).flatMap { $0["spans"]?.arrayValue ?? [] }
                }
            }
        }

        var raw: String { bodies.withLock { $0.joined(separator: "\n") } }

        /// The spans received once `done` says they are all there (or after 10 s, to fail on).
        func waitForSpans(until done: ([JSONValue]) -> Bool) async throws -> [JSONValue] {
            for _ in 0..<400 {
                let spans = spans
                if done(spans) { return spans }
                try await Task.sleep(for: .milliseconds(25))
            }
            return spans
        }
    }

    static func attributes(of span: JSONValue) -> [String: JSONValue] {
        var result: [String: JSONValue] = [:]
        for attribute in span["attributes"]?.arrayValue ?? [] {
            if let key = attribute["key"]?.stringValue { result[key] = attribute["value"] }
        }
        return result
    }

    @Test func aTracedRequestExportsGenAISpansAndCarriesItsContextToOllama() async throws {
        let receiver = Receiver()
        let router = Router()
        router.post("/v1/traces") { request, _ -> Response in
            let body = try await request.body.collect(upTo: 1 << 22)
            receiver.bodies.withLock { $0.append(String(buffer: body)) }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        let collector = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await collector.test(.live) { collectorClient in
            let collectorPort = try #require(collectorClient.port)
            try await LiveGateway.run({ configuration in
                var tracing = TracingConfiguration(endpoint: "http://127.0.0.1:\(collectorPort)/v1/traces")
                tracing.scheduleDelay = .milliseconds(50)
                configuration.tracing = tracing
            }) { gateway in
                let clientTrace = "0af7651916cd43dd8448eb211c80319c"
                let prompt = "a private prompt that must not be traced"
                let answer = try await gateway.client.execute(
                    uri: "/v1/chat/completions", method: .post,
                    headers: [.contentType: "application/json", HTTPField.Name("traceparent")!: "00-\(clientTrace)-b7ad6b7169203331-01"],
                    body: ByteBuffer(string: #"{"model":"sim-chat","messages":[{"role":"user","content":"\#(prompt)"}]}"#))
                #expect(answer.status == .ok)
                // A stream, on a connection of its own (a stream ends its connection).
                let port = try #require(gateway.client.port)
                try await withHTTPClient { http in
                    var streamed = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/messages")
                    streamed.method = .POST
                    streamed.headers.add(name: "Content-Type", value: "application/json")
                    streamed.body = .bytes(ByteBuffer(string:
                        #"{"model":"sim-chat","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"\#(prompt)"}]}"#))
                    let events = try await http.execute(streamed, timeout: .seconds(20)).body.collect(upTo: 1 << 20)
                    #expect(String(buffer: events).contains("message_stop"))
                }
                let spans = try await receiver.waitForSpans { spans in
                    spans.filter { $0["kind"]?.intValue == 2 }.count == 2
                        && spans.filter { $0["name"]?.stringValue == "POST /api/chat" }.count == 2
                }
                let servers = spans.filter { $0["kind"]?.intValue == 2 }
                #expect(servers.count == 2, "\(receiver.raw)")
                // The calls to Ollama: the chats, and the model list and details the first request
                // read on its way (the background refresh, outside any request, is not traced).
                let clients = spans.filter { $0["kind"]?.intValue == 3 }
                let chats = clients.filter { $0["name"]?.stringValue == "POST /api/chat" }
                #expect(chats.count == 2)
                let serverIDs = Set(servers.compactMap { $0["spanId"]?.stringValue })
                #expect(clients.allSatisfy { serverIDs.contains($0["parentSpanId"]?.stringValue ?? "") })
                #expect(spans.count == servers.count + clients.count)

                // The non-streamed request continues the client's trace.
                let chat = try #require(servers.first { $0["traceId"]?.stringValue == clientTrace })
                #expect(chat["parentSpanId"]?.stringValue == "b7ad6b7169203331")
                #expect(chat["name"]?.stringValue == "chat sim-chat")
                let attributes = Self.attributes(of: chat)
                #expect(attributes["gen_ai.operation.name"]?["stringValue"]?.stringValue == "chat")
                #expect(attributes["gen_ai.request.model"]?["stringValue"]?.stringValue == "sim-chat")
                #expect(attributes["gen_ai.response.model"]?["stringValue"]?.stringValue == "sim-chat:latest")
                #expect(attributes["gen_ai.provider.name"]?["stringValue"]?.stringValue == "ollama")
                #expect(Int(attributes["gen_ai.usage.input_tokens"]?["intValue"]?.stringValue ?? "") ?? 0 > 0)
                #expect(Int(attributes["gen_ai.usage.output_tokens"]?["intValue"]?.stringValue ?? "") ?? 0 > 0)
                #expect(attributes["gen_ai.response.finish_reasons"]?["arrayValue"]?["values"]?[0]?["stringValue"]?.stringValue == "stop")
                #expect(attributes["http.response.status_code"]?["intValue"]?.stringValue == "200")

                // Its call to Ollama is its child, and Ollama received that child's context.
                let call = try #require(chats.first { $0["parentSpanId"] == chat["spanId"] })
                #expect(call["traceId"]?.stringValue == clientTrace)
                #expect(call["name"]?.stringValue == "POST /api/chat")
                #expect(Self.attributes(of: call)["http.response.status_code"]?["intValue"]?.stringValue == "200")
                let received = gateway.sim.recorder.requests(path: "/api/chat").compactMap(\.traceparent)
                let callSpan = try #require(call["spanId"]?.stringValue)
                #expect(received.contains("00-\(clientTrace)-\(callSpan)-01"), "\(received)")

                // The stream starts a trace of its own, records its time to first token, and its
                // call to Ollama lasts until the stream's end.
                let stream = try #require(servers.first { $0["traceId"]?.stringValue != clientTrace })
                #expect(stream["parentSpanId"] == nil)
                let streamAttributes = Self.attributes(of: stream)
                #expect(streamAttributes["gen_ai.request.stream"]?["boolValue"]?.boolValue == true)
                #expect(streamAttributes["gen_ai.server.time_to_first_token"]?["doubleValue"]?.doubleValue ?? 0 > 0)
                #expect(streamAttributes["gen_ai.response.finish_reasons"]?["arrayValue"]?["values"]?[0]?["stringValue"]?.stringValue == "end_turn")
                let streamCall = try #require(chats.first { $0["parentSpanId"] == stream["spanId"] })
                let callEnd = UInt64(streamCall["endTimeUnixNano"]?.stringValue ?? "") ?? 0
                let callStart = UInt64(streamCall["startTimeUnixNano"]?.stringValue ?? "") ?? 0
                let streamEnd = UInt64(stream["endTimeUnixNano"]?.stringValue ?? "") ?? 0
                #expect(callStart > 0 && callEnd >= callStart && callEnd <= streamEnd)

                // Counts and names only: never what was said, asked or answered (the simulator
                // answers "You said: …").
                #expect(!receiver.raw.contains("private prompt"))
                #expect(!receiver.raw.contains("You said"))
            }
        }
    }

    @Test func aCollectorThatIsDownCostsNoRequest() async throws {
        try await LiveGateway.run({ configuration in
            var tracing = TracingConfiguration(endpoint: TestGateway.deadUpstream + "/v1/traces")
            tracing.scheduleDelay = .milliseconds(20)
            configuration.tracing = tracing
        }) { gateway in
            for _ in 0..<3 {
                let answer = try await gateway.post(
                    "/v1/chat/completions", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}]}"#)
                #expect(answer.status == .ok)
            }
        }
    }
}
