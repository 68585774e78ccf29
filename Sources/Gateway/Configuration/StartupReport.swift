import GatewayStore
import Logging

/// What an operator needs to know the moment the gateway starts: where its state lives, which
/// Ollama it talks to, and the first steps still to take (a default admin password, no API key).
struct StartupReport {
    var lines: [String] = []

    static func make(configuration: GatewayConfiguration, store: GatewayStore, storeConfiguration: StoreConfiguration)
        async -> StartupReport
    {
        var report = StartupReport()
        report.lines.append("ollama-gateway \(GatewayVersion.current)")
        report.lines.append("database: \(storeConfiguration.redactedDescription)")
        report.lines.append(
            configuration.demo
                ? "ollama: the built-in simulator at \(LogRedaction.url(configuration.ollamaURL)) (demo mode)"
                : "ollama: \(LogRedaction.url(configuration.ollamaURL))")
        if let tracing = configuration.tracing {
            // The URL only: OTEL_EXPORTER_OTLP_HEADERS usually holds a vendor's token.
            report.lines.append("traces: OTLP/HTTP JSON to \(LogRedaction.url(tracing.endpoint))")
        }
        if let accounts = try? await store.adminAccounts.list(), accounts.contains(where: \.mustChangePassword) {
            report.lines.append(
                "admin: the password is still the default (admin/admin); it must be changed before any admin action: "
                    + "log in to the admin API and change it, run `ollama-gateway admin reset-password`, or set ADMIN_PASSWORD "
                    + "before the first start")
        }
        if configuration.requireAPIKey, let keys = try? await store.apiKeys.list(), keys.isEmpty {
            report.lines.append(
                "api keys: none yet; every API request needs one: create one with `ollama-gateway keys create --name NAME` "
                    + "(run it with the same --data-dir or DATABASE_URL; the key is printed once)")
        }
        return report
    }

    func log(to logger: Logger) {
        for line in lines { logger.notice("\(line)") }
    }
}
