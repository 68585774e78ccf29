import Foundation
import Logging
import SQLKit
import Testing

@testable import GatewayStore

/// `backup` and `restore` of the embedded database: a consistent copy while writers run, and a
/// restore that checks the copy and never replaces a database in use.
@Suite struct BackupTests {
    static let logger: Logger = {
        var logger = Logger(label: "gateway.store.backup-tests")
        logger.logLevel = .error
        return logger
    }()

    static func temporaryDirectory() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("gateway-backup-\(UUID().uuidString)").path
    }

    /// Runs `body` on the database of `directory`, shut down however `body` ends.
    static func with<Result>(
        _ directory: String, migrate: Bool = true, _ body: (GatewayDatabase) async throws -> Result
    ) async throws -> Result {
        let database = try await GatewayDatabase.open(.sqlite(dataDirectory: directory), migrate: migrate, logger: logger)
        do {
            let result = try await body(database)
            try await database.shutdown()
            return result
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    @Test func aBackupTakenWhileWritersRunHoldsEveryCommittedRowAndRestores() async throws {
        let source = Self.temporaryDirectory()
        let target = Self.temporaryDirectory()
        let file = Self.temporaryDirectory() + ".sqlite"
        defer { for path in [source, target, file] { try? FileManager.default.removeItem(atPath: path) } }
        let (before, summary) = try await Self.with(source) { database in
            let store = testStore(database)
            var before: [String] = []
            for index in 0..<20 {
                before.append(try await store.apiKeys.create(APIKeySettings(name: "before-\(index)")).secret.value)
            }
            // Writers keep writing while the copy is taken: it must neither wait for them nor fail.
            let summary = try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<3 {
                    group.addTask {
                        for index in 0..<40 {
                            _ = try await store.apiKeys.create(APIKeySettings(name: "during-\(writer)-\(index)"))
                        }
                    }
                }
                let summary = try await SQLiteBackup.backup(database, to: file)
                try await group.waitForAll()
                return summary
            }
            #expect(try await store.apiKeys.list().count == 140)
            // A second backup to the same name is refused: a backup is never overwritten.
            await #expect(throws: StoreError.self) { try await SQLiteBackup.backup(database, to: file) }
            return (before, summary)
        }
        #expect(summary.schemaVersion == Migration.all.map(\.version).max())
        #expect(summary.bytes > 0)
        let attributes = try FileManager.default.attributesOfItem(atPath: file)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        let restored = try await SQLiteBackup.restore(
            from: file, intoDataDirectory: target, replaceExisting: false, logger: Self.logger)
        #expect(restored.previous == nil)
        #expect(restored.schemaVersion == summary.schemaVersion)
        try await Self.with(target) { copy in
            let copyStore = testStore(copy)
            // Every key committed before the backup is there and still authenticates.
            for secret in before { #expect(try await copyStore.apiKeys.find(secret: secret) != nil) }
            let count = try await copyStore.apiKeys.list().count
            #expect(count >= 20 && count <= 140)
        }
    }

    @Test func restoreRefusesADatabaseInUseAndKeepsTheOneItReplaces() async throws {
        let directory = Self.temporaryDirectory()
        let other = Self.temporaryDirectory()
        let file = Self.temporaryDirectory() + ".sqlite"
        defer { for path in [directory, other, file] { try? FileManager.default.removeItem(atPath: path) } }
        try await Self.with(other) { backedUp in
            _ = try await testStore(backedUp).apiKeys.create(APIKeySettings(name: "from-backup"))
            _ = try await SQLiteBackup.backup(backedUp, to: file)
        }
        let path = try #require(StoreConfiguration.sqlite(dataDirectory: directory).sqliteFilePath)
        try await Self.with(directory) { live in
            _ = try await testStore(live).apiKeys.create(APIKeySettings(name: "live"))
            #expect(try SQLiteBackup.isInUse(databasePath: path))
            // Open: refused even with --force, and nothing changes.
            await #expect(throws: StoreError.self) {
                try await SQLiteBackup.restore(from: file, intoDataDirectory: directory, replaceExisting: true, logger: Self.logger)
            }
            #expect(try await testStore(live).apiKeys.list().map(\.name) == ["live"])
        }
        #expect(try !SQLiteBackup.isInUse(databasePath: path))

        // Closed but present: only with --force, and the old database is kept beside it.
        await #expect(throws: StoreError.self) {
            try await SQLiteBackup.restore(from: file, intoDataDirectory: directory, replaceExisting: false, logger: Self.logger)
        }
        let restored = try await SQLiteBackup.restore(
            from: file, intoDataDirectory: directory, replaceExisting: true, logger: Self.logger)
        let previous = try #require(restored.previous)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
        #expect(try await Self.with(directory) { try await testStore($0).apiKeys.list().map(\.name) } == ["from-backup"])
        // The replaced database is whole where it was kept.
        let keptDirectory = Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: keptDirectory) }
        try FileManager.default.createDirectory(atPath: keptDirectory, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: previous, toPath: keptDirectory + "/gateway.sqlite")
        #expect(try await Self.with(keptDirectory) { try await testStore($0).apiKeys.list().map(\.name) } == ["live"])
    }

    @Test func restoreRefusesWhatIsNotAGoodGatewayBackup() async throws {
        let directory = Self.temporaryDirectory()
        let scratch = Self.temporaryDirectory()
        defer { for path in [directory, scratch] { try? FileManager.default.removeItem(atPath: path) } }
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)

        func refused(_ file: String, _ fragment: String) async {
            do {
                _ = try await SQLiteBackup.restore(
                    from: file, intoDataDirectory: directory, replaceExisting: true, logger: Self.logger)
                Issue.record("\(file) was restored")
            } catch {
                #expect("\(error)".contains(fragment), "\(error)")
            }
            #expect(!FileManager.default.fileExists(atPath: directory + "/gateway.sqlite"))
        }

        await refused(scratch + "/missing.sqlite", "not found")
        let text = scratch + "/notes.txt"
        try Data("not a database at all".utf8).write(to: URL(fileURLWithPath: text))
        await refused(text, "not an SQLite database")

        // An SQLite file that is not the gateway's: `backup` refuses to copy it, `restore` to restore it.
        let foreign = scratch + "/foreign.sqlite"
        try await Self.with(scratch + "/foreign", migrate: false) { database in
            try await database.sql.raw("CREATE TABLE notes (body TEXT)").run()
            await #expect(throws: StoreError.self) { try await SQLiteBackup.backup(database, to: scratch + "/never.sqlite") }
            try await database.sql.raw("VACUUM INTO \(bind: foreign)").run()
        }
        #expect(!FileManager.default.fileExists(atPath: scratch + "/never.sqlite"))
        await refused(foreign, "not the gateway's")

        // A backup from a newer gateway, whose schema this one does not know.
        try await Self.with(scratch + "/newer") { database in
            try await database.sql.raw(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (9999, 'future', 0)"
            ).run()
            _ = try await SQLiteBackup.backup(database, to: scratch + "/newer.sqlite")
        }
        await refused(scratch + "/newer.sqlite", "newer gateway")

        // A damaged copy: pages overwritten in the middle of the file.
        try await Self.with(scratch + "/damaged") { database in
            let store = testStore(database)
            for index in 0..<200 { _ = try await store.apiKeys.create(APIKeySettings(name: "key-\(index)")) }
            _ = try await SQLiteBackup.backup(database, to: scratch + "/damaged.sqlite")
        }
        let handle = try #require(FileHandle(forUpdatingAtPath: scratch + "/damaged.sqlite"))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        try handle.write(contentsOf: Data(repeating: 0x5A, count: 8192))
        try handle.close()
        await refused(scratch + "/damaged.sqlite", "the backup is damaged")
    }
}
