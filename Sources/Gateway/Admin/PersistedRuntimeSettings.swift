import Foundation
import GatewayAPI
import GatewayStore
import Logging

/// The runtime settings as saved in the database, over the configuration's values.
///
/// Precedence: a value saved from the admin API (table `settings`) wins over `OLLAMA_URL`,
/// `REASONING_FORMAT` and friends from flags, environment or `.env`, which are only the first values.
/// Clearing a saved value (`null`) returns to the configuration's. Every instance reads the saved
/// values at start-up and again every `AdminMaintenanceService` round, so a change made on one
/// instance reaches the others.
public struct PersistedRuntimeSettings: Sendable {
    public static let ollamaURLKey = "ollama.url"
    public static let defaultsKey = "defaults.parameters"
    public static let reasoningFormatKey = "reasoning.format"

    let repository: SettingsRepository
    let runtime: RuntimeSettings
    let configuration: GatewayConfiguration

    public init(repository: SettingsRepository, runtime: RuntimeSettings, configuration: GatewayConfiguration) {
        self.repository = repository
        self.runtime = runtime
        self.configuration = configuration
    }

    /// The values in effect and where each comes from.
    public struct Effective: Sendable, Equatable {
        public var values: RuntimeSettings.Values
        /// `defaults` as the admin wrote them (Ollama's format).
        public var defaults: [String: JSONValue]
        /// Setting name → `configuration` or `database`.
        public var sources: [String: String]
        /// Saved values that could not be used (a newer or hand-edited database), with the reason.
        public var problems: [String]
    }

    /// Reads the saved values and applies them over the configuration.
    @discardableResult
    public func reload(logger: Logger) async throws -> Effective {
        let effective = try await read()
        for problem in effective.problems {
            logger.warning("saved runtime setting ignored", metadata: ["reason": "\(problem)"])
        }
        runtime.update { $0 = effective.values }
        return effective
    }

    func read() async throws -> Effective {
        let saved = Dictionary(try await repository.all().map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        var values = RuntimeSettings.Values(
            ollamaURL: configuration.ollamaURL, defaults: ParameterLayer(), reasoningFormat: configuration.reasoningFormat)
        var defaults: [String: JSONValue] = [:]
        var sources = ["ollama_url": "configuration", "defaults": "configuration", "reasoning_format": "configuration"]
        var problems: [String] = []

        if let value = saved[Self.ollamaURLKey] {
            do {
                values.ollamaURL = try Self.validatedOllamaURL(value)
                sources["ollama_url"] = "database"
            } catch let error as AdminAPIError {
                problems.append("\(Self.ollamaURLKey): \(error.message)")
            }
        }
        if let value = saved[Self.defaultsKey] {
            do {
                let (layer, object) = try Self.validatedDefaults(value)
                values.defaults = layer
                defaults = object
                sources["defaults"] = "database"
            } catch let error as AdminAPIError {
                problems.append("\(Self.defaultsKey): \(error.message)")
            }
        }
        if let value = saved[Self.reasoningFormatKey] {
            do {
                values.reasoningFormat = try Self.validatedReasoningFormat(value)
                sources["reasoning_format"] = "database"
            } catch let error as AdminAPIError {
                problems.append("\(Self.reasoningFormatKey): \(error.message)")
            }
        }
        return Effective(values: values, defaults: defaults, sources: sources, problems: problems)
    }

    /// A change from the admin API, each field validated before anything is saved.
    public struct Change: Sendable {
        /// `nil`: unchanged; `.some(nil)`: back to the configuration's value.
        public var ollamaURL: String??
        public var defaults: [String: JSONValue]??
        public var reasoningFormat: String??

        public init(ollamaURL: String?? = nil, defaults: [String: JSONValue]?? = nil, reasoningFormat: String?? = nil) {
            self.ollamaURL = ollamaURL
            self.defaults = defaults
            self.reasoningFormat = reasoningFormat
        }
    }

    /// Validates every field (throwing a 400 that names the first bad one), saves, applies at once.
    /// Returns the new settings and warnings (option names Ollama may not know).
    public func apply(_ change: Change, logger: Logger) async throws -> (Effective, warnings: [String]) {
        var warnings: [String] = []
        var writes: [(String, JSONValue?)] = []
        if let url = change.ollamaURL {
            if let url {
                writes.append((Self.ollamaURLKey, .string(try Self.validatedOllamaURL(.string(url)))))
            } else {
                writes.append((Self.ollamaURLKey, nil))
            }
        }
        if let defaults = change.defaults {
            if let defaults {
                _ = try Self.validatedDefaults(.object(defaults))
                warnings += ParameterLayer.unknownNames(in: defaults).map {
                    "defaults: '\($0)' is not an Ollama option or gateway control this version knows; it is kept and sent as is."
                }
                writes.append((Self.defaultsKey, .object(defaults)))
            } else {
                writes.append((Self.defaultsKey, nil))
            }
        }
        if let format = change.reasoningFormat {
            if let format {
                writes.append((Self.reasoningFormatKey, .string(try Self.validatedReasoningFormat(.string(format)).rawValue)))
            } else {
                writes.append((Self.reasoningFormatKey, nil))
            }
        }
        for (key, value) in writes {
            if let value {
                try await repository.set(key, to: value)
            } else {
                try await repository.delete(key)
            }
        }
        return (try await reload(logger: logger), warnings)
    }

    // MARK: - Validation

    /// An `http(s)` URL with a host and nothing a base URL should not have; trailing slashes removed.
    static func validatedOllamaURL(_ value: JSONValue) throws -> String {
        guard case .string(var text) = value else { throw AdminAPIError.invalid("'ollama_url' must be a string.") }
        text = text.trimmingCharacters(in: .whitespaces)
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host, !host.isEmpty
        else {
            throw AdminAPIError.invalid("'ollama_url' must be an http(s) URL with a host, e.g. http://localhost:11434.")
        }
        guard components.user == nil, components.password == nil else {
            throw AdminAPIError.invalid(
                "'ollama_url' must not contain credentials; set OLLAMA_AUTH_HEADER for an Ollama behind authentication.")
        }
        guard components.query == nil, components.fragment == nil else {
            throw AdminAPIError.invalid("'ollama_url' must not have a query or a fragment.")
        }
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }

    /// An object in Ollama's format (`{"num_ctx":8192,"think":"low","options":{…}}`).
    static func validatedDefaults(_ value: JSONValue) throws -> (ParameterLayer, [String: JSONValue]) {
        guard case .object(let object) = value else {
            throw AdminAPIError.invalid("'defaults' must be an object of Ollama parameters, e.g. {\"num_ctx\": 8192}.")
        }
        do {
            return (try ParameterLayer(ollamaStyle: object, paramPrefix: "defaults."), object)
        } catch {
            throw AdminAPIError.invalid(error.message)
        }
    }

    static func validatedReasoningFormat(_ value: JSONValue) throws -> ReasoningFormat {
        guard case .string(let text) = value, let format = ReasoningFormat(rawValue: text) else {
            throw AdminAPIError.invalid(
                "'reasoning_format' must be one of \(ReasoningFormat.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        return format
    }
}
