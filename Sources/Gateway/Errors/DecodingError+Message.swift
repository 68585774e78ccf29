import Foundation

extension DecodingError {
    /// The JSON path of the failing field, in the style OpenAI uses for `param` (`messages[0].content`).
    var fieldPath: String? {
        let path: [any CodingKey]
        switch self {
        case .keyNotFound(let key, let context): path = context.codingPath + [key]
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            path = context.codingPath
        @unknown default: return nil
        }
        var result = ""
        for key in path {
            if let index = key.intValue {
                result += "[\(index)]"
            } else {
                result += result.isEmpty ? key.stringValue : ".\(key.stringValue)"
            }
        }
        return result.isEmpty ? nil : result
    }

    /// A message a client can act on, naming the field and what was wrong with it.
    var clientMessage: String {
        switch self {
        case .keyNotFound(let key, _):
            return "Missing required parameter: '\(fieldPath ?? key.stringValue)'."
        case .typeMismatch(let type, _):
            return "Invalid type for '\(fieldPath ?? "body")': expected \(Self.describe(type))."
        case .valueNotFound(let type, _):
            return "Invalid value for '\(fieldPath ?? "body")': expected \(Self.describe(type)), got null."
        case .dataCorrupted(let context):
            if fieldPath == nil {
                return "The request body is not valid JSON."
            }
            return "Invalid value for '\(fieldPath ?? "body")': \(context.debugDescription)"
        @unknown default:
            return "The request body could not be read."
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        case is [Any].Type: "an array"
        default:
            if String(describing: type).hasPrefix("Array") { "an array" }
            else if String(describing: type).hasPrefix("Dictionary") { "an object" }
            else { "a value of the documented type" }
        }
    }
}

extension GatewayError {
    /// Turns a body decoding failure into a 400 naming the field.
    static func decoding(_ error: any Error) -> GatewayError {
        if let error = error as? DecodingError {
            return .invalid(error.clientMessage, param: error.fieldPath)
        }
        return .invalid("The request body is not valid JSON.")
    }
}
