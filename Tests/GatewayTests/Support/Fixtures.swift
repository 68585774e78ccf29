import Foundation
import GatewayAPI
import Testing

/// Golden fixtures under `Fixtures/`, shipped as test resources.
enum Fixtures {
    static func url(_ path: String) throws -> URL {
        try #require(Bundle.module.url(forResource: "Fixtures/\(path)", withExtension: nil), "missing fixture \(path)")
    }

    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: url(path))
    }

    /// Names of the fixtures in a folder that end with `suffix`, without it.
    static func names(in folder: String, suffix: String) throws -> [String] {
        let directory = try url(folder)
        return try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(suffix) }
            .map { String($0.dropLast(suffix.count)) }
            .sorted()
    }

    static func json(_ path: String) throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: data(path))
    }
}

/// Any encodable value as a JSON tree, to compare with a fixture regardless of key order.
func jsonTree(_ value: some Encodable) throws -> JSONValue {
    try JSONDecoder().decode(JSONValue.self, from: JSONEncoder().encode(value))
}
