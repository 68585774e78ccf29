import ArgumentParser
import Foundation
import Gateway
import GatewayStore
import Logging

/// What every command that works on the gateway's database needs: where it is. The same rules as
/// `serve`: `--data-dir`, else `DATA_DIR` from the environment or `.env`; `DATABASE_URL` selects
/// PostgreSQL. The server may be running: both work on the same database.
struct StoreOptions: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Directory of the embedded database (DATA_DIR, default ./data); DATABASE_URL selects PostgreSQL instead.")
    var dataDir: String?

    /// Opens the database, runs `body`, and closes the database whatever happens.
    func withStore<Result>(_ body: (GatewayStore, GatewayConfiguration) async throws -> Result) async throws -> Result {
        let configuration = try await configuration()
        let database = try await GatewayDatabase.open(
            StoreConfiguration(dataDirectory: configuration.dataDirectory, databaseURL: configuration.databaseURL),
            logger: Self.logger)
        let store = GatewayStore(
            database: database, passwordHasher: PasswordHasher(cost: configuration.admin.passwordHashCost),
            sessionPolicy: configuration.admin.sessionPolicy)
        let result: Result
        do {
            result = try await body(store, configuration)
        } catch {
            try? await database.shutdown()
            throw Self.readable(error)
        }
        try await database.shutdown()
        return result
    }
}

extension StoreOptions {
    /// The gateway's settings with this command's `--data-dir`.
    func configuration() async throws -> GatewayConfiguration {
        var overrides: [String: String] = [:]
        overrides["DATA_DIR"] = dataDir
        return try await GatewayConfiguration.load(overrides: overrides)
    }

    /// Diagnostics go to stderr: stdout carries what scripts read (a new key on the last line).
    static let logger: Logger = {
        var logger = Logger(label: "ollama-gateway") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .warning
        return logger
    }()

    /// Store errors as a person at a terminal should read them.
    static func readable(_ error: any Error) -> any Error {
        switch error {
        case StoreError.notFound(let what): CommandFailure("not found: \(what)")
        case StoreError.conflict(let message), StoreError.invalidArgument(let message): CommandFailure(message)
        default: error
        }
    }
}

/// A failure the command reports on stderr (as `Error: …`) with a non-zero exit status.
struct CommandFailure: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Command-line actions appear in the audit log under this actor.
let commandLineActor = AuditActor.system("cli")

func printLine(_ text: String = "") {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
