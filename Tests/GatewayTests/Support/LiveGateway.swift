import AsyncHTTPClient
import Foundation
import Gateway
import GatewayAPI
import Hummingbird
import HummingbirdTesting
import NIOCore
import NIOFoundationCompat
import OllamaSim

/// A running gateway in front of a running simulator, both on free ports, for live tests.
struct LiveGateway: Sendable {
    let sim: RunningSimulator
    let client: any TestClientProtocol

    /// Starts a simulator, then the gateway against it, and runs `body` with both.
    static func run(
        simulator: SimulatorConfiguration = .init(),
        _ adjust: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (LiveGateway) async throws -> Void
    ) async throws {
        try await withOllamaSimulator(simulator) { sim in
            let app = try await buildApplication(
                configuration: TestGateway.configuration(upstream: sim.baseURL, adjust), logger: TestGateway.logger)
            try await app.test(.live) { client in
                try await body(LiveGateway(sim: sim, client: client))
            }
        }
    }

    func post(_ path: String, _ json: String) async throws -> TestResponse {
        try await client.execute(
            uri: path, method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: json))
    }

    /// The requests the simulator received on a path, as JSON.
    func upstreamRequests(_ path: String) -> [JSONValue] {
        sim.recorder.requests(path: path).compactMap(\.body)
    }
}

/// Parsed server-sent events of a response body.
struct SSEEvents {
    var events: [(event: String?, data: String)] = []

    init(_ body: ByteBuffer) {
        for block in String(buffer: body).components(separatedBy: "\n\n") where !block.isEmpty {
            var name: String?
            var data: [String] = []
            for line in block.split(separator: "\n", omittingEmptySubsequences: false) {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data.append(String(line.dropFirst(6))) }
            }
            if !data.isEmpty { events.append((name, data.joined(separator: "\n"))) }
        }
    }

    /// Every `data:` payload that is JSON, decoded.
    var json: [JSONValue] {
        events.compactMap { try? JSONDecoder().decode(JSONValue.self, from: Data($0.data.utf8)) }
    }

    var dataLines: [String] { events.map(\.data) }
}
