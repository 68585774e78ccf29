import Foundation
import Testing

@testable import Gateway

@Suite struct GatewayConfigurationTests {
    func envFile(_ text: String) throws -> String {
        let path = FileManagerTemp.directory() + "/.env"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaults() async throws {
        let configuration = try await GatewayConfiguration.load(environmentFile: "/nonexistent/.env")
        #expect(configuration.host == "127.0.0.1")
        #expect(configuration.port == 3000)
        #expect(configuration.ollamaURL == "http://localhost:11434")
        #expect(configuration.dataDirectory == "./data")
        #expect(configuration.reasoningFormat == .reasoningContent)
        #expect(configuration.imageFetch.allowPrivateAddresses == false)
    }

    @Test func flagsWinOverTheEnvFile() async throws {
        let file = try envFile("""
            PORT=4000
            OLLAMA_URL=http://ollama.internal:11434/
            DATA_DIR=/var/lib/gateway
            REQUEST_TIMEOUT_MS=1500
            OLLAMA_AUTH_HEADER=Authorization: Bearer upstream-secret
            IMAGE_FETCH_ALLOW_PRIVATE=true
            """)
        let configuration = try await GatewayConfiguration.load(overrides: ["PORT": "5000"], environmentFile: file)
        #expect(configuration.port == 5000)
        #expect(configuration.ollamaURL == "http://ollama.internal:11434")
        #expect(configuration.dataDirectory == "/var/lib/gateway")
        #expect(configuration.requestTimeout == .milliseconds(1500))
        #expect(configuration.ollamaAuthHeader?.name == "Authorization")
        #expect(configuration.ollamaAuthHeader?.value == "Bearer upstream-secret")
        #expect(configuration.imageFetch.allowPrivateAddresses)
    }

    @Test("invalid settings are refused with a reason", arguments: [
        ["OLLAMA_URL": "localhost:11434"], ["REASONING_FORMAT": "xml"], ["LOG_LEVEL": "loud"],
        ["OLLAMA_AUTH_HEADER": "no-colon"],
    ])
    func invalid(overrides: [String: String]) async throws {
        await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(overrides: overrides, environmentFile: "/nonexistent/.env")
        }
    }

    /// The configuration library falls back to the default for a value it cannot read: the gateway
    /// must refuse it instead, naming where it came from.
    @Test("unreadable or out-of-range values name their source", arguments: [
        ("PORT=abc", [:], "PORT"), ("PORT=70000", [:], "PORT"), ("REQUIRE_API_KEY=flase", [:], "REQUIRE_API_KEY"),
        ("REQUEST_TIMEOUT_MS=-5", [:], "REQUEST_TIMEOUT_MS"), ("MAX_BODY_BYTES=1e9", [:], "MAX_BODY_BYTES"),
        ("STREAM_IDLE_TIMEOUT_MS=99999999999999999999", [:], "STREAM_IDLE_TIMEOUT_MS"),
        ("", ["PORT": "70000"], "--port (PORT)"), ("LOGIN_MAX_FAILURES=0", [:], "LOGIN_MAX_FAILURES"),
    ])
    func unreadableValues(file: String, flags: [String: String], named: String) async throws {
        let path = try envFile(file)
        let error = await #expect(throws: ConfigurationError.self) {
            try await GatewayConfiguration.load(overrides: flags, flags: ["PORT": "--port"], environmentFile: path)
        }
        #expect(error?.description.hasPrefix(named + " ") == true, "\(error?.description ?? "")")
    }

    @Test func wholeNumbersAndBooleansInTheirUsualSpellings() async throws {
        let path = try envFile("PORT= 4001 \nREQUIRE_API_KEY=no\nDEMO=1\nKEY_CACHE_TTL_MS=0")
        let configuration = try await GatewayConfiguration.load(environmentFile: path)
        #expect(configuration.port == 4001)
        #expect(configuration.requireAPIKey == false)
        #expect(configuration.demo)
        #expect(configuration.keyCacheLifetime == .zero)
    }
}
