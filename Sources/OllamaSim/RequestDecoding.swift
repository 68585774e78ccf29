import Foundation
import GatewayAPI
import HTTPTypes

/// A failure answered before streaming starts: `{"error": message}` with `status`.
struct OllamaAPIError: Error, Equatable {
    let status: HTTPResponse.Status
    let message: String

    static func badRequest(_ message: String) -> OllamaAPIError { .init(status: .badRequest, message: message) }
}

/// Request bodies read the way Ollama's Go server reads them, so malformed requests fail with Go's messages:
/// the JSON is parsed, checked against the shape of Ollama's request struct (type mismatches, `think`,
/// base64 `images`, object `arguments`, `keep_alive`), then decoded into the GatewayAPI wire type.
enum RequestDecoding {
    /// Go's view of a request field, for its error messages.
    indirect enum GoField: Sendable {
        case string, bool, int, float, raw, map, think, keepAlive, imageData, toolArguments
        case slice(String, GoField)
        case structure(String, [String: GoField])

        var goTypeName: String {
            switch self {
            case .string: "string"
            case .bool: "bool"
            case .int: "int"
            case .float: "float64"
            case .raw: "json.RawMessage"
            case .map: "map[string]interface {}"
            case .think: "api.ThinkValue"
            case .keepAlive: "api.Duration"
            case .imageData: "api.ImageData"
            case .toolArguments: "api.ToolCallFunctionArguments"
            case .slice(let name, _): name
            case .structure(let name, _): name
            }
        }
    }

    static let toolCall = GoField.structure(
        "api.ToolCall",
        [
            "id": .string,
            "function": .structure("api.ToolCallFunction", ["index": .int, "name": .string, "arguments": .toolArguments]),
        ])
    static let message = GoField.structure(
        "api.Message",
        [
            "role": .string, "content": .string, "thinking": .string,
            "images": .slice("[]api.ImageData", .imageData),
            "tool_calls": .slice("[]api.ToolCall", toolCall),
            "tool_name": .string, "tool_call_id": .string,
        ])
    static let tool = GoField.structure(
        "api.Tool",
        [
            "type": .string,
            "function": .structure("api.ToolFunction", ["name": .string, "description": .string, "parameters": .raw]),
        ])

    static let chatRequest = GoField.structure(
        "api.ChatRequest",
        [
            "model": .string, "messages": .slice("[]api.Message", message), "tools": .slice("api.Tools", tool),
            "format": .raw, "options": .map, "stream": .bool, "keep_alive": .keepAlive, "think": .think,
            "truncate": .bool, "shift": .bool, "logprobs": .bool, "top_logprobs": .int,
        ])
    static let generateRequest = GoField.structure(
        "api.GenerateRequest",
        [
            "model": .string, "prompt": .string, "suffix": .string, "system": .string, "template": .string,
            "context": .slice("[]int", .int), "stream": .bool, "raw": .bool, "format": .raw,
            "keep_alive": .keepAlive, "images": .slice("[]api.ImageData", .imageData), "options": .map,
            "think": .think, "truncate": .bool, "shift": .bool, "logprobs": .bool, "top_logprobs": .int,
        ])
    static let embedRequest = GoField.structure(
        "api.EmbedRequest",
        ["model": .string, "input": .raw, "keep_alive": .keepAlive, "truncate": .bool, "dimensions": .int, "options": .map])
    static let embeddingRequest = GoField.structure(
        "api.EmbeddingRequest", ["model": .string, "prompt": .string, "keep_alive": .keepAlive, "options": .map])
    static let showRequest = GoField.structure(
        "api.ShowRequest",
        ["model": .string, "name": .string, "system": .string, "template": .string, "verbose": .bool, "options": .map])

    /// Parses and checks a body; returns the JSON object.
    static func parse(_ bytes: [UInt8], as shape: GoField) throws(OllamaAPIError) -> [String: JSONValue] {
        guard bytes.contains(where: { !isJSONSpace($0) }) else { throw .badRequest("missing request body") }
        // Ollama's decoder stops at 10,000 levels; the simulator runs inside the gateway's demo process,
        // so it refuses, as the gateway does, bodies whose shape alone would cost seconds to decode.
        do {
            try JSONShapeLimits.requestBody.check(bytes)
        } catch {
            throw .badRequest(error.message)
        }
        guard let value = bytes.withUnsafeBytes({ JSONValue.parse($0) }) else {
            throw .badRequest(syntaxErrorMessage(bytes))
        }
        guard case .object(let object) = value else {
            throw .badRequest("json: cannot unmarshal \(kind(of: value)) into Go value of type \(shape.goTypeName)")
        }
        try check(value, as: shape, structName: "", path: [])
        return object
    }

