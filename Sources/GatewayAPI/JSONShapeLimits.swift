/// Bounds on the shape of a JSON request body, checked on its bytes before it is decoded.
///
/// Decoding cost is not proportional to size: a 3 KB tool schema nested 500 objects deep costs a
/// second of CPU in Foundation's decoder (each level of `JSONValue` tries several types, and each
/// failed try builds an error carrying the whole coding path), and 900,000 tiny messages in 30 MB
/// take the process to 850 MB. One linear pass over the bytes — tracking only whether it is inside a
/// string, the depth, and the element count of each open array or object — refuses such bodies for
/// the price of reading them once, before any of that work starts.
///
/// The limits are far above what a real request holds (a long agent session has a few thousand
/// messages and tens of thousands of objects; OpenAI caps embedding inputs at 2,048 and a token
/// array at 8,192; the deepest real tool schemas nest about ten levels) and are documented in the
/// README. Each typed object costs microseconds to decode even when nothing is wrong with it, so
/// the counts are what bound the CPU one body can take.
public struct JSONShapeLimits: Sendable, Equatable {
    /// Deepest nesting of arrays and objects.
    public var maxDepth: Int
    /// Most elements of one array, or members of one object.
    public var maxElements: Int
    /// Most arrays and objects in the whole body.
    public var maxContainers: Int

    public static let requestBody = JSONShapeLimits(maxDepth: 64, maxElements: 10_000, maxContainers: 50_000)

    public init(maxDepth: Int, maxElements: Int, maxContainers: Int) {
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxContainers = maxContainers
    }

    /// A body beyond one of the limits, described by the limit it broke.
    public struct Exceeded: Error, Sendable, Equatable {
        public enum Limit: Sendable, Equatable {
            case depth, elements, containers
        }

        public let limit: Limit
        public let value: Int

        public var message: String {
            switch limit {
            case .depth: "The request body nests arrays and objects more than \(value) levels deep."
            case .elements: "The request body has an array or object with more than \(value) elements."
            case .containers: "The request body has more than \(value) arrays and objects."
            }
        }
    }

    public func check(_ bytes: [UInt8]) throws(Exceeded) {
        let outcome: Exceeded? = bytes.withUnsafeBytes { scan($0) }
        if let outcome { throw outcome }
    }

    /// Checks the shape only: malformed JSON passes here and is reported by the decoder that follows.
    public func check(_ bytes: UnsafeRawBufferPointer) throws(Exceeded) {
        if let outcome = scan(bytes) { throw outcome }
    }

    private func scan(_ bytes: UnsafeRawBufferPointer) -> Exceeded? {
        var depth = 0
        var containers = 0
        // Commas seen at each open level: an array or object has one element more than its commas.
        var commas = [Int](repeating: 0, count: maxDepth + 1)
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                guard depth <= maxDepth else { return Exceeded(limit: .depth, value: maxDepth) }
                containers += 1
                guard containers <= maxContainers else { return Exceeded(limit: .containers, value: maxContainers) }
                commas[depth] = 0
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                // Unbalanced closers are the decoder's to report.
                if depth > 0 { depth -= 1 }
            case UInt8(ascii: ","):
                guard depth > 0 else { continue }
                commas[depth] += 1
                guard commas[depth] < maxElements else { return Exceeded(limit: .elements, value: maxElements) }
            default:
                continue
            }
        }
        return nil
    }
}
