import ArgumentParser
import Gateway
import Logging

@main
struct OllamaGateway: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ollama-gateway",
        abstract: "OpenAI- and Anthropic-compatible gateway in front of Ollama, with API keys and usage accounting.",
        version: GatewayVersion.current,
        subcommands: [
            Serve.self, KeysCommand.self, AdminCommand.self, BackupCommand.self, RestoreCommand.self, VersionCommand.self,
        ],
        defaultSubcommand: Serve.self
    )
}

/// `ollama-gateway version`: the same line as `--version`, for those who type it as a command.
struct VersionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "version", abstract: "Print the version.")

    func run() {
        print(GatewayVersion.current)
    }
}

/// `ollama-gateway serve`: every option is also an environment variable and a `.env` entry
/// (flags win over the environment, which wins over `.env`).
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the gateway (the default command).",
        discussion: """
            Every option can also be set with the environment variable named in its help, or in a .env file in the \
            working directory (flags win over the environment, which wins over .env). Settings without a flag: \
            \(Serve.settingsWithoutFlag.joined(separator: ", ")). The README explains each.
            """
    )

    /// Environment names of the settings that have no flag of their own, for `--help`.
    static let settingsWithoutFlag: [String] = GatewayConfiguration.settings.filter { $0.flag == nil }.map(\.name)

    typealias Settings = GatewayConfiguration.Settings

    @Option(name: .setting(Settings.host), help: .setting(Settings.host))
    var host: String?

    @Option(name: .setting(Settings.port), help: .setting(Settings.port))
    var port: Int?

    @Option(name: .setting(Settings.ollamaURL), help: .setting(Settings.ollamaURL))
    var ollamaURL: [String] = []

    @Option(name: .setting(Settings.dataDirectory), help: .setting(Settings.dataDirectory))
    var dataDir: String?

    @Flag(name: .setting(Settings.demo), help: .setting(Settings.demo))
    var demo = false

    @Option(name: .setting(Settings.reasoningFormat), help: .setting(Settings.reasoningFormat))
    var reasoningFormat: String?

    @Option(name: .setting(Settings.logLevel), help: .setting(Settings.logLevel))
    var logLevel: String?

    @Option(name: .setting(Settings.logFormat), help: .setting(Settings.logFormat))
    var logFormat: String?

    func run() async throws {
        // ArgumentParser stays the only reader of the command line (it also makes `--help` and refuses
        // unknown flags); the values it parsed join the environment under their settings' names.
        var overrides: [String: String] = [:]
        overrides[Settings.host.name] = host
        overrides[Settings.port.name] = port.map(String.init)
        // Several servers: the same comma-separated list OLLAMA_URL takes.
        if !ollamaURL.isEmpty { overrides[Settings.ollamaURL.name] = ollamaURL.joined(separator: ",") }
        overrides[Settings.dataDirectory.name] = dataDir
        overrides[Settings.reasoningFormat.name] = reasoningFormat
        overrides[Settings.logLevel.name] = logLevel
        overrides[Settings.logFormat.name] = logFormat
        if demo { overrides[Settings.demo.name] = "true" }
        let configuration = try await GatewayConfiguration.load(overrides: overrides)
        try await GatewayRunner.run(configuration)
    }
}

extension NameSpecification {
    /// A setting's own flag (`--ollama-url`), else one made of its environment name.
    static func setting<Value: Sendable>(_ setting: Setting<Value>) -> NameSpecification {
        .customLong(setting.flag ?? String(setting.name.lowercased().map { $0 == "_" ? "-" : $0 }))
    }
}

extension ArgumentHelp {
    static func setting<Value: Sendable>(_ setting: Setting<Value>) -> ArgumentHelp {
        ArgumentHelp(setting.flagHelp)
    }
}
