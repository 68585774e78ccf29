import Foundation
import Logging
import SQLKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Copies of the embedded database, taken while the gateway serves, and their way back.
///
/// The copy is `VACUUM INTO`, not SQLite's backup API: it runs as one read transaction on a pooled
/// connection, so in WAL mode writers carry on while it runs and the copy is the database as of one
/// instant (the backup API restarts its copy whenever another connection writes, which on a busy
/// gateway may be never done). It also writes a compact file with no WAL beside it, and it is plain
/// SQL that sqlite-nio can run (its connection does not expose the backup API's C handle).
public enum SQLiteBackup {
    public struct Summary: Sendable, Equatable {
        /// The schema version the copy was made with (its newest applied migration).
        public var schemaVersion: Int
        public var bytes: Int
    }

    /// Writes a consistent copy of `database` to `destination`, which must not exist yet. The copy
    /// is written beside it under a temporary name and renamed when complete, so a copy interrupted
    /// half-way never looks like a backup.
    public static func backup(_ database: GatewayDatabase, to destination: String) async throws -> Summary {
        guard database.engine == .sqlite else {
            throw StoreError.invalidConfiguration(
                "backup copies the embedded SQLite database; back up PostgreSQL with pg_dump (docs/operations.md)")
        }
        let fileManager = FileManager.default
        guard !fileManager.fileExists(atPath: destination) else {
            throw StoreError.conflict("\(destination) already exists; choose a new file name")
        }
        // Also says early that this is a gateway database at all.
        let schemaVersion = try await Self.schemaVersion(database.sql)
        let partial = destination + ".partial-\(UUID().uuidString.prefix(8))"
        do {
            try await database.sql.raw("VACUUM INTO \(bind: partial)").run()
            // The copy holds the same secrets' hashes as the database: the same 0600 mode.
            _ = chmod(partial, 0o600)
            try fileManager.moveItem(atPath: partial, toPath: destination)
        } catch {
            try? fileManager.removeItem(atPath: partial)
            throw error
        }
        let bytes = (try? fileManager.attributesOfItem(atPath: destination)[.size] as? Int) ?? 0
        return Summary(schemaVersion: schemaVersion, bytes: bytes)
    }

    /// What `restore` did.
    public struct Restored: Sendable, Equatable {
        public var schemaVersion: Int
        /// Where the database that was replaced went (with `replaceExisting`), nil when there was none.
        public var previous: String?
    }