    /// Decodes a checked body into a wire type.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(OllamaAPIError) -> T {
        do {
            let data = Data(bytes)
            return try JSONDecoder.withParsedTree(of: data).decode(T.self, from: data)
        } catch {
            throw .badRequest("json: \(error)")
        }
    }

    private static func check(_ value: JSONValue, as field: GoField, structName: String, path: [String]) throws(OllamaAPIError) {
        func mismatch(_ valueDescription: String? = nil) -> OllamaAPIError {
            let what = valueDescription ?? kind(of: value)
            if path.isEmpty {
                return .badRequest("json: cannot unmarshal \(what) into Go value of type \(field.goTypeName)")
            }
            return .badRequest(
                "json: cannot unmarshal \(what) into Go struct field \(structName).\(path.joined(separator: ".")) of type \(field.goTypeName)"
            )
        }
        if case .toolArguments = field {
            // Ollama's ordered map parses arguments with jsonparser, which only accepts an object.
            guard case .object = value else {
                throw .badRequest("Value looks like object, but can't find closing '}' symbol")
            }
            return
        }
        if case .null = value { return }
        switch field {
        case .string:
            guard case .string = value else { throw mismatch() }
        case .bool:
            guard case .bool = value else { throw mismatch() }
        case .int:
            switch value {
            case .int: break
            case .double(let number): if number.rounded() != number { throw mismatch("number \(goNumber(number))") }
            default: throw mismatch()
            }
        case .float:
            switch value {
            case .int, .double: break
            default: throw mismatch()
            }
        case .raw, .toolArguments:
            break
        case .map:
            guard case .object = value else { throw mismatch() }
        case .think:
            switch value {
            case .bool: break
            case .string(let level):
                if !OllamaThink.levels.contains(level) {
                    throw .badRequest(
                        "invalid think value: \(goQuote(level)) (must be \"high\", \"medium\", \"low\", \"max\", true, or false)"
                    )
                }
            default:
                throw .badRequest("think must be a boolean or string (\"high\", \"medium\", \"low\", \"max\", true, or false)")
            }
        case .keepAlive:
            do {
                _ = try KeepAlive.parse(keepAliveShape(value))
            } catch {
                throw .badRequest(error.message)
            }
        case .imageData:
            guard case .string(let text) = value else { throw mismatch() }
            do {
                _ = try GoBase64.decode(text)
            } catch {
                throw .badRequest(error.message)
            }
        case .slice(_, let element):
            guard case .array(let items) = value else { throw mismatch() }
            for item in items {
                try check(item, as: element, structName: structName, path: path)
            }
        case .structure(let name, let fields):
            guard case .object(let members) = value else { throw mismatch() }
            let shortName = String(name.split(separator: ".").last ?? Substring(name))
            for key in members.keys.sorted() {
                guard let child = fields[key], let member = members[key] else { continue }
                try check(member, as: child, structName: shortName, path: path + [key])
            }
        }
    }

    static func keepAliveShape(_ value: JSONValue) -> KeepAlive.JSONValueLike {
        switch value {
        case .int(let number): .number(Double(number))
        case .double(let number): .number(number)
        case .string(let text): .string(text)
        case .bool: .other("bool")
        case .array: .other("[]interface {}")
        case .object: .other("map[string]interface {}")
        case .null: .number(300)
        }
    }

    /// The JSON kind as Go's UnmarshalTypeError names it.
    static func kind(of value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool: "bool"
        case .int, .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    private static func goNumber(_ number: Double) -> String {
        var text = "\(number)"
        if text.hasSuffix(".0") { text.removeLast(2) }
        return text
    }

    private static func isJSONSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    /// An approximation of Go's syntax error text: which character broke it, or a truncated document.
    private static func syntaxErrorMessage(_ bytes: [UInt8]) -> String {
        guard let first = bytes.first(where: { !isJSONSpace($0) }) else { return "unexpected EOF" }
        let starts = Array("{[\"-0123456789tfn".utf8)
        if !starts.contains(first) {
            return "invalid character '\(Character(Unicode.Scalar(first)))' looking for beginning of value"
        }
        return "unexpected EOF"
    }
}

