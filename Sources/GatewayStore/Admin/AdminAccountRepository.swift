import Foundation
import SQLKit

/// An administrator of the web UI. The password hash never leaves the repository.
public struct AdminAccountRecord: Sendable, Hashable, Codable {
    public var id: String
    public var username: String
    /// Set for the default `admin`/`admin` account and after a reset: the UI must demand a new password
    /// before anything else.
    public var mustChangePassword: Bool
    public var createdAt: Date
    public var updatedAt: Date
    public var passwordChangedAt: Date?
    public var lastLoginAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, username
        case mustChangePassword = "must_change_password"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
        case passwordChangedAt = "password_changed_at"
        case lastLoginAt = "last_login_at"
    }
}

public enum AdminBootstrapResult: Sendable, Equatable {
    /// This start created the first account.
    case created(username: String, mustChangePassword: Bool)
    /// An account existed already; `ADMIN_PASSWORD` is only read on the first start.
    case alreadyInitialised
}

public struct AdminAccountRepository: Sendable {
    public static let defaultUsername = "admin"
    /// Used when `ADMIN_PASSWORD` is not set; the account is then flagged `must_change_password`.
    public static let defaultPassword = "admin"

    let sql: any SQLDatabase
    public let hasher: PasswordHasher

    public init(database: GatewayDatabase, hasher: PasswordHasher = PasswordHasher()) {
        self.sql = database.sql
        self.hasher = hasher
    }

    static let columns =
        "id, username, must_change_password, created_at, updated_at, password_changed_at, last_login_at"

    /// First start: creates `admin` with `initialPassword` (from `ADMIN_PASSWORD`), or with `admin` and the
    /// must-change flag when none is given. Does nothing once any account exists; safe when several
    /// instances start together (the unique user name lets one insert win).
    public func bootstrap(initialPassword: String?, now: Date = Date()) async throws -> AdminBootstrapResult {
        guard try await count() == 0 else { return .alreadyInitialised }
        let password = initialPassword.flatMap { $0.isEmpty ? nil : $0 }
        let mustChange = password == nil
        let hash = try await hasher.hash(password ?? Self.defaultPassword)
        let nowMs = Timestamp.milliseconds(now)
        let inserted = try await sql.raw(
            """
            INSERT INTO admin_accounts (id, username, password_hash, must_change_password, created_at, updated_at)
            VALUES (
                \(bind: SecureRandom.identifier(prefix: "acct_")), \(bind: Self.defaultUsername), \(bind: hash),
                \(bind: mustChange), \(bind: nowMs), \(bind: nowMs)
            )
            ON CONFLICT (username) DO NOTHING
            RETURNING id
            """
        ).all()
        return inserted.isEmpty
            ? .alreadyInitialised : .created(username: Self.defaultUsername, mustChangePassword: mustChange)
    }

