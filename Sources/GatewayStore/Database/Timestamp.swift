import Foundation

/// Times are stored as milliseconds since the Unix epoch (BIGINT) on both engines.
enum Timestamp {
    /// The milliseconds of ``StoredTimeRange``.
    static let supported: ClosedRange<Int64> = -62_135_596_800_000...253_402_300_799_999

    /// Saturating: a `Date` beyond Int64 milliseconds (only a caller's mistake can make one) gives
    /// the nearest bound rather than trapping in the conversion.
    static func milliseconds(_ date: Date) -> Int64 {
        let value = (date.timeIntervalSince1970 * 1000).rounded(.down)
        if value.isNaN { return 0 }
        if value >= 9_223_372_036_854_775_808.0 { return .max }
        if value < -9_223_372_036_854_775_808.0 { return .min }
        return Int64(value)
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }

    /// The time of a cursor token's milliseconds, when it is within ``supported``.
    static func date(token text: Substring) -> Date? {
        guard let milliseconds = Int64(text), supported.contains(milliseconds) else { return nil }
        return date(milliseconds)
    }

    static func now() -> Int64 { milliseconds(Date()) }
}

/// The times the store accepts in queries: the years 1 to 9999, the span RFC 3339 can write.
public enum StoredTimeRange {
    public static let dates: ClosedRange<Date> =
        Timestamp.date(Timestamp.supported.lowerBound)...Timestamp.date(Timestamp.supported.upperBound)
}
