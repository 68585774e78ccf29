/// Random identifiers and secrets, all from the system CSPRNG (`getrandom` on Linux,
/// `arc4random_buf` on Darwin, through `SystemRandomNumberGenerator`).
enum SecureRandom {
    static func bytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8]()
        bytes.reserveCapacity(count + 7)
        while bytes.count < count {
            withUnsafeBytes(of: generator.next() as UInt64) { bytes.append(contentsOf: $0) }
        }
        return Array(bytes.prefix(count))
    }

    /// `byteCount` random bytes written in base62: no `-`, `_` or `=` so that a double click selects the
    /// whole token, and fixed length for a given byte count.
    static func token(byteCount: Int) -> String {
        Base62.encode(bytes(byteCount))
    }

    /// A stable public identifier such as `key_4MkQ…`: 128 random bits.
    static func identifier(prefix: String) -> String {
        prefix + token(byteCount: 16)
    }
}

enum Base62 {
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)

    /// Digits needed for `byteCount` bytes: ceil(8 · n / log2 62).
    static func length(forByteCount byteCount: Int) -> Int {
        Int((Double(byteCount * 8) / 5.954196310386876).rounded(.up))
    }

    /// Big-endian base conversion, left-padded with `0` to the fixed length of the byte count.
    static func encode(_ bytes: [UInt8]) -> String {
        var number = bytes
        var digits: [UInt8] = []
        digits.reserveCapacity(length(forByteCount: bytes.count))
        while number.contains(where: { $0 != 0 }) {
            var remainder = 0
            for index in number.indices {
                let value = remainder * 256 + Int(number[index])
                number[index] = UInt8(value / 62)
                remainder = value % 62
            }
            digits.append(alphabet[remainder])
        }
        while digits.count < length(forByteCount: bytes.count) {
            digits.append(alphabet[0])
        }
        return String(decoding: digits.reversed(), as: UTF8.self)
    }
}