/// `options`, checked as Ollama's `Options.FromMap` does (unknown keys ignored), plus the simulator's `sim_*` keys.
struct RequestOptions: Sendable {
    var numCtx: Int?
    var numPredict: Int?
    var stop: [String] = []
    var fault: SimulatedFault?
    var delay: Duration?
    var faultAfter: Int?
    var answerTokens: Int?
    var tokenInterval: Duration?

    /// A wrong type is a 500 in Ollama: the error surfaces from the scheduler, which maps it to an internal error.
    static func parse(_ options: [String: JSONValue]?) throws(OllamaAPIError) -> RequestOptions {
        var result = RequestOptions()
        guard let options else { return result }
        for key in options.keys.sorted() {
            let value = options[key]!
            if case .null = value { continue }
            // Go reads every JSON number as float64, so an integer option takes any number.
            switch OllamaOption.readByOllama(key)?.kind {
            case nil:
                continue
            case .integer:
                guard value.doubleValue != nil else { throw internalError("option \(goQuote(key)) must be of type integer") }
            case .float:
                guard value.doubleValue != nil else { throw internalError("option \(goQuote(key)) must be of type float32") }
            case .bool:
                guard value.boolValue != nil else { throw internalError("option \(goQuote(key)) must be of type boolean") }
            case .stringArray:
                guard case .array(let items) = value else { throw internalError("option \(goQuote(key)) must be of type array") }
                var stops: [String] = []
                for item in items {
                    guard case .string(let text) = item else {
                        throw internalError("option \(goQuote(key)) must be of an array of strings")
                    }
                    stops.append(text)
                }
                result.stop = stops
            }
        }
        // Converted without trapping: a number beyond Int saturates (a huge `num_predict` is as unbounded
        // as -1), and a context below 4 tokens is raised to 4, as Ollama's scheduler does.
        result.numCtx = options["num_ctx"]?.saturatingIntValue.map { max($0, minimumContext) }
        result.numPredict = options["num_predict"]?.saturatingIntValue

        if let fault = options["sim_fault"], !fault.isNull {
            guard let name = fault.stringValue, let parsed = SimulatedFault(rawValue: name) else {
                throw .badRequest("invalid sim_fault \(fault.stringValue.map(goQuote) ?? fault.typeName) (one of \(SimulatedFault.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            result.fault = parsed
        }
        result.delay = try milliseconds(options["sim_delay_ms"], key: "sim_delay_ms")
        result.tokenInterval = try milliseconds(options["sim_token_interval_ms"], key: "sim_token_interval_ms")
        result.faultAfter = try nonNegativeInt(options["sim_fault_after"], key: "sim_fault_after")
        result.answerTokens = try nonNegativeInt(options["sim_tokens"], key: "sim_tokens", maximum: maximumAnswerTokens)
        return result
    }

    /// The smallest context Ollama's scheduler runs a model with.
    static let minimumContext = 4
    /// Bounds on the simulator's own knobs, so a request cannot make it allocate or wait without end.
    static let maximumAnswerTokens = 1_000_000
    static let maximumDelayMilliseconds = 86_400_000.0

    private static func internalError(_ message: String) -> OllamaAPIError {
        .init(status: .internalServerError, message: message)
    }

    private static func nonNegativeInt(_ value: JSONValue?, key: String, maximum: Int = .max) throws(OllamaAPIError) -> Int? {
        guard let value, !value.isNull else { return nil }
        guard let number = value.intValue, number >= 0 else {
            throw .badRequest("\(key) must be a non-negative integer")
        }
        guard number <= maximum else { throw .badRequest("\(key) must be at most \(maximum)") }
        return number
    }

    private static func milliseconds(_ value: JSONValue?, key: String) throws(OllamaAPIError) -> Duration? {
        guard let value, !value.isNull else { return nil }
        guard let number = value.doubleValue, number >= 0 else {
            throw .badRequest("\(key) must be a non-negative number of milliseconds")
        }
        guard number <= maximumDelayMilliseconds else {
            throw .badRequest("\(key) must be at most \(Int(maximumDelayMilliseconds)) milliseconds (one day)")
        }
        return .microseconds(Int64(number * 1000))
    }
}
