/// Splits `<think>…</think>` written by a model at the start of its content into reasoning and answer.
///
/// Older reasoning models (and Ollama versions without a thinking parser for them) put their
/// reasoning inside `content`. The splitter is fed content pieces as they stream, and copes with
/// tags split across pieces; content that does not open with `<think>` passes through untouched.
struct ThinkTagSplitter: Sendable {
    private enum State {
        /// Only whitespace, or a prefix of `<think>`, seen so far: undecided.
        case start
        case thinking
        case answering
    }

    private static let openTag = "<think>"
    private static let closeTag = "</think>"

    private var state: State = .start
    /// Text held back because it may be the beginning of a tag.
    private var pending = ""
    /// The answer usually starts on a new line after `</think>`: drop those newlines.
    private var trimAnswerStart = false

    /// Content fed now comes out as it went in: the answer has begun and its leading newlines are gone.
    var passesThrough: Bool {
        if case .answering = state { !trimAnswerStart } else { false }
    }

    /// Feeds one piece of content; returns the reasoning and answer text it completes.
    mutating func feed(_ piece: String) -> (reasoning: String, content: String) {
        guard !piece.isEmpty else { return ("", "") }
        switch state {
        case .answering:
            return ("", trimmedAnswer(piece))
        case .start:
            pending += piece
            let trimmed = pending.drop { $0.isWhitespace }
            if trimmed.isEmpty { return ("", "") }
            if trimmed.hasPrefix(Self.openTag) {
                state = .thinking
                let rest = String(trimmed.dropFirst(Self.openTag.count))
                pending = ""
                return feedThinking(rest)
            }
            if Self.openTag.hasPrefix(trimmed) { return ("", "") }
            state = .answering
            defer { pending = "" }
            return ("", pending)
        case .thinking:
            return feedThinking(piece)
        }
    }

    /// Ends the stream: whatever is held back is released as it stands.
    mutating func finish() -> (reasoning: String, content: String) {
        defer { pending = "" }
        switch state {
        case .start, .answering: return ("", pending)
        case .thinking: return (pending, "")
        }
    }

    private mutating func trimmedAnswer(_ piece: String) -> String {
        guard trimAnswerStart else { return piece }
        let answer = piece.drop { $0 == "\n" }
        if !answer.isEmpty { trimAnswerStart = false }
        return String(answer)
    }

    private mutating func feedThinking(_ piece: String) -> (reasoning: String, content: String) {
        let text = pending + piece
        pending = ""
        if let range = text.range(of: Self.closeTag) {
            state = .answering
            trimAnswerStart = true
            return (String(text[..<range.lowerBound]), trimmedAnswer(String(text[range.upperBound...])))
        }
        // Hold back a tail that could be the start of `</think>`.
        var keep = min(Self.closeTag.count - 1, text.count)
        while keep > 0 {
            let tail = text.suffix(keep)
            if Self.closeTag.hasPrefix(tail) { break }
            keep -= 1
        }
        pending = String(text.suffix(keep))
        return (String(text.dropLast(keep)), "")
    }
}
