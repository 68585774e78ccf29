import Foundation
import GatewayAPI
import GatewayStore
import Hummingbird

/// A JSON member of a partial update: absent (unchanged), `null` (cleared) or a value.
enum PatchField<Value: Decodable & Sendable>: Sendable {
    case absent
    case null
    case value(Value)
}

extension KeyedDecodingContainer {
    func decodePatch<Value: Decodable & Sendable>(_ type: Value.Type, forKey key: Key) throws -> PatchField<Value> {
        guard contains(key) else { return .absent }
        if try decodeNil(forKey: key) { return .null }
        return .value(try decode(type, forKey: key))
    }
}

/// The fields of a key, as `POST /admin/api/keys` takes them and `PATCH` changes them.
struct KeyFields: Decodable, Sendable {
    var name: PatchField<String>
    var models: PatchField<[String]>
    var rpm: PatchField<Int>
    var tpm: PatchField<Int>
    var quota: PatchField<Int>
    var maxConcurrent: PatchField<Int>
    var expiresAt: PatchField<String>
    var expiresIn: PatchField<String>
    var enabled: PatchField<Bool>

    enum CodingKeys: String, CodingKey, CaseIterable {
        case name, models, rpm, tpm, quota, enabled
        case maxConcurrent = "max_concurrent"
        case expiresAt = "expires_at"
        case expiresIn = "expires_in"
    }

    static let names = Set(CodingKeys.allCases.map(\.rawValue))

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decodePatch(String.self, forKey: .name)
        models = try container.decodePatch([String].self, forKey: .models)
        rpm = try container.decodePatch(Int.self, forKey: .rpm)
        tpm = try container.decodePatch(Int.self, forKey: .tpm)
        quota = try container.decodePatch(Int.self, forKey: .quota)
        maxConcurrent = try container.decodePatch(Int.self, forKey: .maxConcurrent)
        expiresAt = try container.decodePatch(String.self, forKey: .expiresAt)
        expiresIn = try container.decodePatch(String.self, forKey: .expiresIn)
        enabled = try container.decodePatch(Bool.self, forKey: .enabled)
    }

    /// `settings` with these fields applied, checked; and the names of the fields that were given.
    func applied(to settings: APIKeySettings, now: Date) throws(AdminAPIError) -> (APIKeySettings, [String]) {
        var settings = settings
        var changed: [String] = []
        switch name {
        case .absent: break
        case .null: throw .invalid("'name' must be a non-empty string.")
        case .value(let value):
            let trimmed = value.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !trimmed.isEmpty, trimmed.count <= 100 else { throw .invalid("'name' must have 1 to 100 characters.") }
            settings.name = trimmed
            changed.append("name")
        }
        switch models {
        case .absent: break
        case .null:
            settings.allowedModels = []
            changed.append("models")
        case .value(let list):
            let names = list.map { $0.trimmingCharacters(in: .whitespaces) }
            guard names.count <= 200, names.allSatisfy({ !$0.isEmpty && $0.count <= 200 }) else {
                throw .invalid("'models' must be a list of at most 200 non-empty model names or patterns (like llama*).")
            }
            settings.allowedModels = names
            changed.append("models")
        }
        for (field, name, keyPath) in [
            (rpm, "rpm", \APIKeyLimits.requestsPerMinute), (tpm, "tpm", \APIKeyLimits.tokensPerMinute),
            (quota, "quota", \APIKeyLimits.tokenQuota), (maxConcurrent, "max_concurrent", \APIKeyLimits.maxConcurrentRequests),
        ] {
            switch field {
            case .absent: continue
            case .null: settings.limits[keyPath: keyPath] = nil
            case .value(let value):
                guard value > 0 else { throw .invalid("'\(name)' must be a positive integer, or null for no limit.") }
                settings.limits[keyPath: keyPath] = value
            }
            changed.append(name)
        }
        switch (expiresAt, expiresIn) {
        case (.absent, .absent): break
        case (.value, .value), (.value, .null), (.null, .value):
            throw .invalid("Give either 'expires_at' or 'expires_in', not both.")
        case (.null, _), (_, .null):
            settings.expiresAt = nil
            changed.append("expires_at")
        case (.value(let text), .absent):
            guard let date = Timestamps.parse(text), Double(text) == nil else {
                throw .invalid("'expires_at' must be an RFC 3339 time such as 2030-01-31T00:00:00Z.")
            }
            guard date > now else { throw .invalid("'expires_at' must be in the future.") }
            settings.expiresAt = date
            changed.append("expires_at")
        case (.absent, .value(let text)):
            guard let lifetime = LifetimeText.parse(text) else {
                throw .invalid("'expires_in' must be a number and a unit (s, m, h, d, w), such as 30d.")
            }
            settings.expiresAt = now.addingTimeInterval(TimeInterval(lifetime.components.seconds))
            changed.append("expires_at")
        }
        switch enabled {
        case .absent: break
        case .null: throw .invalid("'enabled' must be true or false.")
        case .value(let flag):
            settings.enabled = flag
            changed.append("enabled")
        }
        return (settings, changed)
    }
}

