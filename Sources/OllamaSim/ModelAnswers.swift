import Foundation
import GatewayAPI

/// How much a thinking model thinks: `true` (or `think` absent on a thinking model) is `medium`.
enum ThinkLevel: Int, Sendable, Comparable {
    case low, medium, high, max

    init?(_ think: OllamaThink?) {
        switch think {
        case nil: self = .medium
        case .enabled(false): return nil
        case .enabled(true): self = .medium
        case .level(let level):
            switch level {
            case "low": self = .low
            case "high": self = .high
            case "max": self = .max
            default: self = .medium
            }
        }
    }

    static func < (lhs: ThinkLevel, rhs: ThinkLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// What a model is asked: chat messages, or generate's prompt turned into messages.
struct Conversation: Sendable {
    var messages: [OllamaMessage]
    var tools: [OllamaTool] = []
    var thinkLevel: ThinkLevel?
    var format: JSONValue?
    var suffix: String?
    var prompt: String?

    var lastUserText: String {
        messages.last(where: { $0.role == "user" })?.content ?? ""
    }

    /// The decoded images of the last user message (or of generate's request).
    var imageBytes: [[UInt8]] = []
}

/// A model's whole answer before it is cut into tokens.
struct Answer: Sendable, Equatable {
    var thinking = ""
    var content = ""
    var toolCalls: [OllamaToolCall] = []
}

/// The deterministic answers of the simulated models (documented in docs/ollama-sim.md).
enum ModelAnswers {
    static func answer(_ behavior: SimulatedBehavior, to conversation: Conversation) -> Answer {
        let text = conversation.lastUserText
        var answer = Answer()
        switch behavior {
        case .echo, .embedder:
            answer.content = echo(text)
        case .thinker:
            if let level = conversation.thinkLevel { answer.thinking = thinking(about: text, level: level) }
            answer.content = echo(text)
        case .thinkTags:
            answer.content = "<think>\nThe user said: \(text). I will repeat it.\n</think>\n\n" + echo(text)
        case .vision:
            let images = conversation.imageBytes.enumerated().map { offset, bytes in
                return "Image \(offset + 1): \(bytes.count) bytes, fnv1a64 \(FNV1a.hex(FNV1a.hash64(bytes)))."
            }
            answer.content = (images + [echo(text)]).joined(separator: " ")
        case .infill:
            if let suffix = conversation.suffix, let prompt = conversation.prompt {
                answer.content = "/* infill: \(SimTokenizer.count(prompt)) tokens before, \(SimTokenizer.count(suffix)) tokens after */"
            } else {
                answer.content = echo(text)
            }
        case .toolCaller:
            return toolAnswer(conversation)
        case .agent:
            var acting = toolAnswer(conversation)
            if let level = conversation.thinkLevel { acting.thinking = thinking(about: text, level: level) }
            return acting
        }
        if let format = conversation.format, format != .null, format != .string("") {
            answer.content = formatted(answer.content, format: format)
        }
        return answer
    }

    static func echo(_ text: String) -> String {
        "You said: \(text)"
    }

    /// Each level adds one sentence, so thinking grows strictly from low to max.
    static func thinking(about text: String, level: ThinkLevel) -> String {
        var sentences = ["The user said: \(text)."]
        if level >= .medium { sentences.append("I should answer by repeating it.") }
        if level >= .high { sentences.append("Let me double-check that I quote it exactly.") }
        if level >= .max { sentences.append("Everything is checked, so the answer is ready.") }
        return sentences.joined(separator: " ")
    }

    /// `format: "json"` → `{"response": answer}`; a JSON schema → an object built from the schema.
    static func formatted(_ content: String, format: JSONValue) -> String {
        var writer = JSONLineWriter()
        if case .object = format {
            writer.value(value(for: format, text: content))
        } else {
            writer.value(["response": .string(content)])
        }
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A scripted call in a user message: a line `[[call NAME {JSON arguments}]]`.
    static let scriptOpen = "[[call "

    /// A line `[[next]]` ends one round of scripted calls: the next round is made after its results.
    static let scriptNext = "[[next]]"

    typealias ScriptedCall = (name: String, arguments: [String: JSONValue])

    /// The rounds of calls a user message scripts, in order, if it scripts any.
    static func scriptedRounds(in text: String) -> [[ScriptedCall]] {
        var rounds: [[ScriptedCall]] = [[]]
        for line in text.split(separator: "\n") {
            let line = line.trimmingCharacters(in: .whitespaces)
            if line == scriptNext {
                rounds.append([])
                continue
            }
            guard line.hasPrefix(scriptOpen), line.hasSuffix("]]") else { continue }
            let body = line.dropFirst(scriptOpen.count).dropLast(2)
            let name = body.prefix(while: { $0 != " " })
            let json = body.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
            let arguments = json.isEmpty ? [:] : (try? JSONDecoder().decode(JSONValue.self, from: Data(json.utf8)))?.objectValue
            if !name.isEmpty, let arguments { rounds[rounds.count - 1].append((String(name), arguments)) }
        }
        return rounds.filter { !$0.isEmpty }
    }

    /// Agents (Claude Code) add reminders and other text after tool results: a script is followed
    /// from the last user message that holds one. Round N is made once N assistant turns with calls
    /// follow that message; after the last round, the answer reports every tool result given since.
    /// A round's calls are made as written (an agent may offer a tool only after a tool search).
    static func scriptedAnswer(_ conversation: Conversation) -> Answer? {
        let messages = conversation.messages
        guard let index = messages.lastIndex(where: { $0.role == "user" && $0.content.contains(scriptOpen) }) else {
            return nil
        }
        let text = messages[index].content
        let rounds = scriptedRounds(in: text)
        guard !rounds.isEmpty else { return nil }
        let later = messages[(index + 1)...]
        let done = later.filter { $0.role == "assistant" && !($0.toolCalls ?? []).isEmpty }.count
        if done < rounds.count {
            return Answer(toolCalls: rounds[done].enumerated().map { offset, call in
                OllamaToolCall(
                    id: callID(name: call.name, index: offset, text: "\(done)|" + text),
                    function: .init(index: offset, name: call.name, arguments: call.arguments))
            })
        }
        let sentences = later.filter { $0.role == "tool" }.map { message in
            "The tool \(message.toolName ?? "unknown") returned: \(message.content)"
        }
        return Answer(content: sentences.joined(separator: "\n"))
    }

    static func toolAnswer(_ conversation: Conversation) -> Answer {
        if let scripted = scriptedAnswer(conversation) { return scripted }
        let messages = conversation.messages
        guard let last = messages.last else { return Answer(content: echo("")) }
        if last.role == "tool" {
            let trailing = messages.reversed().prefix(while: { $0.role == "tool" }).reversed()
            let earlier = messages[..<(messages.count - trailing.count)]
            let calls = earlier.last(where: { $0.role == "assistant" && !($0.toolCalls ?? []).isEmpty })?.toolCalls ?? []
            let sentences = trailing.enumerated().map { offset, message in
                let name =
                    message.toolName
                    ?? calls.first(where: { $0.id != nil && $0.id == message.toolCallID })?.function.name
                    ?? (offset < calls.count ? calls[offset].function.name : "unknown")
                return "The tool \(name) returned: \(message.content)"
            }
            return Answer(content: sentences.joined(separator: "\n"))
        }
        let tools = conversation.tools
        guard !tools.isEmpty, last.role == "user" else { return Answer(content: echo(conversation.lastUserText)) }
        let text = last.content
        let named = tools.filter { text.contains($0.function.name) }
        let chosen = named.isEmpty ? [tools[0]] : named
        let calls = chosen.enumerated().map { index, tool in
            OllamaToolCall(
                id: callID(name: tool.function.name, index: index, text: text),
                function: .init(
                    index: index, name: tool.function.name,
                    arguments: value(for: tool.function.parameters, text: text).objectValue ?? [:]
                )
            )
        }
        return Answer(toolCalls: calls)
    }

    /// `call_` and 8 characters of [a-z0-9], like Ollama's ids, but derived from the request so tests can predict them.
    static func callID(name: String, index: Int, text: String) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
        var hash = FNV1a.hash64(Array("\(index)|\(name)|\(text)".utf8))
        var id = "call_"
        for _ in 0..<8 {
            id.append(alphabet[Int(hash % 36)])
            hash /= 36
        }
        return id
    }

    /// A value satisfying a JSON schema: strings are the user's text (or the first `enum` value), numbers 1,
    /// booleans true, arrays one element, objects their `required` properties (all properties when none are required).
    static func value(for schema: JSONValue?, text: String) -> JSONValue {
        guard let schema = schema?.objectValue else { return .object([:]) }
        if let first = schema["enum"]?.arrayValue?.first { return first }
        if let constant = schema["const"] { return constant }
        var type = schema["type"]?.stringValue
        if type == nil, let types = schema["type"]?.arrayValue {
            type = types.compactMap(\.stringValue).first(where: { $0 != "null" })
        }
        if type == nil, schema["properties"] != nil { type = "object" }
        switch type {
        case "string": return .string(text)
        case "integer", "number": return .int(1)
        case "boolean": return .bool(true)
        case "null": return .null
        case "array": return .array([value(for: schema["items"] ?? ["type": "string"], text: text)])
        case "object":
            let properties = schema["properties"]?.objectValue ?? [:]
            let required = schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? properties.keys.sorted()
            var object: [String: JSONValue] = [:]
            for key in required {
                object[key] = value(for: properties[key] ?? ["type": "string"], text: text)
            }
            return .object(object)
        default: return .string(text)
        }
    }

    /// Benchmark answers: exactly `count` tokens of a fixed text.
    static func canned(tokens count: Int) -> [String] {
        (0..<count).map { index in
            let word = cannedWords[index % cannedWords.count]
            return index == 0 ? word : " " + word
        }
    }

    static let cannedWords = [
        "Lorem", "ipsum", "dolor", "sit", "amet", "consectetur", "adipiscing", "elit", "sed", "do", "eiusmod",
        "tempor", "incididunt", "ut", "labore", "et", "dolore", "magna", "aliqua",
    ]
}
