import AsyncHTTPClient
import Foundation
import GatewayAPI
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import OllamaSim
import Synchronization
import Testing

@testable import Gateway

/// `LOG_FORMAT=json` writes the text line's fields as one JSON object a line; neither format ever
/// carries a secret.
@Suite("Logs", .timeLimit(.minutes(2)))
struct LoggingTests {
    final class Captured: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ text: String) { lines.withLock { $0.append(text) } }
        var text: String { lines.withLock { $0.joined() } }
    }

    struct CaptureStream: TextOutputStream, Sendable {
        let captured: Captured
        mutating func write(_ string: String) { captured.append(string) }
    }

    /// Every event rendered in both formats, at the most verbose level.
    struct BothFormats: LogHandler {
        var text: StreamLogHandler
        var json: JSONLogHandler

        init(label: String, text: Captured, json: Captured) {
            self.text = StreamLogHandler(label: label, stream: CaptureStream(captured: text), metadataProvider: nil)
            self.json = JSONLogHandler(label: label, metadataProvider: nil) { json.append($0) }
            self.logLevel = .trace
        }

        var logLevel: Logger.Level {
            get { text.logLevel }
            set {
                text.logLevel = newValue
                json.logLevel = newValue
            }
        }

        var metadata: Logger.Metadata {
            get { text.metadata }
            set {
                text.metadata = newValue
                json.metadata = newValue
            }
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { text[metadataKey: key] }
            set {
                text[metadataKey: key] = newValue
                json[metadataKey: key] = newValue
            }
        }

        func log(event: LogEvent) {
            text.log(event: event)
            json.log(event: event)
        }
    }

    @Test func aJSONLineHasTheTextLinesFields() throws {
        let captured = Captured()
        var logger = Logger(label: "ollama-gateway") { label in
            JSONLogHandler(label: label, metadataProvider: nil) { line in captured.append(line) }
        }
        logger[metadataKey: "request.id"] = "r1"
        logger.notice(
            "a \"quoted\"\nmessage\u{1}", metadata: ["nested": ["a": ["x", "y"], "b": "2"], "count": .stringConvertible(3)])
        logger.debug("below the level: not written")
        let lines = captured.lines.withLock { $0 }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line.hasSuffix("\n") && line.dropLast().firstIndex(of: "\n") == nil, "one line per event")
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        #expect(decoded["level"]?.stringValue == "notice")
        #expect(decoded["label"]?.stringValue == "ollama-gateway")
        #expect(decoded["message"]?.stringValue == "a \"quoted\"\nmessage\u{1}")
        #expect(decoded["source"]?.stringValue == "GatewayTests")
        #expect(decoded["metadata"]?["request.id"]?.stringValue == "r1")
        #expect(decoded["metadata"]?["count"]?.stringValue == "3")
        #expect(decoded["metadata"]?["nested"]?["a"]?[1]?.stringValue == "y")
        let timestamp = try #require(decoded["timestamp"]?.stringValue)
        let parsed = try #require(try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(timestamp))
        #expect(abs(parsed.timeIntervalSinceNow) < 60)
    }

    @Test func theListeningLineFollowsTheFormat() throws {
        let message = "ollama-gateway listening on http://127.0.0.1:3000"
        #expect(LogFormat.text.announcement(message, label: "ollama-gateway") == message + "\n")
        let line = LogFormat.json.announcement(message, label: "ollama-gateway")
        let decoded = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
        #expect(decoded["message"]?.stringValue == message)
        #expect(decoded["level"]?.stringValue == "notice")
    }

    @Test func theFormatIsChosenBySetting() {
        #expect(LogFormat.json.makeHandler(label: "x") is JSONLogHandler)
        #expect(LogFormat.text.makeHandler(label: "x") is StreamLogHandler)
    }

    @Test func noSecretReachesTheLogsInEitherFormat() async throws {
        let text = Captured()
        let json = Captured()
        var logger = Logger(label: "ollama-gateway") { BothFormats(label: $0, text: text, json: json) }
        logger.logLevel = .trace
        let adminPassword = "admin-password-never-logged"
        let adminToken = "admin-token-never-logged-0123456789"
        let upstreamSecret = "upstream-secret-never-logged"
        let metricsToken = "metrics-token-never-logged"
        let proxyPassword = "proxy-password-never-logged"
        try await withOllamaSimulator { sim in
            // Credentials in OLLAMA_URL (a proxy in front of Ollama taking basic auth) stay out too.
            let upstream = sim.baseURL.replacingOccurrences(of: "http://", with: "http://proxy-user:\(proxyPassword)@")
            let configuration = TestGateway.configuration(upstream: upstream) {
                $0.requireAPIKey = true
                $0.adminPassword = adminPassword
                $0.admin.token = adminToken
                $0.ollamaAuthHeader = ("Authorization", "Bearer \(upstreamSecret)")
                $0.metricsToken = metricsToken
            }
            let app = try await buildApplication(configuration: configuration, logger: logger)
            try await app.test(.live) { client in
                let created = try await client.execute(
                    uri: "/admin/api/keys", method: .post,
                    headers: [.authorization: "Bearer \(adminToken)", .contentType: "application/json"],
                    body: ByteBuffer(string: #"{"name":"logged"}"#))
                #expect(created.status == .created)
                let secret = try #require(
                    try JSONDecoder().decode(JSONValue.self, from: Data(created.body.readableBytesView))["secret"]?.stringValue)
                let chat = #"{"model":"sim-chat","messages":[{"role":"user","content":"hello"}]}"#
                for key in [secret, "sk-wrong-key-never-logged-000000000000000000"] {
                    _ = try await client.execute(
                        uri: "/v1/chat/completions", method: .post,
                        headers: [.authorization: "Bearer \(key)", .contentType: "application/json"], body: ByteBuffer(string: chat))
                    _ = try await client.execute(
                        uri: "/v1/messages", method: .post,
                        headers: [HTTPField.Name("x-api-key")!: key, .contentType: "application/json"],
                        body: ByteBuffer(string: #"{"model":"sim-chat","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#))
                }
                for password in ["wrong-password-never-logged", adminPassword] {
                    _ = try await client.execute(
                        uri: "/admin/api/login", method: .post, headers: [.contentType: "application/json"],
                        body: ByteBuffer(string: #"{"username":"admin","password":"\#(password)"}"#))
                }
                _ = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(metricsToken)"])
                _ = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer wrong-metrics-never-logged"])

                let secrets = [
                    secret, String(secret.dropFirst(3)), "sk-wrong-key-never-logged", adminPassword, "wrong-password-never-logged",
                    adminToken, upstreamSecret, metricsToken, "wrong-metrics-never-logged", proxyPassword,
                ]
                // The logs did record the requests: the check below looks at real lines.
                #expect(text.text.contains("request id="))
                #expect(json.text.contains(#""message":"request id="#))
                for (format, captured) in [("text", text), ("json", json)] {
                    for value in secrets {
                        #expect(!captured.text.contains(value), "\(format) logs contain \(value)")
                    }
                    #expect(!captured.text.lowercased().contains("authorization: bearer"), "\(format)")
                }
            }
        }
    }
}