extension AdminController {
    struct KeyList: Encodable {
        var keys: [AdminKeyView]

        enum CodingKeys: String, CodingKey {
            case keys
        }
    }

    @Sendable func listKeys(_ request: Request, context: Context) async throws -> Response {
        let includeRevoked = try Self.flag(request, "include_revoked")
        let now = Date()
        let records = try await store.apiKeys.list(includeRevoked: includeRevoked)
        return AdminJSON.response(KeyList(keys: records.map { AdminKeyView($0, now: now) }))
    }

    @Sendable func createKey(_ request: Request, context: Context) async throws -> Response {
        let fields = try await AdminJSON.decode(KeyFields.self, from: request, fields: KeyFields.names)
        guard case .value = fields.name else { throw AdminAPIError.invalid("'name' is required.") }
        let now = Date()
        let (settings, _) = try fields.applied(to: APIKeySettings(name: ""), now: now)
        let issued = try await keys.create(settings, by: try actor(context), from: context.remoteAddress, now: now)
        return AdminJSON.response(IssuedKeyView(issued, now: now), status: .created)
    }

    @Sendable func getKey(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.keyID(context)
        guard let record = try await store.apiKeys.get(id: id) else { throw Self.unknownKey(id) }
        return AdminJSON.response(AdminKeyView(record))
    }

    @Sendable func updateKey(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.keyID(context)
        let fields = try await AdminJSON.decode(KeyFields.self, from: request, fields: KeyFields.names)
        guard let record = try await store.apiKeys.get(id: id) else { throw Self.unknownKey(id) }
        guard record.revokedAt == nil else {
            throw AdminAPIError(.conflict, type: "conflict", "The key \(id) is revoked and can no longer be changed.")
        }
        let now = Date()
        let (settings, changed) = try fields.applied(to: record.settings, now: now)
        guard !changed.isEmpty else { return AdminJSON.response(AdminKeyView(record, now: now)) }
        let updated = try await keys.update(
            id: id, settings: settings, changed: changed, by: try actor(context), from: context.remoteAddress, now: now)
        return AdminJSON.response(AdminKeyView(updated, now: now))
    }

    @Sendable func rotateKey(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.keyID(context)
        let now = Date()
        do {
            let issued = try await keys.rotate(id: id, by: try actor(context), from: context.remoteAddress, now: now)
            return AdminJSON.response(IssuedKeyView(issued, now: now))
        } catch StoreError.notFound {
            throw Self.unknownKey(id)
        }
    }

    @Sendable func revokeKey(_ request: Request, context: Context) async throws -> Response {
        let id = try Self.keyID(context)
        let now = Date()
        do {
            let record = try await keys.revoke(id: id, by: try actor(context), from: context.remoteAddress, now: now)
            return AdminJSON.response(AdminKeyView(record, now: now))
        } catch StoreError.notFound {
            throw Self.unknownKey(id)
        }
    }

    /// The key id in the URL, percent-decoded; malformed escapes are the client's mistake.
    static func keyID(_ context: Context) throws -> String {
        let raw = try context.parameters.require("id")
        guard let id = raw.removingPercentEncoding, !id.isEmpty else {
            throw AdminAPIError.invalid("The key id in the URL is not valid percent-encoding: '\(raw.prefix(100))'.")
        }
        return id
    }

    static func unknownKey(_ id: String) -> AdminAPIError {
        .notFound("There is no API key with id '\(id.prefix(100))'.")
    }

    func actor(_ context: Context) throws -> AuditActor {
        guard let admin = context.admin else { throw AdminAPIError.authenticationRequired }
        return admin.auditActor
    }

    /// A boolean query item: absent, `true`/`1` or `false`/`0`.
    static func flag(_ request: Request, _ name: String) throws -> Bool {
        guard let value = request.uri.queryParameters.get(name) else { return false }
        switch value.lowercased() {
        case "", "true", "1": return true
        case "false", "0": return false
        default: throw AdminAPIError.invalid("'\(name)' must be true or false.")
        }
    }
}
