import Foundation
import GatewayAPI
import SQLKit

/// Column readers with one behaviour on both engines (SQLite has no boolean or date type; PostgreSQL
/// would hand back timestamps, which the store does not use).
extension SQLRow {
    func string(_ column: String) throws -> String {
        try decode(column: column, as: String.self)
    }

    func optionalString(_ column: String) throws -> String? {
        try decodeNil(column: column) ? nil : decode(column: column, as: String.self)
    }

    func int(_ column: String) throws -> Int {
        Int(try decode(column: column, as: Int64.self))
    }

    func optionalInt(_ column: String) throws -> Int? {
        try decodeNil(column: column) ? nil : int(column)
    }

    func bool(_ column: String) throws -> Bool {
        try decode(column: column, as: Bool.self)
    }

    func date(_ column: String) throws -> Date {
        Timestamp.date(try decode(column: column, as: Int64.self))
    }

    func optionalDate(_ column: String) throws -> Date? {
        try decodeNil(column: column) ? nil : date(column)
    }

    /// A TEXT column holding JSON.
    func json<T: Decodable>(_ column: String, as type: T.Type) throws -> T {
        let text = try string(column)
        do {
            return try JSONDecoder().decode(T.self, from: Data(text.utf8))
        } catch {
            throw StoreError.corruptRow("column \(column) does not hold the expected JSON: \(error)")
        }
    }

    func optionalJSON<T: Decodable>(_ column: String, as type: T.Type) throws -> T? {
        try decodeNil(column: column) ? nil : json(column, as: type)
    }
}

/// JSON for TEXT columns: sorted keys so that equal values store equal text.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension Optional where Wrapped == Date {
    var milliseconds: Int64? { map(Timestamp.milliseconds) }
}
