import Foundation
import Testing

@testable import Gateway

/// Each setting is declared once (name, flag, default, help): the configuration's defaults, the
/// environment names, the flags and `--help` all come from the declarations, and must still say what
/// they said before the declarations existed.
@Suite struct SettingDeclarationTests {
    /// The documented defaults, written out here on purpose: a declaration that changes one fails this.
    @Test func theDefaultsAreTheDocumentedOnes() {
        let configuration = GatewayConfiguration()
        #expect(configuration.host == "127.0.0.1" && configuration.port == 3000)
        #expect(configuration.ollamaURL == "http://localhost:11434" && configuration.dataDirectory == "./data")
        #expect(configuration.databaseURL == nil && configuration.adminPassword == nil && configuration.metricsToken == nil)
        #expect(configuration.requireAPIKey && !configuration.allowModelManagement && !configuration.demo)
        #expect(configuration.keyCacheLifetime == .seconds(10))
        #expect(configuration.usageRetention.logDays == 30 && configuration.usageRetention.hourlyDays == 90)
        #expect(configuration.usageRetention.dailyDays == 730)
        #expect(configuration.demoSimulatorPort == 11435)
        #expect(configuration.maxBodyBytes == 16 * 1024 * 1024)
        #expect(configuration.requestTimeout == .seconds(600) && configuration.streamIdleTimeout == .seconds(120))
        #expect(configuration.streamPingInterval == .seconds(10) && configuration.upstreamConnectTimeout == .seconds(5))
        #expect(configuration.reasoningFormat == .reasoningContent && configuration.anthropicStripBillingHeader)
        #expect(configuration.modelRefreshInterval == .seconds(60) && configuration.logLevel == .info)
        #expect(configuration.logFormat == .text && configuration.tracing == nil)
        #expect(!configuration.imageFetch.allowPrivateAddresses && configuration.imageFetch.maxBytes == 20 * 1024 * 1024)
        #expect(configuration.imageFetch.timeout == .seconds(10) && ImageFetchPolicy().timeout == .seconds(10))
        #expect(configuration.server.idleTimeout == .seconds(60) && configuration.server.headerTimeout == .seconds(10))
        #expect(configuration.server.bodyTimeout == .seconds(120) && configuration.server.maxConnections == 4096)
        #expect(configuration.server.shutdownDrainTimeout == .seconds(30) && configuration.server.allowedHosts.isEmpty)
        #expect(configuration.admin.passwordHashCost == 12 && configuration.admin.sessionIdleTimeout == .seconds(1800))
    }

    @Test func readingNothingGivesTheDeclaredDefaults() async throws {
        let read = try await GatewayConfiguration.load(environmentFile: "/nonexistent/.env")
        let declared = GatewayConfiguration()
        #expect(read.requestTimeout == declared.requestTimeout && read.maxBodyBytes == declared.maxBodyBytes)
        #expect(read.admin.loginFailureWindow == declared.admin.loginFailureWindow)
        #expect(read.server.shutdownDrainTimeout == declared.server.shutdownDrainTimeout)
    }

    /// Durations count the unit their name ends with.
    @Test func durationsCountTheirNamesUnit() async throws {
        let path = FileManagerTemp.directory() + "/.env"
        try "MODEL_REFRESH_INTERVAL_S=7\nCLIENT_IDLE_TIMEOUT_MS=7\nADMIN_SESSION_LIFETIME_S=7".write(
            toFile: path, atomically: true, encoding: .utf8)
        let configuration = try await GatewayConfiguration.load(environmentFile: path)
        #expect(configuration.modelRefreshInterval == .seconds(7))
        #expect(configuration.server.idleTimeout == .milliseconds(7))
        #expect(configuration.admin.sessionLifetime == .seconds(7))
    }

    @Test func theFlagsAreTheDocumentedOnes() {
        #expect(
            GatewayConfiguration.flags == [
                "HOST": "--host", "PORT": "--port", "OLLAMA_URL": "--ollama-url", "DATA_DIR": "--data-dir",
                "REASONING_FORMAT": "--reasoning-format", "LOG_LEVEL": "--log-level", "DEMO": "--demo",
                "LOG_FORMAT": "--log-format",
            ])
        #expect(GatewayConfiguration.Settings.port.flagHelp == "Port to listen on (PORT, default 3000).")
        #expect(GatewayConfiguration.Settings.demo.flagHelp.hasSuffix("(DEMO)."))
    }

    @Test func everySettingHasOneNameAndHelp() {
        let names = GatewayConfiguration.environmentNames
        #expect(Set(names).count == names.count)
        #expect(GatewayConfiguration.settings.allSatisfy { !$0.help.isEmpty })
        for name in AdminConfiguration.environmentNames + ServerLimits.environmentNames {
            #expect(names.contains(name))
        }
    }

    /// The README's configuration table is the user's list of settings: it and the declarations agree.
    @Test func theReadmeListsEverySettingWithItsFlag() throws {
        let readme = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        var documented: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("| ") {
            let cells = line.split(separator: "|", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            }
            guard cells.count > 3, !cells[2].isEmpty, cells[2].allSatisfy({ $0.isUppercase || $0 == "_" || $0.isNumber })
            else { continue }
            documented[cells[2]] = cells[1]
        }
        for setting in GatewayConfiguration.settings {
            #expect(documented[setting.name] == (setting.flag.map { "--\($0)" } ?? ""), "\(setting.name)")
        }
    }
}
