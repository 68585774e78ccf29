import HummingbirdBcrypt
import NIOPosix

/// bcrypt on a worker thread: one hash at cost 12 takes a quarter of a second of CPU, which must never
/// run on an event loop or a cooperative-pool thread that serves requests.
public struct PasswordHasher: Sendable {
    /// bcrypt's work factor (2^cost rounds). Tests use the minimum, 4.
    public let cost: UInt8
    let threadPool: NIOThreadPool

    public init(cost: UInt8 = 12, threadPool: NIOThreadPool = .singleton) {
        self.cost = cost
        self.threadPool = threadPool
    }

    public func hash(_ password: String) async throws -> String {
        try Self.validate(password)
        let cost = self.cost
        return try await threadPool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    public func verify(_ password: String, hash: String) async throws -> Bool {
        try await threadPool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }

    /// bcrypt reads at most 72 bytes; longer passwords are refused rather than silently cut.
    static func validate(_ password: String) throws {
        guard !password.isEmpty else { throw StoreError.invalidArgument("the password is empty") }
        guard password.utf8.count <= 72 else {
            throw StoreError.invalidArgument("passwords are limited to 72 bytes (bcrypt ignores the rest)")
        }
    }
}
