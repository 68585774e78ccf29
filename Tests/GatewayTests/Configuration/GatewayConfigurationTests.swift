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
}
