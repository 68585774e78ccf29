import Foundation
import SQLKit
import Testing

@testable import GatewayStore

@Suite("Admin accounts")
struct AdminAccountTests {
    @Test("bootstrap with ADMIN_PASSWORD", arguments: TestEngine.available)
    func bootstrapWithPassword(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let accounts = testStore(database).adminAccounts
            #expect(try await accounts.bootstrap(initialPassword: "correct horse") == .created(username: "admin", mustChangePassword: false))
            #expect(try await accounts.bootstrap(initialPassword: "other") == .alreadyInitialised)
            let admin = try #require(try await accounts.verify(username: "admin", password: "correct horse"))
            #expect(!admin.mustChangePassword)
            #expect(try await accounts.verify(username: "admin", password: "other") == nil)
            #expect(try await accounts.verify(username: "ADMIN ", password: "correct horse")?.id == admin.id)

            let stored = try await database.sql.raw("SELECT password_hash FROM admin_accounts").all()
            let hash = try #require(stored.first).decode(column: "password_hash", as: String.self)
            #expect(hash.hasPrefix("$2"))
            #expect(!hash.contains("correct horse"))
        }
    }

    @Test("bootstrap without ADMIN_PASSWORD: admin/admin, must change", arguments: TestEngine.available)
    func bootstrapDefault(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let store = testStore(database)
            let accounts = store.adminAccounts
            #expect(try await accounts.bootstrap(initialPassword: "") == .created(username: "admin", mustChangePassword: true))
            let admin = try #require(try await accounts.verify(username: "admin", password: "admin"))
            #expect(admin.mustChangePassword)

            await #expect(throws: StoreError.invalidCredentials) {
                try await accounts.changePassword(accountID: admin.id, currentPassword: "wrong", newPassword: "n3w-secret")
            }
            await #expect(throws: StoreError.self) {
                try await accounts.changePassword(accountID: admin.id, currentPassword: "admin", newPassword: "admin")
            }
            let changed = try await accounts.changePassword(
                accountID: admin.id, currentPassword: "admin", newPassword: "n3w-secret", now: referenceTime)
            #expect(!changed.mustChangePassword)
            #expect(changed.passwordChangedAt == referenceTime)
            #expect(try await accounts.verify(username: "admin", password: "admin") == nil)
            #expect(try await accounts.verify(username: "admin", password: "n3w-secret")?.id == admin.id)

            let reset = try await accounts.resetPassword(username: "admin", newPassword: "from-cli", mustChangePassword: true)
            #expect(reset.mustChangePassword)
            #expect(try await accounts.verify(username: "admin", password: "n3w-secret") == nil)
            #expect(try await accounts.verify(username: "admin", password: "from-cli") != nil)
            await #expect(throws: StoreError.notFound("account nobody")) {
                try await accounts.resetPassword(username: "nobody", newPassword: "x")
            }
        }
    }

    @Test("accounts: create, duplicates, unknown users, login time", arguments: TestEngine.available)
    func accounts(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let accounts = testStore(database).adminAccounts
            let alice = try await accounts.create(username: "Alice", password: "pw-alice", now: referenceTime)
            #expect(alice.username == "alice")
            await #expect(throws: StoreError.conflict("account alice exists")) {
                try await accounts.create(username: "alice", password: "again")
            }
            #expect(try await accounts.bootstrap(initialPassword: nil) == .alreadyInitialised)
            #expect(try await accounts.verify(username: "mallory", password: "pw-alice") == nil)
            #expect(try await accounts.verify(username: "", password: "pw-alice") == nil)
            try await accounts.recordLogin(accountID: alice.id, at: referenceTime.addingTimeInterval(5))
            #expect(try await accounts.find(username: "ALICE")?.lastLoginAt == referenceTime.addingTimeInterval(5))
            #expect(try await accounts.list().map(\.username) == ["alice"])
            await #expect(throws: StoreError.self) { try await accounts.create(username: "bob", password: "") }
            await #expect(throws: StoreError.self) {
                try await accounts.create(username: "bob", password: String(repeating: "x", count: 73))
            }
        }
    }
}

@Suite("Sessions")
struct SessionTests {
    static let policy = SessionPolicy(idleTimeout: .seconds(600), absoluteLifetime: .seconds(3600))

