import Foundation
import Gateway
import Testing

@Suite struct AdminConfigurationTests {
    func envFile(_ text: String) throws -> String {
        let path = FileManagerTemp.directory() + "/.env"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func defaults() async throws {
        let admin = try await GatewayConfiguration.load(environmentFile: "/nonexistent/.env").admin
        #expect(admin.token == nil)
        #expect(!admin.cookieSecure)
        #expect(admin.sessionCookieName == "gateway_session")
        #expect(admin.sessionIdleTimeout == .seconds(1800) && admin.sessionLifetime == .seconds(43_200))
        #expect(admin.loginMaxFailuresPerAccount == 5 && admin.loginMaxFailuresPerAddress == 20)
        #expect(admin.loginFailureWindow == .seconds(900))
        #expect(admin.passwordHashCost == 12)
    }

    @Test func readFromTheEnvironmentFile() async throws {
        let file = try envFile("""
            ADMIN_TOKEN=0123456789abcdef0123
            COOKIE_SECURE=true
            ADMIN_SESSION_IDLE_TIMEOUT_S=600
            ADMIN_SESSION_LIFETIME_S=7200
            LOGIN_MAX_FAILURES=3
            LOGIN_MAX_FAILURES_PER_ADDRESS=10
            LOGIN_FAILURE_WINDOW_S=300
            """)
        let admin = try await GatewayConfiguration.load(environmentFile: file).admin
        #expect(admin.token == "0123456789abcdef0123")
        #expect(admin.cookieSecure && admin.sessionCookieName == "__Host-gateway_session")
        #expect(admin.sessionPolicy.idleTimeout == .seconds(600) && admin.sessionPolicy.absoluteLifetime == .seconds(7200))
        #expect(admin.loginMaxFailuresPerAccount == 3 && admin.loginMaxFailuresPerAddress == 10)
        #expect(admin.loginFailureWindow == .seconds(300))
        #expect(GatewayConfiguration.environmentNames.contains("ADMIN_TOKEN"))
    }

    @Test func weakOrNonsensicalValuesAreRefused() async throws {
        for line in ["ADMIN_TOKEN=short", "LOGIN_MAX_FAILURES=0", "ADMIN_SESSION_IDLE_TIMEOUT_S=-1"] {
            let file = try envFile(line)
            await #expect(throws: ConfigurationError.self, "\(line)") {
                _ = try await GatewayConfiguration.load(environmentFile: file)
            }
        }
    }

    @Test func lifetimesAndTimes() {
        #expect(LifetimeText.parse("30d") == .seconds(30 * 86_400))
        #expect(LifetimeText.parse("2w") == .seconds(14 * 86_400))
        #expect(LifetimeText.parse("90s") == .seconds(90))
        for bad in ["", "d", "30", "30 days", "-1d", "0h", "1y"] { #expect(LifetimeText.parse(bad) == nil, "\(bad)") }
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(LifetimeText.expiry("1h", now: now) == now.addingTimeInterval(3600))
        #expect(LifetimeText.expiry("2030-01-31T00:00:00Z", now: now) == Timestamps.parse("2030-01-31T00:00:00.000Z"))
        #expect(Timestamps.format(Date(timeIntervalSince1970: 1_800_000_000.25)) == "2027-01-15T08:00:00.250Z")
    }
}
