import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

/// JSON as the admin API writes and reads it: times as RFC 3339 strings in UTC with milliseconds.
public enum AdminJSON {
    /// Largest request body an admin route reads.
    static let maxBodyBytes = 256 * 1024

    public static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(Timestamps.format(date))
        }
        return encoder
    }

    static func encode(_ value: some Encodable) -> ByteBuffer {
        do {
            return ByteBuffer(data: try encoder().encode(value))
        } catch {
            preconditionFailure("an admin response type failed to encode: \(error)")
        }
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: encode(value)))
    }

    /// Reads a JSON body; a request that sends a body must say it is JSON, which a cross-site HTML form
    /// cannot do.
    /// - Parameter fields: the member names the body may have; others are refused, so that a misspelt
    ///   limit is not silently ignored.
    static func decode<Value: Decodable>(_ type: Value.Type, from request: Request, fields: Set<String>) async throws
        -> Value
    {
        var request = request
        let body = try await request.collectBody(upTo: maxBodyBytes)
        guard body.readableBytes > 0 else { throw AdminAPIError.invalid("The request needs a JSON body.") }
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw AdminAPIError(
                .unsupportedMediaType, type: "invalid_request", "Admin requests with a body must be Content-Type: application/json.")
        }
        do {
            guard case .object(let members) = try JSONDecoder().decode(JSONValue.self, from: body) else {
                throw AdminAPIError.invalid("The request body must be a JSON object.")
            }
            if let unknown = members.keys.sorted().first(where: { !fields.contains($0) }) {
                throw AdminAPIError.invalid(
                    "Unknown field '\(unknown.prefix(100))'; expected \(fields.sorted().joined(separator: ", ")).")
            }
            return try JSONDecoder().decode(type, from: body)
        } catch let error as DecodingError {
            throw AdminAPIError.invalid(error.clientMessage)
        }
    }
}

/// RFC 3339 times for the admin API and the command line.
public enum Timestamps {
    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// RFC 3339 with or without fractional seconds, or Unix seconds; nil for anything else, and for a
    /// time outside the years 1 to 9999 (`StoredTimeRange`), which no stored row has and whose
    /// milliseconds could overflow.
    public static func parse(_ text: String) -> Date? {
        guard let date = parseAnyYear(text), StoredTimeRange.dates.contains(date) else { return nil }
        return date
    }

    private static func parseAnyYear(_ text: String) -> Date? {
        let text = text.trimmingCharacters(in: .whitespaces)
        if let seconds = Double(text), seconds.isFinite, text.allSatisfy({ $0.isNumber || $0 == "." }) {
            return Date(timeIntervalSince1970: seconds)
        }
        if let date = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text) { return date }
        return try? Date.ISO8601FormatStyle().parse(text)
    }

    /// A time query parameter of the admin API (`since`, `until`): absent or empty is nil, anything
    /// that is not a time in range is a 400 naming the parameter.
    static func queryParameter(_ name: String, in parameters: Parameters) throws -> Date? {
        guard let text = parameters.get(name), !text.isEmpty else { return nil }
        guard let date = parse(text) else {
            throw AdminAPIError.invalid(
                "'\(name)' must be an RFC 3339 time or Unix seconds, between the years 1 and 9999.")
        }
        return date
    }
}

/// Key lifetimes written as a number and a unit: `90s`, `15m`, `12h`, `30d`, `2w`.
public enum LifetimeText {
    public static func parse(_ text: String) -> Duration? {
        let text = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let unit = text.last, let amount = Int(text.dropLast()), amount > 0, amount <= 100_000 else { return nil }
        let seconds: Int
        switch unit {
        case "s": seconds = amount
        case "m": seconds = amount * 60
        case "h": seconds = amount * 3600
        case "d": seconds = amount * 86_400
        case "w": seconds = amount * 7 * 86_400
        default: return nil
        }
        return .seconds(seconds)
    }

    /// The expiry time of a key created at `now`: a lifetime (`30d`) or an RFC 3339 time.
    public static func expiry(_ text: String, now: Date) -> Date? {
        if let lifetime = parse(text) {
            return now.addingTimeInterval(TimeInterval(lifetime.components.seconds))
        }
        return Timestamps.parse(text).flatMap { Double(text) == nil ? $0 : nil }
    }
}