    @Test("create, find, touch, expire, delete", arguments: TestEngine.available)
    func lifecycle(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let store = testStore(database, sessionPolicy: Self.policy)
            let account = try await store.adminAccounts.create(username: "ops", password: "pw")
            let issued = try await store.sessions.create(accountID: account.id, clientAddress: "10.0.0.7", now: referenceTime)
            #expect(issued.token.count == 43)
            #expect(issued.record.id == SecretHash.sha256Hex(issued.token))
            #expect(issued.record.csrfToken.count == 43)
            #expect(issued.record.idleExpiresAt == referenceTime.addingTimeInterval(600))
            #expect(issued.record.absoluteExpiresAt == referenceTime.addingTimeInterval(3600))
            #expect(issued.record.acceptsCSRFToken(issued.record.csrfToken))
            #expect(!issued.record.acceptsCSRFToken("forged"))

            // The cookie token itself is nowhere in the table.
            let rows = try await database.sql.raw("SELECT id_hash, csrf_token FROM admin_sessions").all()
            for row in rows {
                #expect(try row.decode(column: "id_hash", as: String.self) != issued.token)
                #expect(try row.decode(column: "csrf_token", as: String.self) != issued.token)
            }

            #expect(try await store.sessions.find(token: issued.token, now: referenceTime.addingTimeInterval(599)) == issued.record)
            #expect(try await store.sessions.find(token: issued.token, now: referenceTime.addingTimeInterval(600)) == nil)
            #expect(try await store.sessions.find(token: "not-a-session", now: referenceTime) == nil)

            // Activity keeps it alive past the first idle limit...
            var now = referenceTime
            for _ in 0..<5 {
                now = now.addingTimeInterval(500)
                let touched = try #require(try await store.sessions.touch(token: issued.token, now: now))
                #expect(touched.lastSeenAt == now)
                #expect(touched.idleExpiresAt <= touched.absoluteExpiresAt)
            }
            #expect(try await store.sessions.find(token: issued.token, now: referenceTime.addingTimeInterval(2600)) != nil)
            // ...but never past the absolute limit.
            #expect(try await store.sessions.find(token: issued.token, now: referenceTime.addingTimeInterval(3600)) == nil)
            #expect(try await store.sessions.touch(token: issued.token, now: referenceTime.addingTimeInterval(3600)) == nil)

            let second = try await store.sessions.create(accountID: account.id, now: referenceTime.addingTimeInterval(3050))
            #expect(try await store.sessions.list(accountID: account.id, now: referenceTime.addingTimeInterval(3050)).count == 2)
            #expect(try await store.sessions.deleteExpired(now: referenceTime.addingTimeInterval(3600)) == 1)
            #expect(try await store.sessions.find(token: second.token, now: referenceTime.addingTimeInterval(3601)) != nil)
            #expect(try await store.sessions.delete(token: second.token))
            #expect(try await store.sessions.find(token: second.token, now: referenceTime.addingTimeInterval(3601)) == nil)
            #expect(!(try await store.sessions.delete(token: second.token)))
        }
    }

    @Test("sign out everywhere, and sessions go with their account", arguments: TestEngine.available)
    func deleteAll(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let store = testStore(database, sessionPolicy: Self.policy)
            let account = try await store.adminAccounts.create(username: "ops", password: "pw")
            let current = try await store.sessions.create(accountID: account.id, now: referenceTime)
            for _ in 0..<3 { _ = try await store.sessions.create(accountID: account.id, now: referenceTime) }
            #expect(try await store.sessions.deleteAll(accountID: account.id, exceptToken: current.token) == 3)
            #expect(try await store.sessions.list(accountID: account.id, now: referenceTime).map(\.id) == [current.record.id])
            #expect(try await store.adminAccounts.delete(id: account.id))
            #expect(try await store.sessions.find(token: current.token, now: referenceTime) == nil)
        }
    }
}

@Suite("Login throttling")
struct LoginAttemptTests {
    @Test("failures per account and per address within a window", arguments: TestEngine.available)
    func counting(engine: TestEngine) async throws {
        try await withTestDatabase(engine) { database in
            let attempts = testStore(database).loginAttempts
            for second in 0..<5 {
                try await attempts.recordFailure(
                    username: "Admin", address: "203.0.113.9", at: referenceTime.addingTimeInterval(Double(second) * 60))
            }
            try await attempts.recordFailure(username: "root", address: "203.0.113.9", at: referenceTime.addingTimeInterval(240))
            try await attempts.recordFailure(username: "admin", address: nil, at: referenceTime.addingTimeInterval(240))

            let all = try await attempts.recentFailures(username: "admin", address: "203.0.113.9", since: referenceTime)
            #expect(all == LoginFailureCounts(account: 6, address: 6))
            let recent = try await attempts.recentFailures(
                username: "admin", address: "203.0.113.9", since: referenceTime.addingTimeInterval(180))
            #expect(recent == LoginFailureCounts(account: 3, address: 3))
            #expect(try await attempts.recentFailures(username: "admin", address: nil, since: referenceTime).address == 0)
            #expect(try await attempts.recentFailures(username: "nobody", address: "198.51.100.1", since: referenceTime)
                == LoginFailureCounts(account: 0, address: 0))

            try await attempts.clearFailures(username: "ADMIN")
            #expect(try await attempts.recentFailures(username: "admin", address: "203.0.113.9", since: referenceTime)
                == LoginFailureCounts(account: 0, address: 6))
            try await attempts.clearFailures(address: "203.0.113.9")
            #expect(try await attempts.recentFailures(username: "root", address: "203.0.113.9", since: referenceTime)
                == LoginFailureCounts(account: 1, address: 0))
            #expect(try await attempts.prune(before: referenceTime.addingTimeInterval(300)) == 1)
        }
    }
}
