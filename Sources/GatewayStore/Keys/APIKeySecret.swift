/// The secret of an API key: `sk-` followed by 32 CSPRNG bytes in base62 (43 characters, 256 bits).
///
/// It exists in plain text only between `generate()` and the response that shows it once; the store
/// keeps `hash` (SHA-256, hex) and `visiblePrefix` (enough to recognise a key in a list, far too little
/// to guess it: 208 secret bits remain).
public struct APIKeySecret: Sendable, CustomStringConvertible {
    public static let scheme = "sk-"
    public static let randomByteCount = 32
    /// Characters after `sk-` kept visible.
    public static let visibleCharacterCount = 8

    /// The full secret. Show it once; never log it.
    public let value: String

    public static func generate() -> APIKeySecret {
        APIKeySecret(uncheckedValue: scheme + SecureRandom.token(byteCount: randomByteCount))
    }

    /// Accepts a presented key of the right shape; rejects anything else before any database work.
    public init?(presented: String) {
        let body = presented.utf8.dropFirst(Self.scheme.utf8.count)
        guard presented.hasPrefix(Self.scheme),
            body.count == Base62.length(forByteCount: Self.randomByteCount),
            body.allSatisfy({ Base62.alphabet.contains($0) })
        else { return nil }
        self.value = presented
    }

    private init(uncheckedValue: String) {
        self.value = uncheckedValue
    }

    /// What the database stores and looks up by.
    public var hash: String { SecretHash.sha256Hex(value) }

    /// `sk-` and the first characters, e.g. `sk-4MkQz81a`, shown in lists next to the key's name.
    public var visiblePrefix: String {
        String(value.prefix(Self.scheme.count + Self.visibleCharacterCount))
    }

    /// Constant-time check of this secret against a stored hash.
    public func matches(hash storedHash: String) -> Bool {
        SecretHash.constantTimeEquals(hash, storedHash)
    }

    /// Redacted, so that string interpolation in a log line cannot leak the key.
    public var description: String { "\(visiblePrefix)…" }
}
