import ArgumentParser
import Foundation
import Gateway
import GatewayStore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `ollama-gateway admin …`: administrator accounts, for when nobody can sign in any more.
struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin",
        abstract: "Manage administrator accounts.",
        subcommands: [ResetPassword.self]
    )

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "Set an administrator's password without knowing the old one.",
            discussion: """
                Without --password the new password is asked for on the terminal, or read from the first line of
                standard input when that is not a terminal (prefer this to --password, which other users of the
                machine can see in the process list). Every session of the account ends and its failed logins are
                forgotten. Unless --no-force-change is given, the administrator must choose a new password at the
                next sign-in.
                """
        )

        @Option(help: "The account.")
        var username = AdminAccountRepository.defaultUsername

        @Option(help: "The new password (visible to other local users: prefer the prompt or standard input).")
        var password: String?

        @Flag(inversion: .prefixedNo, help: "Require a new password at the next sign-in.")
        var forceChange = true

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let newPassword = try password ?? Self.readPassword()
            do {
                try AdminController.checkNewPassword(newPassword)
            } catch {
                throw CommandFailure(error.message)
            }
            let (account, ended) = try await store.withStore { store, configuration in
                // On a database no gateway has started on yet, create the account first.
                _ = try await store.adminAccounts.bootstrap(initialPassword: configuration.adminPassword)
                guard try await store.adminAccounts.find(username: username) != nil else {
                    throw CommandFailure("there is no administrator account named '\(username)'")
                }
                let account = try await store.adminAccounts.resetPassword(
                    username: username, newPassword: newPassword, mustChangePassword: forceChange)
                let ended = try await store.sessions.deleteAll(accountID: account.id)
                try await store.loginAttempts.clearFailures(username: account.username)
                try await store.auditLog.insert(AuditEvent(
                    actor: commandLineActor, action: "password.reset", target: account.username,
                    details: ["must_change_password": .bool(forceChange), "sessions_ended": .int(ended)]))
                return (account, ended)
            }
            printLine("Password of \(account.username) reset; \(ended) session(s) ended.")
            if forceChange { printLine("A new password must be chosen at the next sign-in.") }
        }

        /// From the terminal without echo (asked twice), or the first line of a pipe.
        static func readPassword() throws -> String {
            guard isatty(STDIN_FILENO) == 1 else {
                guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                    throw CommandFailure("no password on standard input")
                }
                return line
            }
            let first = try prompt("New password: ")
            let second = try prompt("Repeat it: ")
            guard first == second else { throw CommandFailure("the passwords differ") }
            return first
        }

        static func prompt(_ text: String) throws -> String {
            FileHandle.standardError.write(Data(text.utf8))
            var original = termios()
            tcgetattr(STDIN_FILENO, &original)
            var silent = original
            silent.c_lflag &= ~tcflag_t(ECHO)
            tcsetattr(STDIN_FILENO, TCSAFLUSH, &silent)
            defer {
                tcsetattr(STDIN_FILENO, TCSAFLUSH, &original)
                FileHandle.standardError.write(Data("\n".utf8))
            }
            guard let line = readLine(strippingNewline: true) else { throw CommandFailure("no password given") }
            return line
        }
    }
}
