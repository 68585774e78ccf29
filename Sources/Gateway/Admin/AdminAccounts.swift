import Foundation
import GatewayAPI
import GatewayStore
import Logging

/// Signing in, and changing the password, with throttling and audit: the one path the JSON admin API
/// and the web console both use, so that a login counts, throttles and is audited the same way
/// whichever page or script made it.
struct AdminAccounts: Sendable {
    let store: GatewayStore
    let throttle: LoginThrottle

    /// A successful sign-in: the account and its new session.
    struct SignedIn: Sendable {
        var account: AdminAccountRecord
        var session: IssuedSession
    }

    /// Checks the password (throttled) and opens a new session. `previousToken` is the session cookie
    /// the client came with: a new session id at every login makes a session planted before the
    /// login (fixation) worthless.
    func signIn(
        username rawUsername: String, password: String, previousToken: String?, address: String?, logger: Logger
    ) async throws -> SignedIn {
        let username = String(rawUsername.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().prefix(64))
        let now = Date()
        let reservation: LoginAttemptReservation
        do {
            reservation = try await throttle.reserve(username: username, address: address, now: now)
        } catch let error as AdminAPIError {
            try await audit(.account(username), "login.failure", target: username, details: ["reason": "throttled"], address, now)
            throw error
        }
        let verified: AdminAccountRecord?
        do {
            verified = try await store.adminAccounts.verify(username: rawUsername, password: password)
        } catch {
            try? await throttle.abandon(reservation)
            throw error
        }
        guard let account = verified else {
            // The reservation stays: it is this failure's record.
            try await audit(
                .account(username), "login.failure", target: username, details: ["reason": "invalid_credentials"], address, now)
            logger.notice(
                "failed admin login", metadata: ["admin.username": "\(username)", "client.address": "\(address ?? "unknown")"])
            throw AdminAPIError.invalidCredentials
        }
        try await throttle.succeeded(username: account.username, reservation: reservation)
        try await store.adminAccounts.recordLogin(accountID: account.id, at: now)
        if let previousToken, !previousToken.isEmpty {
            try await store.sessions.delete(token: previousToken)
        }
        let issued = try await store.sessions.create(accountID: account.id, clientAddress: address, now: now)
        try await audit(
            .account(account.username), "login.success", target: account.username,
            details: ["must_change_password": .bool(account.mustChangePassword)], address, now)
        return SignedIn(account: account, session: issued)
    }

    /// Ends a session (sign-out).
    func signOut(account: AdminAccountRecord, session: AdminSessionCredential, address: String?) async throws {
        try await store.sessions.delete(token: session.token)
        try await audit(.account(account.username), "logout", target: account.username, details: nil, address, Date())
    }

    /// Changes the password of a signed-in account, after checking the rules and the current password
    /// (a wrong one is throttled like a login: a stolen session must not allow guessing). Ends the
    /// account's other sessions; returns how many.
    func changePassword(
        account: AdminAccountRecord, session: AdminSessionCredential, current: String, new: String, address: String?
    ) async throws -> Int {
        try AdminController.checkNewPassword(new)
        guard new != current else {
            throw AdminAPIError.invalid("'new_password' must differ from the current password.")
        }
        let now = Date()
        let reservation = try await throttle.reserve(username: account.username, address: address, now: now)
        do {
            _ = try await store.adminAccounts.changePassword(
                accountID: account.id, currentPassword: current, newPassword: new, now: now)
        } catch StoreError.invalidCredentials {
            try await audit(
                .account(account.username), "password.change.failure", target: account.username,
                details: ["reason": "wrong_current_password"], address, now)
            throw AdminAPIError(.badRequest, type: "invalid_credentials", "'current_password' is wrong.")
        } catch {
            try? await throttle.abandon(reservation)
            throw error
        }
        try await throttle.succeeded(username: account.username, reservation: reservation)
        let ended = try await store.sessions.deleteAll(accountID: account.id, exceptToken: session.token)
        try await audit(
            .account(account.username), "password.change", target: account.username,
            details: ["other_sessions_ended": .int(ended)], address, now)
        return ended
    }

    private func audit(
        _ actor: AuditActor, _ action: String, target: String?, details: JSONValue?, _ address: String?, _ time: Date
    ) async throws {
        try await store.auditLog.insert(AuditEvent(
            actor: actor, action: action, target: target, details: details, clientAddress: address, occurredAt: time))
    }
}
