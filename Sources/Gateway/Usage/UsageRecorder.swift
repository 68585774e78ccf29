import Foundation
import GatewayStore
import Logging
import ServiceLifecycle
import Synchronization

/// Takes finished requests off the hot path: a bounded queue that a service drains in batches into
/// the database (key counters, shared rate windows). A clean shutdown flushes the queue; anything
/// dropped because the queue was full is counted and logged.
///
/// Batches go out every 100 ms: small batches keep each write short, and while a write runs it
/// takes a core from the requests (with 500 ms batches the gateway's p99 at concurrency 1 was
/// 3.6–4.0 ms against 2.5–2.7 ms, and its worst request twice as slow; the same CPU in all).
public final class UsageRecorder: UsageSink, Service {
    struct Queue {
        /// Finished requests as they will be stored, with the id of the key that made each.
        var records: [(UsageRecord, keyID: String?)] = []
        var dropped = 0
    }

    let store: GatewayStore
    let limiter: KeyLimiter
    let authenticator: APIKeyAuthenticator
    let metrics: GatewayMetrics
    let capacity: Int
    let batchInterval: Duration
    let logger: Logger
    /// Each record on disk until its batch is in the database (see `UsageJournal`); nil: memory only.
    let journal: UsageJournal?
    private let queue = Mutex(Queue())

    init(
        store: GatewayStore, limiter: KeyLimiter, authenticator: APIKeyAuthenticator, metrics: GatewayMetrics,
        capacity: Int = 50_000, batchInterval: Duration = .milliseconds(100), journal: UsageJournal? = nil, logger: Logger
    ) {
        self.journal = journal
        self.store = store
        self.limiter = limiter
        self.authenticator = authenticator
        self.metrics = metrics
        self.capacity = capacity
        self.batchInterval = batchInterval
        self.logger = logger
    }

    /// Events waiting to be written, and how many were dropped since start.
    public var depth: (queued: Int, dropped: Int) {
        queue.withLock { ($0.records.count, $0.dropped) }
    }

    public func streamStarted() {
        metrics.streamStarted()
    }

    public func requestFinished(_ event: UsageEvent, key: AuthenticatedKey?) {
        metrics.record(event)
        // One line per request; never the key, a prompt or an image. Its fields are written into the
        // message, in a fixed order: as metadata they cost a dictionary, a sort and a string each,
        // which made this line a sixth of the CPU a request takes.
        if logger.logLevel <= .info { logger.info("\(Self.logLine(event))") }
        if let key {
            limiter.finish(key, tokens: event.totalTokens)
            authenticator.noteTokens(event.totalTokens, forKey: key.id)
        }
        let record = UsageRecord(event)
        let accepted = queue.withLock { queue in
            guard queue.records.count < capacity else {
                queue.dropped += 1
                return false
            }
            queue.records.append((record, key?.id))
            return true
        }
        guard accepted else {
            logger.warning("usage queue full: a usage record was dropped", metadata: ["request.id": "\(event.requestID)"])
            return
        }
        // After the queue: a batch taken meanwhile has this record, and the segment it lands in is
        // removed only with a later batch (a replay skips what the database has). Before the
        // response ends: the ticket is finished before its last byte is sent.
        journal?.append(record)
    }

    /// `request id=… key=… model=… route=… status=… duration_ms=… tokens_in=… tokens_out=… stream=… cancelled=…`
    static func logLine(_ event: UsageEvent) -> String {
        let (seconds, attoseconds) = event.latency.components
        var line = "request id="
        line.reserveCapacity(200)
        line += event.requestID
        line += " key="
        line += event.keyID ?? "-"
        line += " model="
        line += event.modelRequested ?? "-"
        line += " route="
        line += event.endpoint
        line += " status="
        line += String(event.status)
        line += " duration_ms="
        line += String(seconds * 1000 + attoseconds / 1_000_000_000_000_000)
        line += " tokens_in="
        line += String(event.promptTokens)
        line += " tokens_out="
        line += String(event.completionTokens)
        line += event.streamed ? " stream=true" : " stream=false"
        line += event.cancelled ? " cancelled=true" : " cancelled=false"
        return line
    }

    public func run() async throws {
        defer { stopped.fire() }
        // Drain until shutdown is requested, then once more: requests that finished meanwhile are kept.
        await PeriodicWork.run(every: batchInterval) { await self.flush() }
        await flush()
        journal?.finish()
    }

    /// Returns once `run` has written its last batch. A graceful shutdown stops the recorder before
    /// the database anyway; this orders them also when the service group is cancelled, which stops
    /// every service at once.
    public func waitUntilStopped() async {
        await stopped.wait()
    }

    private let stopped = OneTimeSignal()

    /// Writes what is queued now.
    public func flush() async {
        let batch = queue.withLock { queue in
            defer { queue.records.removeAll(keepingCapacity: true) }
            // The journal's sealed segments then hold every record of the batch.
            if !queue.records.isEmpty { journal?.seal() }
            return queue.records
        }
        guard !batch.isEmpty else { return }
        do {
            try await store.usage.insert(batch.map(\.0))
            journal?.sealedAreStored()
        } catch {
            // Put the batch back (within the queue's bound) so a database hiccup loses nothing.
            let requeued = queue.withLock { queue in
                let room = max(0, capacity - queue.records.count)
                queue.records.insert(contentsOf: batch.prefix(room), at: 0)
                queue.dropped += batch.count - min(room, batch.count)
                return min(room, batch.count)
            }
            logger.error(
                "could not write usage records; will retry",
                metadata: ["error": "\(error)", "usage.requeued": "\(requeued)"])
            return
        }
        let uses = batch.map { (keyID: $0.keyID, tokens: $0.0.promptTokens + $0.0.completionTokens, time: $0.0.time) }
        for (keyID, use) in Self.keyUse(uses) {
            do {
                try await store.apiKeys.recordUse(id: keyID, tokens: use.tokens, at: use.last)
                authenticator.noteTokensStored(use.tokens, forKey: keyID)
                if let shared = limiter.shared, use.tokens > 0 {
                    _ = try await shared.add(keyID: keyID, requests: 0, tokens: use.tokens, at: use.last)
                }
            } catch {
                logger.error("could not record key usage", metadata: ["key.id": "\(keyID)", "error": "\(error)"])
            }
        }
    }
}

extension UsageRecorder {
    /// The tokens and the last use of each key in a batch, for the keys' stored counters.
    static func keyUse(_ uses: [(keyID: String?, tokens: Int, time: Date)]) -> [String: (tokens: Int, last: Date)] {
        var perKey: [String: (tokens: Int, last: Date)] = [:]
        for use in uses {
            guard let keyID = use.keyID else { continue }
            let previous = perKey[keyID]
            perKey[keyID] = ((previous?.tokens ?? 0) + use.tokens, max(previous?.last ?? use.time, use.time))
        }
        return perKey
    }
}

extension UsageRecord {
    init(_ event: UsageEvent) {
        func milliseconds(_ duration: Duration) -> Double {
            Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        }
        self.init(
            time: event.time, requestID: event.requestID, keyID: event.keyID, modelRequested: event.modelRequested,
            modelResolved: event.modelResolved, endpoint: event.endpoint, streamed: event.streamed, status: event.status,
            errorType: event.errorType, promptTokens: event.promptTokens, completionTokens: event.completionTokens,
            cancelled: event.cancelled, latencyMs: milliseconds(event.latency),
            timeToFirstTokenMs: event.timeToFirstToken.map(milliseconds), tokensPerSecond: event.tokensPerSecond,
            clientAddress: event.clientAddress, userAgent: event.userAgent, backend: event.backend)
    }
}
