import Foundation

/// One Ollama server the gateway routes to: where it is, how to reach it, and how much of the
/// traffic it should take.
public struct Backend: Sendable, Equatable, Codable {
    /// Where the backend was defined: configuration backends are read-only in the admin API.
    public enum Source: String, Sendable, Codable {
        case configuration
        case database
    }

    /// Names the backend in metrics, the usage log, `/health/ready` and the admin API.
    public var name: String
    /// `http(s)://host[:port]`, without a trailing slash.
    public var url: String
    /// A header sent with every request to this backend (an Ollama behind its own authentication).
    public var authHeader: BackendHeader?
    /// Lower is preferred: a backend of priority 1 is used only when none of priority 0 can serve.
    public var priority: Int
    /// The share of traffic among equally good backends of one priority (relative, 1…1000).
    public var weight: Int
    public var enabled: Bool
    /// The models this backend may serve (Ollama's names, `x` meaning `x:latest`); empty: every model it has.
    public var models: [String]
    public var source: Source

    public init(
        name: String, url: String, authHeader: BackendHeader? = nil, priority: Int = 0, weight: Int = 1,
        enabled: Bool = true, models: [String] = [], source: Source = .configuration
    ) {
        self.name = name
        self.url = url
        self.authHeader = authHeader
        self.priority = priority
        self.weight = weight
        self.enabled = enabled
        self.models = models
        self.source = source
    }

    /// Whether the operator lets this backend serve `model` (an Ollama name, normalized).
    func allows(_ model: String) -> Bool {
        models.isEmpty || models.contains { ModelInfo.normalized($0) == model }
    }

    static let priorityRange = 0...1000
    static let weightRange = 1...1000

    /// Names are used as metric labels and in URLs: short, and without characters that need escaping.
    static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count)
            && name.utf8.allSatisfy { byte in
                (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                    || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || [UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: ".")].contains(byte)
            }
    }

    /// The URL as the gateway uses it, or why it cannot be one: an http(s) URL with a host, without
    /// credentials (they belong in the auth header), query or fragment.
    static func validatedURL(_ text: String) -> Result<String, BackendDefinitionError> {
        var url = text.trimmingCharacters(in: .whitespaces)
        guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = parsed.host, !host.isEmpty
        else {
            return .failure(BackendDefinitionError("must be an http(s) URL with a host, e.g. http://localhost:11434, got '\(text)'"))
        }
        guard parsed.user == nil, parsed.password == nil else {
            return .failure(BackendDefinitionError("must not contain credentials; give the backend an auth header instead"))
        }
        guard parsed.query == nil, parsed.fragment == nil else {
            return .failure(BackendDefinitionError("must not have a query or a fragment, got '\(text)'"))
        }
        while url.hasSuffix("/") { url.removeLast() }
        return .success(url)
    }
}

/// A header sent to one backend; its value is a secret (never listed by the admin API).
public struct BackendHeader: Sendable, Equatable, Codable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// `Name: value`, as `OLLAMA_AUTH_HEADER` gives it.
    public init?(line: String) {
        guard let colon = line.firstIndex(of: ":") else { return nil }
        let name = line[..<colon].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty else { return nil }
        self.init(name: name, value: line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces))
    }
}

public struct BackendDefinitionError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

extension Backend {
    /// The backends `OLLAMA_URL` (or repeated `--ollama-url`) lists: comma-separated entries, each
    /// `URL` or `NAME=URL`. An unnamed backend is named after its host and port (`gpu1:11434`), or
    /// `ollama` when it is the only one, so that a single URL reads as before.
    static func parseList(_ list: String, authHeader: BackendHeader?) throws(BackendDefinitionError) -> [Backend] {
        let entries = list.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard !entries.isEmpty else { throw BackendDefinitionError("must name at least one Ollama URL") }
        var backends: [Backend] = []
        for entry in entries {
            var name: String?
            var urlText = entry
            // `name=http://…`: a '=' before the scheme separates a name (URLs may hold '=' later on).
            if let equals = entry.firstIndex(of: "="), !entry[..<equals].contains(":") {
                name = String(entry[..<equals]).trimmingCharacters(in: .whitespaces)
                urlText = String(entry[entry.index(after: equals)...])
            }
            let url: String
            switch validatedURL(urlText) {
            case .success(let valid): url = valid
            case .failure(let error): throw error
            }
            if let name, !isValidName(name) {
                throw BackendDefinitionError("backend name '\(name)' must be 1–64 letters, digits, '-', '_' or '.'")
            }
            backends.append(Backend(name: name ?? "", url: url, authHeader: authHeader))
        }
        // Unnamed backends: "ollama" alone, else host:port, made unique.
        var taken = Set(backends.map(\.name).filter { !$0.isEmpty })
        guard taken.count == backends.filter({ !$0.name.isEmpty }).count else {
            throw BackendDefinitionError("backend names must be unique")
        }
        for index in backends.indices where backends[index].name.isEmpty {
            var base = "ollama"
            if backends.count > 1, let parsed = URLComponents(string: backends[index].url), let host = parsed.host {
                base = parsed.port.map { "\(host):\($0)" } ?? host
                base = String(base.filter { $0.isLetter || $0.isNumber || "-_.:".contains($0) }.map { $0 == ":" ? "-" : $0 })
            }
            var name = base
            var suffix = 2
            while taken.contains(name) {
                name = "\(base)-\(suffix)"
                suffix += 1
            }
            taken.insert(name)
            backends[index].name = name
        }
        return backends
    }
}
