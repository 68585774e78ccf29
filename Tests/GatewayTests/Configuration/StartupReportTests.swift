import Foundation
import GatewayStore
import Logging
import Testing

@testable import Gateway

/// What `serve` says at start, and the version it says it with.
@Suite struct StartupReportTests {
    /// The packaging's `VERSION` file, when the repository has one, says the same as the binary.
    @Test func theVersionFileMatchesTheBinary() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent("Package.swift").path))
        let file = root.appendingPathComponent("VERSION")
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return }
        #expect(text.trimmingCharacters(in: .whitespacesAndNewlines) == GatewayVersion.current)
    }

    @Test func theVersionIsASemanticVersion() {
        let parts = GatewayVersion.current.split(separator: "-", maxSplits: 1)[0].split(separator: ".")
        #expect(parts.count == 3 && parts.allSatisfy { Int($0) != nil }, "\(GatewayVersion.current)")
    }

    func report(_ adjust: (inout GatewayConfiguration) -> Void) async throws -> [String] {
        let configuration = TestGateway.configuration(upstream: "http://ollama-user:ollama-pass@ollama.lan:11434", adjust)
        let storeConfiguration = try StoreConfiguration(
            dataDirectory: configuration.dataDirectory, databaseURL: configuration.databaseURL)
        let database = try await GatewayDatabase.open(storeConfiguration)
        let store = GatewayStore(database: database, passwordHasher: PasswordHasher(cost: 4))
        do {
            _ = try await store.adminAccounts.bootstrap(initialPassword: configuration.adminPassword)
            let lines = await StartupReport.make(
                configuration: configuration, store: store, storeConfiguration: storeConfiguration
            ).lines
            try await database.shutdown()
            return lines
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    @Test func itSaysTheVersionDatabaseOllamaAndTheDefaultPassword() async throws {
        let lines = try await report {
            $0.requireAPIKey = true
            var tracing = TracingConfiguration(endpoint: "https://user:otel-secret@collector.example/v1/traces")
            tracing.headers = [("x-api-key", "header-secret")]
            $0.tracing = tracing
        }
        #expect(lines.first == "ollama-gateway \(GatewayVersion.current)")
        #expect(lines.contains { $0.hasPrefix("database: sqlite:") && $0.hasSuffix("gateway.sqlite") })
        #expect(lines.contains("ollama: http://ollama.lan:11434"))
        #expect(lines.contains("traces: OTLP/HTTP JSON to https://collector.example/v1/traces"))
        #expect(lines.contains { $0.hasPrefix("admin: the password is still the default") })
        #expect(lines.contains { $0.hasPrefix("api keys: none yet") })
        let all = lines.joined(separator: "\n")
        for secret in ["ollama-pass", "otel-secret", "header-secret"] { #expect(!all.contains(secret)) }
    }

    @Test func aChosenPasswordIsNotReportedAsTheDefault() async throws {
        let lines = try await report { $0.adminPassword = "chosen-at-install" }
        #expect(!lines.contains { $0.hasPrefix("admin:") })
        #expect(!lines.contains { $0.hasPrefix("traces:") })
    }
}
