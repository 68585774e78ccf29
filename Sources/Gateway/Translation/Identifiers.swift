/// Random identifiers for responses and tool calls (`chatcmpl-…`, `call_…`, `msg_…`).
enum Identifiers {
    private static let alphabet = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".utf8)

    /// `prefix` followed by `length` random alphanumerics (24 give ~143 bits).
    static func make(_ prefix: String, length: Int = 24) -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = [UInt8](repeating: 0, count: length)
        for index in bytes.indices {
            bytes[index] = alphabet[Int(generator.next(upperBound: UInt32(alphabet.count)))]
        }
        return prefix + String(decoding: bytes, as: UTF8.self)
    }
}
