import Foundation
import Logging
import NIOCore

/// How log lines are written: the text line people read, or one JSON object a line for log shippers
/// (Loki, Vector, Fluent Bit, journald's JSON parsers…).
public enum LogFormat: String, Sendable, CaseIterable {
    case text
    case json
}

extension LogFormat {
    /// The process's log handler factory for this format: both write to standard error, one line an
    /// event, as swift-log's default handler does (standard output carries what scripts read: the
    /// `listening on` line, a new key).
    public func makeHandler(label: String) -> any LogHandler {
        switch self {
        case .text: StreamLogHandler.standardError(label: label)
        case .json: JSONLogHandler(label: label, output: JSONLogHandler.standardError)
        }
    }
}

extension LogFormat {
    /// A line written whatever the log level (`listening on …`, which scripts wait for), in this
    /// format: as it is, or as a JSON log record whose message it is.
    public func announcement(_ message: String, label: String) -> String {
        switch self {
        case .text: return message + "\n"
        case .json:
            let event = LogEvent(
                level: .notice, message: "\(message)", metadata: nil, source: label, file: #fileID, function: #function,
                line: #line)
            return JSONLogHandler(label: label, metadataProvider: nil) { _ in }.line(event, at: Date())
        }
    }
}

/// One JSON object a line, with the fields of swift-log's text line: `timestamp` (UTC, RFC 3339 with
/// milliseconds), `level`, `label`, `source`, `message`, and `metadata` as an object (nested values
/// as objects and arrays) when there is any. What is logged is the same in both formats, so what the
/// code keeps out of the text line (keys, passwords, prompts) stays out of this one too.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    let label: String
    let output: @Sendable (String) -> Void

    public init(label: String, metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider,
        output: @escaping @Sendable (String) -> Void)
    {
        self.label = label
        self.metadataProvider = metadataProvider
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        output(line(event, at: Date()))
    }

    /// The line for `event` (with its newline).
    func line(_ event: LogEvent, at date: Date) -> String {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let explicit = event.metadata { merged.merge(explicit) { _, new in new } }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        // JSONWire's writer escapes every control character: a message with a newline can never
        // split the line or forge another.
        var writer = JSONBufferWriter(capacity: 256)
        writer.open()
        writer.field("timestamp", Self.timestamp(date))
        writer.field("level", event.level.rawValue)
        writer.field("label", label)
        writer.field("source", event.source)
        writer.field("message", event.message.description)
        if !merged.isEmpty {
            writer.key("metadata")
            Self.write(.dictionary(merged), to: &writer)
        }
        writer.close()
        return String(buffer: writer.buffer) + "\n"
    }

    static func write(_ value: Logger.Metadata.Value, to writer: inout JSONBufferWriter) {
        switch value {
        case .string(let string): writer.string(string)
        case .stringConvertible(let convertible): writer.string(convertible.description)
        case .array(let values):
            writer.openArray()
            for element in values {
                writer.separate()
                write(element, to: &writer)
            }
            writer.closeArray()
        case .dictionary(let dictionary):
            writer.open()
            // Sorted, as in the text line: the same event always gives the same line.
            for (key, element) in dictionary.sorted(by: { $0.key < $1.key }) {
                writer.key(key)
                write(element, to: &writer)
            }
            writer.close()
        }
    }

    static func timestamp(_ date: Date) -> String {
        timestampStyle.format(date)
    }

    /// `2026-12-06T08:14:07.123Z`
    static let timestampStyle = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// Whole lines in one `write(2)` each: lines from several threads never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        FileHandle.standardError.write(Data(line.utf8))
    }
}
