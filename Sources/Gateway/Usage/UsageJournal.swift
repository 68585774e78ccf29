import Foundation
import GatewayStore
import Logging
import NIOCore
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Every finished request's usage record, on local disk before its response ends, until the
/// database has it: the usage recorder writes to the database in batches, and a gateway killed
/// without warning (SIGKILL, the OOM killer, a crashed host process) would lose the batch it was
/// holding. The page cache outlives the process, so one `write(2)` per request is enough; a power
/// cut is not covered (that would take an fsync per request).
///
/// Records go to the current *segment* (`<DATA_DIR>/usage-journal/<uuid>.jsonl`, one JSON line each).
/// When the recorder takes a batch it *seals* the segment and starts a new one; once the batch is in
/// the database the sealed segments are removed. A segment is held with `flock` while its process
/// lives, so the next start (of this instance, or of another sharing the directory) replays only
/// the segments of a process that is gone, skipping records the database already has.
final class UsageJournal: Sendable {
    private struct State {
        var descriptor: Int32
        var path: String
        /// Sealed segments whose records are not known to be in the database yet.
        var sealed: [String] = []
    }

    static let directoryName = "usage-journal"
    static let segmentExtension = "jsonl"

    let directory: String
    private let state: Mutex<State>
    private let logger: Logger

