import Foundation

/// A piece of HTML. Text interpolated into it is escaped; only other `HTML` values and the literal
/// parts written in this source code go in as markup. So a key named `<script>` or a model alias
/// `"><img src=x onerror=…>` can only ever render as text: there is no way to insert a runtime string
/// as markup by mistake, which is how the stored XSS of other gateways' dashboards happened.
struct HTML: Sendable, ExpressibleByStringInterpolation, CustomStringConvertible {
    private(set) var markup: String

    init(stringLiteral value: StaticString) {
        markup = value.description
    }

    init(stringInterpolation: Interpolation) {
        markup = stringInterpolation.markup
    }

    private init(markup: String) {
        self.markup = markup
    }

    static let empty = HTML(markup: "")

    var description: String { markup }

    /// Text as HTML: `&`, `<`, `>`, `"` and `'` escaped, so it is safe in element content and in a
    /// quoted attribute value.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text.unicodeScalars {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.unicodeScalars.append(character)
            }
        }
        return escaped
    }

    struct Interpolation: StringInterpolationProtocol {
        var markup = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            markup.reserveCapacity(literalCapacity + interpolationCount * 16)
        }

        /// The literal parts: markup written in this source code.
        mutating func appendLiteral(_ literal: StaticString) {
            markup += literal.description
        }

        /// Text: always escaped.
        mutating func appendInterpolation(_ text: String) {
            markup += HTML.escape(text)
        }

        mutating func appendInterpolation(_ text: Substring) {
            markup += HTML.escape(String(text))
        }

        mutating func appendInterpolation(_ number: Int) {
            markup += String(number)
        }

        mutating func appendInterpolation(_ number: Int64) {
            markup += String(number)
        }

        mutating func appendInterpolation(_ html: HTML) {
            markup += html.markup
        }

        mutating func appendInterpolation(_ html: HTML?) {
            if let html { markup += html.markup }
        }

        mutating func appendInterpolation(_ parts: [HTML]) {
            for part in parts { markup += part.markup }
        }
    }
}

extension Array where Element == HTML {
    func joined(separator: HTML) -> HTML {
        var result = HTML.empty
        for (index, part) in enumerated() {
            result = index == 0 ? part : "\(result)\(separator)\(part)"
        }
        return result
    }
}

/// Builds the console's own URLs: fixed paths with percent-encoded parts, so that a key id or model
/// name can neither leave its path segment or query value nor form a `javascript:` URL.
enum ConsoleURL {
    static let root = "/admin"

    /// A path segment or query value, encoded so that only unreserved characters remain as they are.
    static func component(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// `path?name=value&…`, empty values left out.
    static func with(_ path: String, _ query: [(String, String?)]) -> String {
        let items = query.compactMap { name, value -> String? in
            guard let value, !value.isEmpty else { return nil }
            return "\(name)=\(component(value))"
        }
        return items.isEmpty ? path : path + "?" + items.joined(separator: "&")
    }

    static func key(_ id: String) -> String { "\(root)/keys/\(component(id))" }
    static func model(_ name: String) -> String { with("\(root)/models/edit", [("name", name)]) }
    static func backend(_ name: String) -> String { with("\(root)/backends/edit", [("name", name)]) }
}
