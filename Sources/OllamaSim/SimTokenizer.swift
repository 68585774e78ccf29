/// The one tokenizer the simulator counts with, for prompts and for output.
///
/// A token is an optional run of whitespace followed by either a run of letters/digits or one other
/// character; whitespace at the very end of a text is a token of its own. `"Hello, world!"` is
/// `["Hello", ",", " world", "!"]`: 4 tokens. Concatenating the pieces gives the text back exactly,
/// so a streamed answer is one piece per line.
enum SimTokenizer {
    static func pieces(_ text: String) -> [String] {
        var result: [String] = []
        let scalars = text.unicodeScalars
        var index = scalars.startIndex
        while index < scalars.endIndex {
            let start = index
            while index < scalars.endIndex, isSpace(scalars[index]) { index = scalars.index(after: index) }
            if index < scalars.endIndex {
                if isWordScalar(scalars[index]) {
                    while index < scalars.endIndex, isWordScalar(scalars[index]) {
                        index = scalars.index(after: index)
                    }
                } else {
                    index = scalars.index(after: index)
                }
            }
            result.append(String(scalars[start..<index]))
        }
        return result
    }

    static func count(_ text: String) -> Int {
        var count = 0
        var inToken = false  // inside a word run
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if isSpace(scalar) {
                if inToken { inToken = false }
                pendingSpace = true
            } else if isWordScalar(scalar) {
                if !inToken {
                    count += 1
                    inToken = true
                }
                pendingSpace = false
            } else {
                count += 1
                inToken = false
                pendingSpace = false
            }
        }
        if pendingSpace { count += 1 }
        return count
    }

    /// A stable id per piece (FNV-1a, folded into a 32k vocabulary), for generate's `context`.
    static func id(of piece: String) -> Int {
        Int(FNV1a.hash64(piece.utf8) % 32_000) + 256
    }

    @inline(__always)
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isWhitespace
    }

    @inline(__always)
    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        if scalar.isASCII {
            let value = scalar.value
            return (value >= 48 && value <= 57) || (value >= 65 && value <= 90) || (value >= 97 && value <= 122)
                || value == 95
        }
        return scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }
}

/// 64-bit FNV-1a: the digest the simulator reports for images and seeds embeddings with.
enum FNV1a {
    static func hash64<Bytes: Sequence>(_ bytes: Bytes) -> UInt64 where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01b3
        }
        return hash
    }

    static func hex(_ value: UInt64) -> String {
        let hex = String(value, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