    /// Opens a first segment; nil (with a warning) when the directory cannot be written: the gateway
    /// then runs as before, with usage in memory until each batch is written.
    init?(dataDirectory: String, logger: Logger) {
        directory = (dataDirectory as NSString).appendingPathComponent(Self.directoryName)
        self.logger = logger
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let (descriptor, path) = try Self.openSegment(in: directory)
            state = Mutex(State(descriptor: descriptor, path: path))
        } catch {
            logger.warning(
                "usage journal disabled: usage waiting for the database is lost if the gateway is killed",
                metadata: ["directory": "\(directory)", "error": "\(error)"])
            return nil
        }
    }

    deinit {
        finish()
    }

    /// Closes the current segment, and removes it when it holds nothing (after the recorder's last
    /// batch): a clean stop leaves no file behind.
    func finish() {
        state.withLock { state in
            guard state.descriptor >= 0 else { return }
            close(state.descriptor)
            state.descriptor = -1
            if state.sealed.isEmpty, Self.isEmpty(state.path) { unlink(state.path) }
        }
    }

    /// Adds one record to the current segment: one `write(2)` of one line (an `O_APPEND` write of a
    /// few hundred bytes is never interleaved with another).
    func append(_ record: UsageRecord) {
        var line = Self.line(record)
        let failure: Int32? = state.withLock { state in
            guard state.descriptor >= 0 else { return EBADF }
            return line.withUnsafeReadableBytes { bytes in
                var offset = 0
                while offset < bytes.count {
                    let written = write(state.descriptor, bytes.baseAddress! + offset, bytes.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    offset += written
                }
                return nil
            }
        }
        if let failure {
            logger.warning("could not write to the usage journal", metadata: ["errno": "\(failure)"])
        }
        line.clear()
    }

    /// Starts a new segment; the records appended so far are in the sealed ones. Called with the
    /// recorder's queue locked, so that a batch and the sealed segments hold the same records.
    func seal() {
        state.withLock { state in
            guard state.descriptor >= 0, let (descriptor, path) = try? Self.openSegment(in: directory) else { return }
            close(state.descriptor)
            state.sealed.append(state.path)
            state.descriptor = descriptor
            state.path = path
        }
    }

    /// The records of every sealed segment are in the database: they are removed.
    func sealedAreStored() {
        let paths = state.withLock { state in
            defer { state.sealed.removeAll() }
            return state.sealed
        }
        for path in paths { unlink(path) }
    }

    // MARK: - Segments

    private static func openSegment(in directory: String) throws -> (Int32, String) {
        let path = (directory as NSString).appendingPathComponent("\(UUID().uuidString.lowercased()).\(segmentExtension)")
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw JournalError("cannot create \(path): errno \(errno)") }
        // Held while this process lives; the kernel lets it go when the process dies, however it dies.
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw JournalError("cannot lock \(path): errno \(errno)")
        }
        return (descriptor, path)
    }

    private static func isEmpty(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && info.st_size == 0
    }

    struct JournalError: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    // MARK: - The line

    /// The record as one JSON line, with the keys of `UsageRecord`'s Codable form and the time in
    /// milliseconds since 1970. Written by hand: JSONEncoder would cost more than the rest of the
    /// recording together.
    static func line(_ record: UsageRecord) -> ByteBuffer {
        var writer = JSONBufferWriter(capacity: 512)
        writer.open()
        writer.key("time")
        writer.literal(String(record.time.timeIntervalSince1970 * 1000))
        writer.field("request_id", record.requestID)
        writer.fieldIfPresent("key_id", record.keyID)
        writer.fieldIfPresent("model_requested", record.modelRequested)
        writer.fieldIfPresent("model_resolved", record.modelResolved)
        writer.field("endpoint", record.endpoint)
        writer.key("streamed")
        writer.literal(record.streamed ? "true" : "false")
        writer.field("status", record.status)
        writer.fieldIfPresent("error_type", record.errorType)
        writer.field("prompt_tokens", record.promptTokens)
        writer.field("completion_tokens", record.completionTokens)
        writer.key("cancelled")
        writer.literal(record.cancelled ? "true" : "false")
        writer.key("latency_ms")
        writer.literal(String(record.latencyMs))
        if let ttft = record.timeToFirstTokenMs {
            writer.key("time_to_first_token_ms")
            writer.literal(String(ttft))
        }
        if let rate = record.tokensPerSecond {
            writer.key("tokens_per_second")
            writer.literal(String(rate))
        }
        writer.fieldIfPresent("client_address", record.clientAddress)
        writer.fieldIfPresent("user_agent", record.userAgent)
        writer.fieldIfPresent("backend", record.backend)
        writer.close()
        var buffer = writer.buffer
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// The records of a segment; a line cut short by the kill (the last one) is skipped.
    static func records(in data: Data) -> [UsageRecord] {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return data.split(separator: UInt8(ascii: "\n")).compactMap { line in
            try? decoder.decode(UsageRecord.self, from: Data(line))
        }
    }

    // MARK: - Recovery

    /// Writes the records of segments left by a process that is gone into the database (those it
    /// already has are skipped, by request id) with their keys' token counts, then removes
    /// the segments. Returns how many records were recovered.
    @discardableResult
    static func recover(dataDirectory: String, store: GatewayStore, logger: Logger) async throws -> Int {
        let directory = (dataDirectory as NSString).appendingPathComponent(directoryName)
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var recovered = 0
        for name in names.sorted() where name.hasSuffix(".\(segmentExtension)") {
            let path = (directory as NSString).appendingPathComponent(name)
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { continue }
            defer { close(descriptor) }
            // A live process holds its segments: they are its own to write.
            guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { continue }
            let records = records(in: FileHandle(fileDescriptor: descriptor, closeOnDealloc: false).readDataToEndOfFile())
            if !records.isEmpty {
                let stored = try await store.usage.storedRequestIDs(records.map(\.requestID))
                let missing = records.filter { !stored.contains($0.requestID) }
                if !missing.isEmpty {
                    try await store.usage.insert(missing)
                    let uses = missing.map { (keyID: $0.keyID, tokens: $0.promptTokens + $0.completionTokens, time: $0.time) }
                    for (keyID, use) in UsageRecorder.keyUse(uses) {
                        try await store.apiKeys.recordUse(id: keyID, tokens: use.tokens, at: use.last)
                    }
                    recovered += missing.count
                }
            }
            unlink(path)
        }
        if recovered > 0 {
            logger.notice(
                "recovered usage records of requests a stopped gateway had not written to the database",
                metadata: ["usage.recovered": "\(recovered)"])
        }
        return recovered
    }
}