    /// Puts the backup at `source` in place as the database of `dataDirectory`.
    ///
    /// Refused, whatever `replaceExisting` says, while any process has the database open: a gateway
    /// (or a `keys` command) working on a file replaced under it would keep writing to the old one,
    /// or corrupt the new one through a WAL that belongs to the old. An existing database is replaced
    /// only with `replaceExisting`, and then kept beside it (`gateway.sqlite.before-restore-<time>`).
    /// The backup is checked first (SQLite's `integrity_check`, a gateway schema no newer than this
    /// gateway knows); nothing in the data directory changes unless every check passed.
    public static func restore(
        from source: String, intoDataDirectory dataDirectory: String, replaceExisting: Bool, logger: Logger,
        now: Date = Date()
    ) async throws -> Restored {
        let fileManager = FileManager.default
        guard fileManager.fileExists(atPath: source) else {
            throw StoreError.notFound("backup file \(source)")
        }
        guard try isSQLiteFile(source) else {
            throw StoreError.invalidArgument("\(source) is not an SQLite database")
        }
        let configuration = StoreConfiguration.sqlite(dataDirectory: dataDirectory)
        guard let target = configuration.sqliteFilePath else { throw StoreError.invalidConfiguration("no SQLite path") }
        if fileManager.fileExists(atPath: target) {
            if try isInUse(databasePath: target) {
                throw StoreError.conflict(
                    "\(target) is open in another process (a running gateway, or a keys/admin command): stop it first; "
                        + "a database is never replaced under a process that uses it")
            }
            guard replaceExisting else {
                throw StoreError.conflict(
                    "\(target) already exists: restore with --force to replace it (it is kept as \(target).before-restore-…)")
            }
        }

        // The backup is checked as a copy in the data directory itself: the final rename is then
        // atomic, and the backup file is never written to (opening a database may change it).
        if !fileManager.fileExists(atPath: dataDirectory) {
            try fileManager.createDirectory(
                atPath: dataDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        let staging = URL(fileURLWithPath: dataDirectory).appendingPathComponent(".restore-\(UUID().uuidString.prefix(8))").path
        try fileManager.createDirectory(atPath: staging, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o700])
        defer { try? fileManager.removeItem(atPath: staging) }
        let candidate = StoreConfiguration.sqlite(dataDirectory: staging)
        guard let candidatePath = candidate.sqliteFilePath else { throw StoreError.invalidConfiguration("no SQLite path") }
        try fileManager.copyItem(atPath: source, toPath: candidatePath)
        _ = chmod(candidatePath, 0o600)
        // The pool's own error line for a damaged file would repeat the error thrown, with its garbage.
        var quiet = logger
        quiet.logLevel = .critical
        let schemaVersion = try await verify(candidate, logger: quiet)

        var previous: String?
        if fileManager.fileExists(atPath: target) {
            // Checked again right before the move: the window in which a gateway could start is now
            // the time of two renames.
            if try isInUse(databasePath: target) {
                throw StoreError.conflict("\(target) was opened by another process during the restore: nothing was changed")
            }
            let kept = target + ".before-restore-" + Self.stamp(now)
            // The WAL and its index go with their database: left behind, SQLite would apply the old
            // database's WAL to the restored one.
            for suffix in ["", "-wal", "-shm"] where fileManager.fileExists(atPath: target + suffix) {
                try fileManager.moveItem(atPath: target + suffix, toPath: kept + suffix)
            }
            previous = kept
        }
        try fileManager.moveItem(atPath: candidatePath, toPath: target)
        return Restored(schemaVersion: schemaVersion, previous: previous)
    }

    /// Opens the candidate without migrating it: SQLite's own integrity check, then the gateway's
    /// schema table. Returns the schema version.
    static func verify(_ candidate: StoreConfiguration, logger: Logger) async throws -> Int {
        do {
            let database = try await GatewayDatabase.open(candidate, migrate: false, logger: logger)
            do {
                let check = try await database.sql.raw("PRAGMA integrity_check").all()
                    .compactMap { try? $0.decode(column: "integrity_check", as: String.self) }
                guard check == ["ok"] else {
                    throw StoreError.invalidArgument(
                        "the backup is damaged: SQLite's integrity check says \(check.prefix(3).joined(separator: "; ").prefix(300))")
                }
                let version = try await Self.schemaVersion(database.sql)
                let known = Migration.all.map(\.version).max() ?? 0
                guard version <= known else {
                    throw StoreError.invalidArgument(
                        "the backup was made by a newer gateway (schema \(version); this one knows up to \(known)): "
                            + "restore it with that version")
                }
                try await database.shutdown()
                return version
            } catch {
                try? await database.shutdown()
                throw error
            }
        } catch let error as StoreError {
            throw error
        } catch {
            // SQLite's own refusal (a damaged header or schema) can quote pages of garbage: the start says it.
            throw StoreError.invalidArgument("the backup is damaged: SQLite says \(String(describing: error).prefix(200))")
        }
    }

    /// The newest migration applied to a database (0 when none).
    static func schemaVersion(_ sql: any SQLDatabase) async throws -> Int {
        let tables = try await sql.raw(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'"
        ).all()
        guard !tables.isEmpty else {
            throw StoreError.invalidArgument("an SQLite database, but not the gateway's (no schema_migrations)")
        }
        guard let row = try await sql.raw("SELECT MAX(version) AS version FROM schema_migrations").first() else { return 0 }
        return try row.decode(column: "version", as: Int?.self) ?? 0
    }

    /// Whether any process, this one included, has the database open. Every SQLite connection to a
    /// WAL database holds a read lock on its `-shm` index for as long as it is open; a connection in
    /// a transaction on a rollback-journal database holds one on the file itself. Open-file-description
    /// locks are asked about (on Linux), so that locks this very process holds are seen too.
    public static func isInUse(databasePath path: String) throws -> Bool {
        for file in [path + "-shm", path] where FileManager.default.fileExists(atPath: file) {
            if try isLocked(file) { return true }
        }
        return false
    }

    static func isLocked(_ path: String) throws -> Bool {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { return false }
            throw StoreError.invalidConfiguration("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { _ = close(descriptor) }
        var lock = flock()
        lock.l_type = Int16(F_WRLCK)
        lock.l_whence = Int16(SEEK_SET)
        lock.l_start = 0
        lock.l_len = 0  // the whole file
        lock.l_pid = 0
        #if os(Linux)
        let command: Int32 = 36  // F_OFD_GETLK: also reports locks held by this process
        #else
        let command = F_GETLK
        #endif
        guard fcntl(descriptor, command, &lock) == 0 else {
            throw StoreError.invalidConfiguration("cannot check locks on \(path): \(String(cString: strerror(errno)))")
        }
        return lock.l_type != Int16(F_UNLCK)
    }

    static func isSQLiteFile(_ path: String) throws -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw StoreError.invalidArgument("cannot read \(path)")
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        return header == Data("SQLite format 3\0".utf8)
    }

    static func stamp(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return formatter.string(from: date)
    }
}
