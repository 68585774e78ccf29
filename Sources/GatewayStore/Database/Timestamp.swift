import Foundation

/// Times are stored as milliseconds since the Unix epoch (BIGINT) on both engines.
enum Timestamp {
    static func milliseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    static func date(_ milliseconds: Int64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(milliseconds) / 1000)
    }

    static func now() -> Int64 { milliseconds(Date()) }
}
