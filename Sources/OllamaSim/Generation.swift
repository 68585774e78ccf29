import Foundation
import GatewayAPI

/// An answer cut into tokens, after `stop` and `num_predict`.
struct Generation: Sendable {
    var thinking: [String]
    var content: [String]
    var toolCalls: [OllamaToolCall]
    /// Tool calls count as the tokens of their JSON (`{"name":…,"arguments":…}`).
    var toolCallTokens: Int
    var doneReason: String

    var evalCount: Int { thinking.count + content.count + toolCallTokens }

    init(answer: Answer, numPredict: Int?, stop: [String]) {
        var contentText = answer.content
        var doneReason = "stop"
        let stops = stop.filter { !$0.isEmpty }
        if !stops.isEmpty {
            var cut: String.Index?
            for sequence in stops {
                if let range = contentText.range(of: sequence), cut.map({ range.lowerBound < $0 }) ?? true {
                    cut = range.lowerBound
                }
            }
            if let cut { contentText = String(contentText[..<cut]) }
        }
        var thinking = SimTokenizer.pieces(answer.thinking)
        var content = SimTokenizer.pieces(contentText)
        if let limit = numPredict, limit > 0, thinking.count + content.count > limit {
            doneReason = "length"
            if thinking.count >= limit {
                thinking = Array(thinking.prefix(limit))
                content = []
            } else {
                content = Array(content.prefix(limit - thinking.count))
            }
        }
        self.thinking = thinking
        self.content = content
        self.toolCalls = answer.toolCalls
        self.toolCallTokens = answer.toolCalls.reduce(0) { total, call in
            var writer = JSONLineWriter()
            writer.value(["name": .string(call.function.name), "arguments": .object(call.function.arguments)])
            return total + SimTokenizer.count(String(decoding: writer.bytes, as: UTF8.self))
        }
        self.doneReason = doneReason
    }

    init(canned pieces: [String], numPredict: Int?) {
        var pieces = pieces
        var doneReason = "stop"
        if let limit = numPredict, limit > 0, pieces.count > limit {
            pieces = Array(pieces.prefix(limit))
            doneReason = "length"
        }
        self.thinking = []
        self.content = pieces
        self.toolCalls = []
        self.toolCallTokens = 0
        self.doneReason = doneReason
    }

    /// One streamed line before the last: thinking and content pieces, or the tool calls.
    struct Line: Sendable {
        var thinking: String?
        var content: String
        var toolCalls: [OllamaToolCall]?
    }

    /// One token per line; the last thinking token shares its line with the first content token, as Ollama's
    /// parsers emit the switch; tool calls come whole in one line after the text.
    var lines: [Line] {
        var lines: [Line] = []
        lines.reserveCapacity(thinking.count + content.count + 1)
        var contentIndex = 0
        for (index, piece) in thinking.enumerated() {
            if index == thinking.count - 1, !content.isEmpty {
                lines.append(Line(thinking: piece, content: content[0]))
                contentIndex = 1
            } else {
                lines.append(Line(thinking: piece, content: ""))
            }
        }
        while contentIndex < content.count {
            lines.append(Line(thinking: nil, content: content[contentIndex]))
            contentIndex += 1
        }
        if !toolCalls.isEmpty {
            lines.append(Line(thinking: nil, content: "", toolCalls: toolCalls))
        }
        return lines
    }
}

/// Timing and counts of the last line.
struct FinalMetrics: Sendable {
    var totalDuration: Int64
    var loadDuration: Int64
    var promptEvalCount: Int
    var promptEvalDuration: Int64
    var evalCount: Int
    var evalDuration: Int64
}

/// Renders chat and generate lines in Ollama's field order; zero metrics are omitted as Go's `omitempty` does.
enum LineRenderer {
    enum Endpoint: Sendable {
        case chat
        case generate
    }

