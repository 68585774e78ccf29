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
    static let settingsWithoutFlag: [String] = {
        let flags: Set = ["HOST", "PORT", "OLLAMA_URL", "DATA_DIR", "DEMO", "REASONING_FORMAT", "LOG_LEVEL", "LOG_FORMAT"]
        return GatewayConfiguration.environmentNames.filter { !flags.contains($0) }
    }()

    @Option(help: "Address to listen on (HOST, default 127.0.0.1).")
    var host: String?

    @Option(help: "Port to listen on (PORT, default 3000).")
    var port: Int?

    @Option(
        name: .customLong("ollama-url"),
        help: """
            Ollama server URL, [NAME=]URL; repeat it (or give a comma-separated list) for several servers \
            (OLLAMA_URL, default http://localhost:11434).
            """)
    var ollamaURL: [String] = []

    @Option(name: .customLong("data-dir"), help: "Directory for the embedded database (DATA_DIR, default ./data).")
    var dataDir: String?

    @Flag(help: "Run a built-in Ollama simulator as the upstream, to try every endpoint without Ollama (DEMO).")
    var demo = false

    @Option(name: .customLong("reasoning-format"),
        help: "How reasoning is returned: reasoning_content, reasoning, both or think_tags (REASONING_FORMAT).")
    var reasoningFormat: String?

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error (LOG_LEVEL, default info).")
    var logLevel: String?

    @Option(name: .customLong("log-format"), help: "text, or json for one JSON object a line (LOG_FORMAT, default text).")
    var logFormat: String?

    func run() async throws {
        var overrides: [String: String] = [:]
        overrides["HOST"] = host
        overrides["PORT"] = port.map(String.init)
        // Several servers: the same comma-separated list OLLAMA_URL takes.
        if !ollamaURL.isEmpty { overrides["OLLAMA_URL"] = ollamaURL.joined(separator: ",") }
        overrides["DATA_DIR"] = dataDir
        overrides["REASONING_FORMAT"] = reasoningFormat
        overrides["LOG_LEVEL"] = logLevel
        overrides["LOG_FORMAT"] = logFormat
        if demo { overrides["DEMO"] = "true" }
        let configuration = try await GatewayConfiguration.load(overrides: overrides, flags: Self.flags)
        try await GatewayRunner.run(configuration)
    }

    /// The flag behind each environment name, for errors about a value given as a flag.
    static let flags = [
        "HOST": "--host", "PORT": "--port", "OLLAMA_URL": "--ollama-url", "DATA_DIR": "--data-dir",
        "REASONING_FORMAT": "--reasoning-format", "LOG_LEVEL": "--log-level", "DEMO": "--demo",
        "LOG_FORMAT": "--log-format",
    ]
}
