import Foundation

public enum UsageExportFormat: String, Sendable, Hashable, Codable {
    /// RFC 4180, a header line, times in ISO 8601 UTC with milliseconds.
    case csv
    /// One JSON array of log entries (the same objects as the log API).
    case json

    public var contentType: String {
        switch self {
        case .csv: "text/csv; charset=utf-8"
        case .json: "application/json"
        }
    }
}

/// The log rows a query selects, newest first, as text chunks of one page each: read page by page with
/// the log's keyset, so an export of a million rows holds one page in memory, and a slow reader slows
/// the reading (nothing is fetched before it is asked for).
public struct UsageExport: AsyncSequence, Sendable {
    public typealias Element = String

    let repository: UsageRepository
    let query: UsageLogQuery
    let format: UsageExportFormat

    public func makeAsyncIterator() -> Iterator {
        Iterator(repository: repository, query: query, format: format)
    }

    public struct Iterator: AsyncIteratorProtocol {
        enum Stage {
            case start
            case rows
            case end
            case done
        }

        let repository: UsageRepository
        var query: UsageLogQuery
        let format: UsageExportFormat
        var stage = Stage.start
        var wroteEntry = false
        let encoder: JSONEncoder

        init(repository: UsageRepository, query: UsageLogQuery, format: UsageExportFormat) {
            self.repository = repository
            self.query = query
            self.format = format
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            encoder.dateEncodingStrategy = .custom { date, encoder in
                var container = encoder.singleValueContainer()
                try container.encode(UsageCSV.timestamp(date))
            }
            self.encoder = encoder
        }

        public mutating func next() async throws -> String? {
            switch stage {
            case .done:
                return nil
            case .end:
                stage = .done
                return format == .json ? (wroteEntry ? "\n]\n" : "]\n") : nil
            case .start, .rows:
                let opening = stage == .start
                stage = .rows
                let page = try await repository.log(query)
                query.after = page.next
                if page.next == nil { stage = .end }
                var chunk = ""
                switch format {
                case .csv:
                    if opening { chunk = UsageCSV.header }
                    for entry in page.entries { chunk += UsageCSV.line(entry) }
                case .json:
                    if opening { chunk = "[" }
                    for entry in page.entries {
                        chunk += wroteEntry ? ",\n" : "\n"
                        chunk += String(decoding: try encoder.encode(entry), as: UTF8.self)
                        wroteEntry = true
                    }
                }
                if chunk.isEmpty { return try await next() }
                return chunk
            }
        }
    }
}

extension UsageRepository {
    /// Every log row the query selects (its `after` is where the export starts; `limit` is the page size
    /// of each read, default 1,000), as CSV or JSON text chunks.
    public func export(_ query: UsageLogQuery, format: UsageExportFormat, pageSize: Int = 1000) -> UsageExport {
        var query = query
        query.limit = min(max(1, pageSize), Self.maximumPageSize)
        return UsageExport(repository: self, query: query, format: format)
    }
}

/// CSV rendering of log entries.
enum UsageCSV {
    static let columns = [
        "id", "time", "request_id", "key_id", "model_requested", "model_resolved", "endpoint", "streamed",
        "status", "error_type", "prompt_tokens", "completion_tokens", "cancelled", "latency_ms",
        "time_to_first_token_ms", "tokens_per_second", "client_address", "user_agent", "backend",
    ]
    static let header = columns.joined(separator: ",") + "\r\n"

    static func line(_ entry: UsageLogEntry) -> String {
        let record = entry.record
        let cells: [String] = [
            String(entry.id), timestamp(record.time), text(record.requestID), text(record.keyID),
            text(record.modelRequested), text(record.modelResolved), text(record.endpoint),
            record.streamed ? "true" : "false", String(record.status), text(record.errorType),
            String(record.promptTokens), String(record.completionTokens), record.cancelled ? "true" : "false",
            number(record.latencyMs), record.timeToFirstTokenMs.map(number) ?? "",
            record.tokensPerSecond.map(number) ?? "", text(record.clientAddress), text(record.userAgent),
            text(record.backend),
        ]
        return cells.joined(separator: ",") + "\r\n"
    }

    /// A text cell: quoted when it holds a separator, quote or line break; and, because model names and
    /// user agents come from clients, a leading `=`, `+`, `-`, `@`, tab or carriage return is prefixed
    /// with `'` so that a spreadsheet never evaluates it as a formula.
    static func text(_ value: String?) -> String {
        guard var value, !value.isEmpty else { return "" }
        if let first = value.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) {
            value = "'" + value
        }
        if value.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) {
            return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        }
        return value
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : String(value)
    }

    /// `2027-01-15T08:00:00.123Z`
    static func timestamp(_ date: Date) -> String {
        let ms = Timestamp.milliseconds(date)
        let seconds = RollupTable.floor(ms, to: 1000) / 1000
        let millis = Int(ms - seconds * 1000)
        let days = RollupTable.floor(seconds, to: 86_400) / 86_400
        let secondOfDay = Int(seconds - days * 86_400)
        let (year, month, day) = civilDate(daysSinceEpoch: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(secondOfDay / 3600, 2)):"
            + "\(pad(secondOfDay / 60 % 60, 2)):\(pad(secondOfDay % 60, 2)).\(pad(millis, 3))Z"
    }

    /// Proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's days-from-civil inverse).
    static func civilDate(daysSinceEpoch: Int64) -> (year: Int, month: Int, day: Int) {
        let z = daysSinceEpoch + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPart = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPart + 2) / 5 + 1
        let month = monthPart < 10 ? monthPart + 3 : monthPart - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (Int(year), Int(month), Int(day))
    }
}