    public func create(
        username: String, password: String, mustChangePassword: Bool = false, now: Date = Date()
    ) async throws -> AdminAccountRecord {
        let username = try Self.normalised(username)
        let hash = try await hasher.hash(password)
        let nowMs = Timestamp.milliseconds(now)
        let rows = try await sql.raw(
            """
            INSERT INTO admin_accounts (id, username, password_hash, must_change_password, created_at, updated_at)
            VALUES (
                \(bind: SecureRandom.identifier(prefix: "acct_")), \(bind: username), \(bind: hash),
                \(bind: mustChangePassword), \(bind: nowMs), \(bind: nowMs)
            )
            ON CONFLICT (username) DO NOTHING
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard let row = rows.first else { throw StoreError.conflict("account \(username) exists") }
        return try Self.record(from: row)
    }

    public func count() async throws -> Int {
        try await sql.raw("SELECT COUNT(*) AS n FROM admin_accounts").all().first?.int("n") ?? 0
    }

    public func list() async throws -> [AdminAccountRecord] {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM admin_accounts ORDER BY username")
            .all().map(Self.record(from:))
    }

    public func get(id: String) async throws -> AdminAccountRecord? {
        try await sql.raw("SELECT \(unsafeRaw: Self.columns) FROM admin_accounts WHERE id = \(bind: id)")
            .all().first.map(Self.record(from:))
    }

    public func find(username: String) async throws -> AdminAccountRecord? {
        let username = try Self.normalised(username)
        return try await sql.raw(
            "SELECT \(unsafeRaw: Self.columns) FROM admin_accounts WHERE username = \(bind: username)"
        ).all().first.map(Self.record(from:))
    }

    /// The account if the password is right. An unknown user name costs the same bcrypt work as a wrong
    /// password, so response time does not tell which user names exist.
    public func verify(username: String, password: String) async throws -> AdminAccountRecord? {
        guard let username = Self.normalisedIfValid(username) else {  // a malformed name is a failed login
            _ = try await hasher.hash("timing equaliser")
            return nil
        }
        let rows = try await sql.raw(
            "SELECT password_hash, \(unsafeRaw: Self.columns) FROM admin_accounts WHERE username = \(bind: username)"
        ).all()
        guard let row = rows.first else {
            _ = try await hasher.hash("timing equaliser")
            return nil
        }
        guard try await hasher.verify(password, hash: try row.string("password_hash")) else { return nil }
        return try Self.record(from: row)
    }

    /// Requires the current password; clears the must-change flag.
    public func changePassword(
        accountID: String, currentPassword: String, newPassword: String, now: Date = Date()
    ) async throws -> AdminAccountRecord {
        let rows = try await sql.raw(
            "SELECT username, password_hash FROM admin_accounts WHERE id = \(bind: accountID)"
        ).all()
        guard let row = rows.first else { throw StoreError.notFound("account \(accountID)") }
        let oldHash = try row.string("password_hash")
        guard try await hasher.verify(currentPassword, hash: oldHash) else { throw StoreError.invalidCredentials }
        guard currentPassword != newPassword else {
            throw StoreError.invalidArgument("the new password must differ from the current one")
        }
        let newHash = try await hasher.hash(newPassword)
        let nowMs = Timestamp.milliseconds(now)
        // Compare-and-set on the old hash: of two concurrent changes with the same current password,
        // only the first wins.
        let updated = try await sql.raw(
            """
            UPDATE admin_accounts SET password_hash = \(bind: newHash), must_change_password = \(bind: false),
                password_changed_at = \(bind: nowMs), updated_at = \(bind: nowMs)
            WHERE id = \(bind: accountID) AND password_hash = \(bind: oldHash)
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard let record = updated.first else { throw StoreError.invalidCredentials }
        return try Self.record(from: record)
    }

    /// Sets a password without knowing the old one (the `reset-password` command). With
    /// `mustChangePassword` the user must choose a new one at next login. Never log the password.
    public func resetPassword(
        username: String, newPassword: String, mustChangePassword: Bool = false, now: Date = Date()
    ) async throws -> AdminAccountRecord {
        let username = try Self.normalised(username)
        let hash = try await hasher.hash(newPassword)
        let nowMs = Timestamp.milliseconds(now)
        let rows = try await sql.raw(
            """
            UPDATE admin_accounts SET password_hash = \(bind: hash), must_change_password = \(bind: mustChangePassword),
                password_changed_at = \(bind: nowMs), updated_at = \(bind: nowMs)
            WHERE username = \(bind: username)
            RETURNING \(unsafeRaw: Self.columns)
            """
        ).all()
        guard let row = rows.first else { throw StoreError.notFound("account \(username)") }
        return try Self.record(from: row)
    }

    public func recordLogin(accountID: String, at time: Date = Date()) async throws {
        try await sql.raw(
            "UPDATE admin_accounts SET last_login_at = \(bind: Timestamp.milliseconds(time)) WHERE id = \(bind: accountID)"
        ).run()
    }

    @discardableResult
    public func delete(id: String) async throws -> Bool {
        try await !sql.raw("DELETE FROM admin_accounts WHERE id = \(bind: id) RETURNING id").all().isEmpty
    }

    /// User names are compared case-insensitively (stored lower-case, trimmed).
    static func normalised(_ username: String) throws -> String {
        guard let name = normalisedIfValid(username) else {
            throw StoreError.invalidArgument("a user name has 1 to 64 characters")
        }
        return name
    }

    static func normalisedIfValid(_ username: String) -> String? {
        let name = username.trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
        return !name.isEmpty && name.count <= 64 ? name : nil
    }

    static func record(from row: any SQLRow) throws -> AdminAccountRecord {
        AdminAccountRecord(
            id: try row.string("id"),
            username: try row.string("username"),
            mustChangePassword: try row.bool("must_change_password"),
            createdAt: try row.date("created_at"),
            updatedAt: try row.date("updated_at"),
            passwordChangedAt: try row.optionalDate("password_changed_at"),
            lastLoginAt: try row.optionalDate("last_login_at")
        )
    }
}