    static func line(_ endpoint: Endpoint, model: String, createdAt: String, _ line: Generation.Line, into writer: inout JSONLineWriter) {
        head(model: model, createdAt: createdAt, into: &writer)
        switch endpoint {
        case .chat:
            writer.raw(",\"message\":{\"role\":\"assistant\",\"content\":")
            writer.string(line.content)
            if let thinking = line.thinking, !thinking.isEmpty {
                writer.raw(",\"thinking\":")
                writer.string(thinking)
            }
            if let calls = line.toolCalls, !calls.isEmpty {
                writer.raw(",\"tool_calls\":")
                toolCalls(calls, into: &writer)
            }
            writer.raw("},\"done\":false}\n")
        case .generate:
            writer.raw(",\"response\":")
            writer.string(line.content)
            if let thinking = line.thinking, !thinking.isEmpty {
                writer.raw(",\"thinking\":")
                writer.string(thinking)
            }
            writer.raw(",\"done\":false}\n")
        }
    }

    /// The last line, or the whole non-streaming answer when `content`/`thinking`/`toolCalls` are filled in.
    static func final(
        _ endpoint: Endpoint, model: String, createdAt: String, content: String = "", thinking: String = "",
        toolCalls calls: [OllamaToolCall] = [], done: Bool = true, doneReason: String?, context: [Int]? = nil,
        metrics: FinalMetrics?, into writer: inout JSONLineWriter
    ) {
        head(model: model, createdAt: createdAt, into: &writer)
        switch endpoint {
        case .chat:
            writer.raw(",\"message\":{\"role\":\"assistant\",\"content\":")
            writer.string(content)
            if !thinking.isEmpty {
                writer.raw(",\"thinking\":")
                writer.string(thinking)
            }
            if !calls.isEmpty {
                writer.raw(",\"tool_calls\":")
                toolCalls(calls, into: &writer)
            }
            writer.raw("}")
        case .generate:
            writer.raw(",\"response\":")
            writer.string(content)
            if !thinking.isEmpty {
                writer.raw(",\"thinking\":")
                writer.string(thinking)
            }
        }
        writer.raw(done ? ",\"done\":true" : ",\"done\":false")
        if let doneReason {
            writer.raw(",\"done_reason\":")
            writer.string(doneReason)
        }
        if let context, !context.isEmpty {
            writer.raw(",\"context\":[")
            for (index, id) in context.enumerated() {
                if index > 0 { writer.raw(",") }
                writer.int(id)
            }
            writer.raw("]")
        }
        if let metrics {
            field("total_duration", metrics.totalDuration, into: &writer)
            field("load_duration", metrics.loadDuration, into: &writer)
            field("prompt_eval_count", Int64(metrics.promptEvalCount), into: &writer)
            field("prompt_eval_duration", metrics.promptEvalDuration, into: &writer)
            field("eval_count", Int64(metrics.evalCount), into: &writer)
            field("eval_duration", metrics.evalDuration, into: &writer)
        }
        writer.raw("}\n")
    }

    static func toolCalls(_ calls: [OllamaToolCall], into writer: inout JSONLineWriter) {
        writer.raw("[")
        for (offset, call) in calls.enumerated() {
            if offset > 0 { writer.raw(",") }
            writer.raw("{")
            if let id = call.id {
                writer.raw("\"id\":")
                writer.string(id)
                writer.raw(",")
            }
            writer.raw("\"function\":{\"index\":")
            writer.int(call.function.index ?? offset)
            writer.raw(",\"name\":")
            writer.string(call.function.name)
            writer.raw(",\"arguments\":")
            writer.value(.object(call.function.arguments))
            writer.raw("}}")
        }
        writer.raw("]")
    }

    private static func head(model: String, createdAt: String, into writer: inout JSONLineWriter) {
        writer.raw("{\"model\":")
        writer.string(model)
        writer.raw(",\"created_at\":")
        writer.string(createdAt)
    }

    private static func field(_ name: StaticString, _ value: Int64, into writer: inout JSONLineWriter) {
        guard value != 0 else { return }
        writer.raw(",\"")
        writer.raw(name)
        writer.raw("\":")
        writer.raw(String(value))
    }
}
