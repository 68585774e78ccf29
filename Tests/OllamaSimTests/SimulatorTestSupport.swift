import AsyncHTTPClient
import Foundation
import GatewayAPI
import NIOCore
import NIOHTTP1
import OllamaSim
import Testing

/// A response read whole.
struct SimResponse {
    let status: Int
    let headers: HTTPHeaders
    let body: String

    var contentType: String? { headers.first(name: "content-type") }

    var json: JSONValue? {
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(body.utf8))
        } catch {
            return nil
        }
    }

    /// NDJSON lines, each parsed (a line that is not JSON fails the test).
    func lines() throws -> [JSONValue] {
        try body.split(separator: "\n", omittingEmptySubsequences: true).map {
            try JSONDecoder().decode(JSONValue.self, from: Data($0.utf8))
        }
    }

    var errorMessage: String? { json?["error"]?.stringValue }
}

/// A small client for the simulator under test.
struct SimClient {
    let baseURL: String
    let client = HTTPClient.shared

    func send(_ method: HTTPMethod, _ path: String, body: String? = nil, headers: [(String, String)] = [], timeout: TimeAmount = .seconds(10)) async throws -> SimResponse {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "content-type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        let response = try await client.execute(request, timeout: timeout)
        let buffer = try await response.body.collect(upTo: 64 * 1024 * 1024)
        return SimResponse(status: Int(response.status.code), headers: response.headers, body: String(buffer: buffer))
    }

    func post(_ path: String, _ body: String, timeout: TimeAmount = .seconds(10)) async throws -> SimResponse {
        try await send(.POST, path, body: body, timeout: timeout)
    }

    func post(_ path: String, json: JSONValue, timeout: TimeAmount = .seconds(10)) async throws -> SimResponse {
        try await post(path, String(decoding: try JSONEncoder().encode(json), as: UTF8.self), timeout: timeout)
    }

    func get(_ path: String) async throws -> SimResponse {
        try await send(.GET, path)
    }
}

func withSim<T: Sendable>(
    _ configuration: SimulatorConfiguration = .init(),
    _ body: (RunningSimulator, SimClient) async throws -> T
) async throws -> T {
    try await withOllamaSimulator(configuration) { sim in
        try await body(sim, SimClient(baseURL: sim.baseURL))
    }
}

/// `messages: [{"role":"user","content": text}]`.
func userMessages(_ text: String) -> JSONValue {
    [["role": "user", "content": .string(text)]]
}

extension JSONValue {
    /// Concatenated `message.content` (chat) or `response` (generate) of stream lines.
    static func joined(_ lines: [JSONValue], _ keyPath: (JSONValue) -> String?) -> String {
        lines.compactMap(keyPath).joined()
    }
}
