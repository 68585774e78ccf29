import Foundation

public struct OllamaModelDetails: Sendable, Hashable, Codable {
    public var parentModel: String?
    public var format: String?
    public var family: String?
    public var families: [String]?
    public var parameterSize: String?
    public var quantizationLevel: String?

    enum CodingKeys: String, CodingKey {
        case format, family, families
        case parentModel = "parent_model"
        case parameterSize = "parameter_size"
        case quantizationLevel = "quantization_level"
    }

    public init(
        parentModel: String? = "", format: String? = "gguf", family: String? = nil, families: [String]? = nil,
        parameterSize: String? = nil, quantizationLevel: String? = nil
    ) {
        self.parentModel = parentModel
        self.format = format
        self.family = family
        self.families = families
        self.parameterSize = parameterSize
        self.quantizationLevel = quantizationLevel
    }
}

/// One entry of `GET /api/tags`.
public struct OllamaModelSummary: Sendable, Hashable, Codable {
    public var name: String
    public var model: String
    public var modifiedAt: String?
    public var size: Int64?
    public var digest: String?
    public var details: OllamaModelDetails?
    /// Present since Ollama v0.30; older servers need `/api/show`.
    public var capabilities: [String]?

    enum CodingKeys: String, CodingKey {
        case name, model, size, digest, details, capabilities
        case modifiedAt = "modified_at"
    }

    public init(
        name: String, model: String, modifiedAt: String? = nil, size: Int64? = nil, digest: String? = nil,
        details: OllamaModelDetails? = nil, capabilities: [String]? = nil
    ) {
        self.name = name
        self.model = model
        self.modifiedAt = modifiedAt
        self.size = size
        self.digest = digest
        self.details = details
        self.capabilities = capabilities
    }
}

public struct OllamaTagsResponse: Sendable, Hashable, Codable {
    public var models: [OllamaModelSummary]

    public init(models: [OllamaModelSummary]) {
        self.models = models
    }
}

/// `POST /api/show` request body (`name` is the older spelling of `model`).
public struct OllamaShowRequest: Sendable, Hashable, Codable {
    public var model: String?
    public var name: String?
    public var verbose: Bool?

    public init(model: String) {
        self.model = model
    }

    public var modelName: String { model ?? name ?? "" }
}

public struct OllamaShowResponse: Sendable, Hashable, Codable {
    public var license: String?
    public var modelfile: String?
    public var parameters: String?
    public var template: String?
    public var system: String?
    public var details: OllamaModelDetails?
    public var modelInfo: [String: JSONValue]?
    public var capabilities: [String]?
    public var modifiedAt: String?

    enum CodingKeys: String, CodingKey {
        case license, modelfile, parameters, template, system, details, capabilities
        case modelInfo = "model_info"
        case modifiedAt = "modified_at"
    }

    public init(
        license: String? = nil, modelfile: String? = nil, parameters: String? = nil, template: String? = nil,
        system: String? = nil, details: OllamaModelDetails? = nil, modelInfo: [String: JSONValue]? = nil,
        capabilities: [String]? = nil, modifiedAt: String? = nil
    ) {
        self.license = license
        self.modelfile = modelfile
        self.parameters = parameters
        self.template = template
        self.system = system
        self.details = details
        self.modelInfo = modelInfo
        self.capabilities = capabilities
        self.modifiedAt = modifiedAt
    }

    /// `model_info["<general.architecture>.context_length"]`.
    public var contextLength: Int? {
        guard let info = modelInfo, let arch = info["general.architecture"]?.stringValue else { return nil }
        return info["\(arch).context_length"]?.intValue
    }
}

/// One entry of `GET /api/ps`.
public struct OllamaRunningModel: Sendable, Hashable, Codable {
    public var name: String
    public var model: String
    public var size: Int64?
    public var digest: String?
    public var details: OllamaModelDetails?
    public var expiresAt: String?
    public var sizeVRAM: Int64?
    public var contextLength: Int?

    enum CodingKeys: String, CodingKey {
        case name, model, size, digest, details
        case expiresAt = "expires_at"
        case sizeVRAM = "size_vram"
        case contextLength = "context_length"
    }

    public init(
        name: String, model: String, size: Int64? = nil, digest: String? = nil, details: OllamaModelDetails? = nil,
        expiresAt: String? = nil, sizeVRAM: Int64? = nil, contextLength: Int? = nil
    ) {
        self.name = name
        self.model = model
        self.size = size
        self.digest = digest
        self.details = details
        self.expiresAt = expiresAt
        self.sizeVRAM = sizeVRAM
        self.contextLength = contextLength
    }
}

public struct OllamaPsResponse: Sendable, Hashable, Codable {
    public var models: [OllamaRunningModel]

    public init(models: [OllamaRunningModel]) {
        self.models = models
    }
}

public struct OllamaVersionResponse: Sendable, Hashable, Codable {
    public var version: String

    public init(version: String) {
        self.version = version
    }
}
