import Foundation
import GatewayAPI
import NIOCore
import NIOFoundationCompat
import Testing

@testable import Gateway

/// Plain tokens are relayed from Ollama's bytes (`OllamaChatLine.text`, `TextEventTemplate`). The
/// events a client parses must be exactly those of the decoded path, for every kind of text and
/// every state a stream can be in.
@Suite("Plain tokens relayed from Ollama's bytes")
struct PlainTextRelayTests {
    // MARK: - Ollama's lines, escaped as Ollama (Go's encoding/json) writes them

    /// A JSON string as Go writes it: `<`, `>`, `&`, U+2028 and U+2029 as `\u` escapes.
    static func goString(_ text: String, surrogates: Bool = false) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "<": out += "\\u003c"
            case ">": out += "\\u003e"
            case "&": out += "\\u0026"
            case "\u{2028}": out += "\\u2028"
            case "\u{2029}": out += "\\u2029"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else if surrogates, scalar.value > 0xFFFF {
                    // Valid JSON that Go does not write, but another server might.
                    for unit in String(scalar).utf16 { out += String(format: "\\u%04x", unit) }
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static let head = #"{"model":"m","created_at":"2026-12-06T10:00:00.123456789Z","#

    static func text(_ text: String, surrogates: Bool = false) -> String {
        head + #""message":{"role":"assistant","content":\#(goString(text, surrogates: surrogates))},"done":false}"#
    }

    static func thinking(_ text: String) -> String {
        head + #""message":{"role":"assistant","content":"","thinking":\#(goString(text))},"done":false}"#
    }

    static let toolCall =
        head + #""message":{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]},"done":false}"#

    static let done =
        head + #""message":{"role":"assistant","content":""},"done":true,"done_reason":"stop","total_duration":9,"prompt_eval_count":5,"eval_count":7}"#

    // MARK: - Recognising a plain token

    @Test func aPlainTokenIsKeptAsOllamaWroteIt() throws {
        let line = ByteBuffer(string: Self.text("a <b> & \"c\" é 😀"))
        guard case .text(let text) = try OllamaChatLine.decode(line) else {
            Issue.record("not a plain token")
            return
        }
        #expect(String(buffer: text) == Self.goString("a <b> & \"c\" é 😀"))
        #expect(OllamaChatLine.text(text).chunk.message?.content == "a <b> & \"c\" é 😀")
        // Members in another order, and spaces, are the same line.
        let reordered = #"{ "done" : false, "message" : { "content" : "x", "role" : "assistant" }, "model" : "m" }"#
        guard case .text(let other) = try OllamaChatLine.decode(ByteBuffer(string: reordered)) else {
            Issue.record("not a plain token")
            return
        }
        #expect(String(buffer: other) == #""x""#)
    }

    @Test func aPlainThinkingTokenIsKeptAsOllamaWroteIt() throws {
        guard case .thinking(let thinking) = try OllamaChatLine.decode(ByteBuffer(string: Self.thinking("Let <me> \"see\""))) else {
            Issue.record("not a plain thinking token")
            return
        }
        #expect(String(buffer: thinking) == Self.goString("Let <me> \"see\""))
        #expect(OllamaChatLine.thinking(thinking).chunk.message?.thinking == "Let <me> \"see\"")
        #expect(OllamaChatLine.thinking(thinking).chunk.message?.content == "")
    }

    @Test(arguments: [
        head + #""message":{"role":"assistant","content":"x","thinking":"y"},"done":false}"#, toolCall, done,
        head + #""message":{"role":"assistant","content":"x","images":["aGk="]},"done":false}"#,
        head + #""message":{"role":"user","content":"x"},"done":false}"#,
        head + #""message":{"role":"assistant","content":null},"done":false}"#,
        head + #""message":{"role":"assistant","content":"x"},"done":false,"logprobs":[]}"#,
        head + #""message":{"role":"assistant","content":"x"}}"#,
    ])
    func everyOtherLineIsDecodedWhole(line: String) throws {
        let decoded = try OllamaChatLine.decode(ByteBuffer(string: line))
        guard case .chunk(let chunk) = decoded else {
            Issue.record("taken for a plain token: \(line)")
            return
        }
        #expect(chunk == (try? JSONDecoder().decode(OllamaChatChunk.self, from: Data(line.utf8))))
    }

    @Test func anErrorLineEndsTheStreamWhateverElseItCarries() {
        let line = Self.head + #""message":{"role":"assistant","content":"x"},"done":false,"error":"boom"}"#
        #expect(throws: GatewayError.self) { try OllamaChatLine.decode(ByteBuffer(string: line)) }
    }

    @Test(arguments: [
        #"\x"#, #"\u12"#, #"\udc00"#, #"\ud800"#, #"\ud800\u0041"#, "tab\there", "ok\\",
    ])
    func stringsJSONRefusesAreNeverCopied(inside: String) throws {
        let line = Self.head + #""message":{"role":"assistant","content":"\#(inside)"},"done":false}"#
        let decoded = try? OllamaChatLine.decode(ByteBuffer(string: line))
        if case .text = decoded { Issue.record("copied: \(inside)") }
        #expect((try? JSONDecoder().decode(OllamaChatChunk.self, from: Data(line.utf8))) == nil, "JSON refuses it too")
    }

    @Test func invalidUTF8IsNeverCopied() throws {
        var line = ByteBuffer(string: Self.head + #""message":{"role":"assistant","content":"a"#)
        line.writeBytes([0xC3, 0x28])
        line.writeString(#""},"done":false}"#)
        if case .text = try? OllamaChatLine.decode(line) { Issue.record("copied invalid UTF-8") }
    }

    // MARK: - The same events as the decoded path

    /// Each SSE event's name and JSON; tool-call ids (random) left out.
    static func events(_ output: ByteBuffer) throws -> [String] {
        try SSEEvents(output).events.map { event in
            guard event.data != "[DONE]" else { return "[DONE]" }
            let json = try JSONDecoder().decode(JSONValue.self, from: Data(event.data.utf8))
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            return (event.event ?? "") + " " + String(decoding: try encoder.encode(withoutIDs(json)), as: UTF8.self)
        }
    }

    static func withoutIDs(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            var kept: [String: JSONValue] = [:]
            for (key, member) in object {
                if key == "id", let id = member.stringValue, id.hasPrefix("toolu_") || id.hasPrefix("call_") { continue }
                kept[key] = withoutIDs(member)
            }
            return .object(kept)
        case .array(let items): return .array(items.map(withoutIDs))
        default: return value
        }
    }

    /// Runs `lines` through two adapters, one given the lines as the relay reads them (plain tokens
    /// as bytes), the other the same lines decoded, and compares what a client would parse.
    static func expectSameEvents<Adapter: StreamAdapter>(
        _ lines: [String], _ make: () -> Adapter, sourceLocation: SourceLocation = #_sourceLocation
    ) throws where Adapter.Chunk == OllamaChatLine {
        var copied = make()
        var decoded = make()
        var (copiedOutput, decodedOutput) = (ByteBuffer(), ByteBuffer())
        copied.opening(into: &copiedOutput)
        decoded.opening(into: &decodedOutput)
        var plain = 0
        for line in lines {
            let bytes = ByteBuffer(string: line)
            let relayed = try OllamaChatLine.decode(bytes)
            switch relayed {
            case .text, .thinking: plain += 1
            case .chunk: break
            }
            let a = copied.translate(relayed, into: &copiedOutput)
            let b = decoded.translate(.chunk(try OllamaChatChunk.decode(bytes)), into: &decodedOutput)
            #expect(a == b, "counted output of \(line)", sourceLocation: sourceLocation)
            if copied.isComplete || decoded.isComplete {
                #expect(copied.isComplete == decoded.isComplete, sourceLocation: sourceLocation)
                break
            }
        }
        copied.closing(into: &copiedOutput)
        decoded.closing(into: &decodedOutput)
        #expect(plain > 0, "the sequence has plain tokens", sourceLocation: sourceLocation)
        #expect(try events(copiedOutput) == events(decodedOutput), sourceLocation: sourceLocation)
        #expect(copied.usage?.prompt == decoded.usage?.prompt && copied.usage?.completion == decoded.usage?.completion,
            sourceLocation: sourceLocation)
        #expect(copied.finishReason == decoded.finishReason, sourceLocation: sourceLocation)
    }

    static let sequences: [[String]] = [
        [text("Hello"), text(","), text(" wor"), text("ld"), text("!"), done],
        [text("quote \" back \\ "), text("nl \n tab \t cr \r"), text("<b>&amp;</b> </script>"), text("é 😀 \u{2028}\u{2029} \u{01}"),
         text("😀 🎉", surrogates: true), done],
        [text(""), text("Hi"), text(""), text(" there"), done],
        [text("<think>"), text("hmm"), text("</think>"), text("\n\nAnswer"), text(" more"), done],
        [text("  "), text("\n"), text("<thi"), text("nk>x</think>"), text("y"), done],
        [text(" "), text("\n"), text("Hi"), text(" you"), done],
        [thinking("Let me"), thinking(" see"), text("The answer"), text(" is 4."), done],
        [text("Calling"), text(" a tool"), toolCall, text("after"), text(" it"), done],
        [text("Hello "), text("EN"), text("D more"), text(" text"), done],
        [text("a"), text("b")],
    ]

    @Test(arguments: ReasoningFormat.allCases)
    func openAIChunksAreTheDecodedOnes(format: ReasoningFormat) throws {
        for sequence in Self.sequences {
            for excludeReasoning in [false, true] {
                let style = ChatResponseStyle(model: "m", reasoningFormat: format, excludeReasoning: excludeReasoning)
                try Self.expectSameEvents(sequence) {
                    OpenAIChatStreamAdapter(translator: OpenAIChatStreamTranslator(style: style), includeUsage: true)
                }
            }
        }
    }

    @Test func anthropicEventsAreTheDecodedOnes() throws {
        for sequence in Self.sequences {
            for stopSequences in [[], ["END"]] {
                for omitThinking in [false, true] {
                    let style = AnthropicResponseStyle(model: "m", stopSequences: stopSequences, omitThinking: omitThinking)
                    try Self.expectSameEvents(sequence) { AnthropicStreamAdapter(style: style) }
                }
            }
        }
    }

    /// Random texts (a fixed seed), cut into random tokens.
    @Test func randomTextsGiveTheDecodedEvents() throws {
        var random = SplitMix64(seed: 20261206)
        let pieces = ["a", "Z", " ", "\n", "\"", "\\", "<", ">", "&", "é", "😀", "\u{2028}", "\t", "<think>", "</think>", "END", "/", "\u{7f}"]
        for round in 0..<300 {
            var lines: [String] = []
            for _ in 0..<Int.random(in: 1...12, using: &random) {
                let token = (0..<Int.random(in: 0...4, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined()
                lines.append(Int.random(in: 0..<8, using: &random) == 0 ? Self.thinking(token) : Self.text(token, surrogates: round % 2 == 0))
            }
            lines.append(Self.text("end"))
            lines.append(Self.done)
            let style = ChatResponseStyle(model: "m", reasoningFormat: ReasoningFormat.allCases[round % 4], excludeReasoning: false)
            try Self.expectSameEvents(lines) {
                OpenAIChatStreamAdapter(translator: OpenAIChatStreamTranslator(style: style), includeUsage: false)
            }
            let anthropic = AnthropicResponseStyle(model: "m", stopSequences: round % 3 == 0 ? ["END"] : [])
            try Self.expectSameEvents(lines) { AnthropicStreamAdapter(style: anthropic) }
        }
    }
}

/// A small seeded generator, so a failing case comes back on every run.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
