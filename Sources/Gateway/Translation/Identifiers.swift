/// Random identifiers for responses and tool calls (`chatcmpl-…`, `call_…`, `msg_…`).
enum Identifiers {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    /// `prefix` followed by `length` random alphanumerics (24 give ~143 bits).
    ///
    /// Each draw from the system generator is a system call: a draw gives eight bytes, and each
    /// byte whose low six bits name a letter (62 of 64 values, so no bias) becomes one character.
    static func make(_ prefix: String, length: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        var characters = [UInt8]()
        characters.reserveCapacity(length)
        while characters.count < length {
            var random = generator.next()
            for _ in 0..<8 where characters.count < length {
                let index = Int(random & 63)
                random >>= 8
                if index < alphabet.count { characters.append(alphabet[index]) }
            }
        }
        return prefix + String(decoding: characters, as: UTF8.self)
    }
}
