import Crypto

/// SHA-256 and constant-time comparison for the secrets the store keeps only as hashes (API keys and
/// session tokens).
///
/// A fast unsalted hash is enough here because the secrets are 256 random bits, not passwords: there is
/// nothing to guess, and a deterministic hash is what allows lookup by index. Passwords use bcrypt.
public enum SecretHash {
    /// Lower-case hex SHA-256 of the UTF-8 bytes.
    public static func sha256Hex(_ text: String) -> String {
        let digest = SHA256.hash(data: Array(text.utf8))
        var hex = ""
        hex.reserveCapacity(64)
        for byte in digest {
            hex.append(hexDigits[Int(byte >> 4)])
            hex.append(hexDigits[Int(byte & 0x0f)])
        }
        return hex
    }

    /// Compares without an early exit, so the time taken does not reveal how many leading bytes matched.
    public static func constantTimeEquals(_ lhs: String, _ rhs: String) -> Bool {
        let left = Array(lhs.utf8)
        let right = Array(rhs.utf8)
        guard left.count == right.count else { return false }
        var difference: UInt8 = 0
        for index in left.indices {
            difference |= left[index] ^ right[index]
        }
        return difference == 0
    }

    private static let hexDigits = Array("0123456789abcdef")
}
