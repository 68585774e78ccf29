import Foundation

/// Finds the first of a request's stop sequences in streamed answer text.
///
/// Ollama's own `stop` option cuts the text but then reports `done_reason:"stop"`, the same as a
/// natural end, so it cannot say *which* sequence (if any) ended the answer. The gateway therefore
/// matches `stop_sequences` itself: text is released as it streams, except a tail that could still
/// become a stop sequence; on a match the text before it is released and the answer ends there.
struct StopSequenceMatcher: Sendable {
    let sequences: [String]
    private let longest: Int
    private var pending = ""
    private(set) var matched: String?

    init(_ sequences: [String]) {
        self.sequences = sequences.filter { !$0.isEmpty }
        self.longest = self.sequences.map(\.count).max() ?? 0
    }

    /// Feeds a piece of text; returns the text that can be released now. After a match, `matched`
    /// is set and nothing more is released.
    mutating func feed(_ piece: String) -> String {
        guard matched == nil else { return "" }
        guard longest > 0 else { return piece }
        let text = pending + piece
        pending = ""
        if let (range, sequence) = firstMatch(in: text) {
            matched = sequence
            return String(text[..<range.lowerBound])
        }
        // Hold back the longest tail that is the beginning of some sequence.
        var keep = min(longest - 1, text.count)
        while keep > 0 {
            let tail = text.suffix(keep)
            if sequences.contains(where: { $0.hasPrefix(tail) }) { break }
            keep -= 1
        }
        pending = String(text.suffix(keep))
        return String(text.dropLast(keep))
    }

    /// The held-back tail, released when the text ends (or gives way to something else) unmatched.
    mutating func flush() -> String {
        defer { pending = "" }
        return matched == nil ? pending : ""
    }

    /// The earliest match; at the same position the sequence listed first wins.
    private func firstMatch(in text: String) -> (Range<String.Index>, String)? {
        var best: (Range<String.Index>, String)?
        for sequence in sequences {
            if let range = text.range(of: sequence), best == nil || range.lowerBound < best!.0.lowerBound {
                best = (range, sequence)
            }
        }
        return best
    }
}
