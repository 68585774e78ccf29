import ArgumentParser
import Foundation
import Gateway
import GatewayStore
import Logging

/// `ollama-gateway backup FILE`: a consistent copy of the embedded database, safe while the gateway serves.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy the embedded SQLite database to FILE, safely while the gateway runs.",
        discussion: """
            The copy is one consistent snapshot (SQLite's VACUUM INTO); requests carry on while it is taken. \
            FILE must not exist. With DATABASE_URL (PostgreSQL), use pg_dump instead: see docs/operations.md.
            """
    )

    @Argument(help: "The backup file to write.")
    var file: String

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let configuration = try await store.configuration()
        let storeConfiguration = try Self.sqliteConfiguration(configuration, verb: "back up")
        guard let path = storeConfiguration.sqliteFilePath, FileManager.default.fileExists(atPath: path) else {
            throw CommandFailure("there is no database at \(storeConfiguration.sqliteFilePath ?? configuration.dataDirectory) to back up")
        }
        // Not migrated: a backup must not change the database it copies.
        let database = try await GatewayDatabase.open(storeConfiguration, migrate: false, logger: StoreOptions.logger)
        let summary: SQLiteBackup.Summary
        do {
            summary = try await SQLiteBackup.backup(database, to: file)
        } catch {
            try? await database.shutdown()
            throw StoreOptions.readable(error)
        }
        try await database.shutdown()
        printLine("Backed up \(path) to \(file) (\(summary.bytes) bytes, schema version \(summary.schemaVersion))")
    }

    /// The SQLite location of the configuration; PostgreSQL is refused with the tool to use instead.
    static func sqliteConfiguration(_ configuration: GatewayConfiguration, verb: String) throws -> StoreConfiguration {
        let storeConfiguration = try StoreConfiguration(
            dataDirectory: configuration.dataDirectory, databaseURL: configuration.databaseURL)
        guard storeConfiguration.engine == .sqlite else {
            throw CommandFailure(
                "DATABASE_URL selects PostgreSQL, which this command cannot \(verb): use pg_dump and pg_restore "
                    + "(see docs/operations.md), or unset DATABASE_URL to work on the embedded database")
        }
        return storeConfiguration
    }
}

/// `ollama-gateway restore FILE`: a backup back in place, checked first.
struct RestoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Put a backup made by `backup` in place as the embedded database.",
        discussion: """
            The backup is checked first (SQLite's integrity check, and a schema this version knows); nothing \
            changes unless it passes. Refused while any process has the database open: stop the gateway first. \
            An existing database is replaced only with --force, and kept beside it as gateway.sqlite.before-restore-TIME. \
            The next start applies any migration the backup lacks.
            """
    )

    @Argument(help: "The backup file to restore.")
    var file: String

    @Flag(help: "Replace an existing database (it is kept under another name).")
    var force = false

    @OptionGroup var store: StoreOptions

    func run() async throws {
        let configuration = try await store.configuration()
        let storeConfiguration = try BackupCommand.sqliteConfiguration(configuration, verb: "restore")
        guard case .sqlite(let directory) = storeConfiguration.location else { return }
        let restored: SQLiteBackup.Restored
        do {
            restored = try await SQLiteBackup.restore(
                from: file, intoDataDirectory: directory, replaceExisting: force, logger: StoreOptions.logger)
        } catch {
            throw StoreOptions.readable(error)
        }
        printLine("Restored \(file) into \(storeConfiguration.sqliteFilePath ?? directory) (schema version \(restored.schemaVersion))")
        if let previous = restored.previous { printLine("The database it replaced is kept as \(previous)") }
    }
}
