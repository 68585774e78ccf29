import Foundation
import Testing

@testable import Gateway

@Suite("Backends in the configuration")
struct BackendConfigurationTests {
    func load(_ overrides: [String: String], flags: [String: String] = [:]) async throws -> GatewayConfiguration {
        try await GatewayConfiguration.load(overrides: overrides, flags: flags, environmentFile: "/nonexistent/.env")
    }

    @Test("one URL works as before: one backend, named 'ollama'")
    func single() async throws {
        let configuration = try await load(["OLLAMA_URL": "http://gpu1:11434/"])
        #expect(configuration.ollamaURL == "http://gpu1:11434")
        #expect(configuration.backends == [Backend(name: "ollama", url: "http://gpu1:11434")])
        let defaults = try await load([:])
        #expect(defaults.backends.map(\.url) == ["http://localhost:11434"])
    }

    @Test("a comma-separated list, named or named after host and port")
    func list() async throws {
        let configuration = try await load(["OLLAMA_URL": " http://gpu1:11434 , big=https://gpu2.lan/ollama/, http://gpu3 "])
        #expect(configuration.backends.map(\.name) == ["gpu1-11434", "big", "gpu3"])
        #expect(configuration.backends.map(\.url) == ["http://gpu1:11434", "https://gpu2.lan/ollama", "http://gpu3"])
        #expect(configuration.ollamaURL == "http://gpu1:11434")
        #expect(configuration.backends.allSatisfy { $0.priority == 0 && $0.weight == 1 && $0.enabled && $0.models.isEmpty })
    }

    @Test("the same host twice gets distinct names")
    func sameHost() throws {
        let backends = try Backend.parseList("http://a:1,http://a:1", authHeader: nil)
        #expect(backends.map(\.name) == ["a-1", "a-1-2"])
    }

    @Test("OLLAMA_AUTH_HEADER goes to every configured backend")
    func authHeader() async throws {
        let configuration = try await load(["OLLAMA_URL": "http://a:1,http://b:2", "OLLAMA_AUTH_HEADER": "Authorization: Bearer t"])
        #expect(configuration.backends.allSatisfy { $0.authHeader == BackendHeader(name: "Authorization", value: "Bearer t") })
    }

    @Test("bad lists are refused, naming the flag when given as one", arguments: [
        ("localhost:11434", "http(s) URL"), ("http://a:1,ftp://b", "http(s) URL"), (",", "at least one"),
        ("x=http://a,x=http://b", "unique"), ("bad name=http://a", "letters"), ("http://user:pw@a", "credentials"),
        ("http://a/?x=1", "query"),
    ])
    func refused(list: String, reason: String) async throws {
        do {
            _ = try await load(["OLLAMA_URL": list], flags: ["OLLAMA_URL": "--ollama-url"])
            Issue.record("accepted \(list)")
        } catch let error as ConfigurationError {
            #expect(error.description.contains("--ollama-url (OLLAMA_URL)"), "\(error)")
            #expect(error.description.contains(reason), "\(error)")
        }
    }

    @Test("routing settings and their defaults")
    func tuning() async throws {
        let defaults = try await load([:]).backendTuning
        #expect(defaults.maxAttempts == 3 && defaults.failureThreshold == 3 && defaults.coolDown == .seconds(30))
        #expect(defaults.probeInterval == .seconds(10) && defaults.probeTimeout == .seconds(3))
        #expect(defaults.firstByteTimeout == .seconds(120) && defaults.stickySessions && defaults.preferLoaded)
        let set = try await load([
            "BACKEND_MAX_ATTEMPTS": "2", "BACKEND_FAILURE_THRESHOLD": "5", "BACKEND_COOLDOWN_MS": "1000",
            "BACKEND_PROBE_INTERVAL_MS": "500", "BACKEND_PROBE_TIMEOUT_MS": "200", "BACKEND_FIRST_BYTE_TIMEOUT_MS": "9000",
            "BACKEND_STICKY_SESSIONS": "false", "BACKEND_PREFER_LOADED": "off",
        ]).backendTuning
        #expect(set.maxAttempts == 2 && set.failureThreshold == 5 && set.coolDown == .seconds(1))
        #expect(set.probeInterval == .milliseconds(500) && set.probeTimeout == .milliseconds(200))
        #expect(set.firstByteTimeout == .seconds(9) && !set.stickySessions && !set.preferLoaded)
        for name in BackendTuning.environmentNames {
            #expect(GatewayConfiguration.environmentNames.contains(name))
        }
        await #expect(throws: ConfigurationError.self) { try await load(["BACKEND_MAX_ATTEMPTS": "0"]) }
        await #expect(throws: ConfigurationError.self) { try await load(["BACKEND_PROBE_INTERVAL_MS": "5"]) }
    }
}
