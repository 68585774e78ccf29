import Hummingbird
import NIOCore
import Tracing

/// How long a stream may take: the request's overall deadline, the silence allowed from Ollama once
/// it has answered, and how often a silent stream sends its heartbeat.
struct StreamTiming: Sendable {
    /// The request's whole time, from the moment the route began (for the error message).
    var timeout: Duration
    var deadline: ContinuousClock.Instant
    var idle: Duration
    var heartbeat: Duration

    init(timeout: Duration, started: ContinuousClock.Instant, idle: Duration, heartbeat: Duration) {
        self.timeout = timeout
        self.deadline = started + timeout
        self.idle = idle
        self.heartbeat = heartbeat
    }
}

/// Relays one of Ollama's streamed answers to the client through an API surface's adapter.
///
/// The one place that times a stream (overall deadline, idle timeout, graceful-shutdown drain),
/// sends heartbeats while the model is silent, batches writes, accounts for the request on its
/// `RequestTicket`, and ends a failed stream with the adapter's failure event.
///
/// Batching: lines that arrive in one read go out in one write — a write per token would cost a
/// flush and a syscall each. The first output is written at once (time to first token); later
/// output is gathered up to `batchBytes` per write, so a large read never holds back what is ready.
///
/// One task does all the writing. The next upstream read, a single timer (deadline, idle, heartbeat:
/// whichever is due first), the client's departure and the shutdown drain race as child tasks of one
/// group; whichever finishes first is handled here. A client that leaves — its connection's input
/// closes (`ClientDepartureWatcher`), or a write to it fails — ends the group, which cancels the
/// upstream read and with it Ollama's request.
struct StreamRelay<Adapter: StreamAdapter>: Sendable {
    var adapter: Adapter
    let ticket: RequestTicket?
    let timing: StreamTiming
    /// The client's connection, watched for the client leaving; nil where there is none to watch.
    let client: (any Channel)?

    init(adapter: Adapter, context: GatewayRequestContext, timing: StreamTiming) {
        self.init(adapter: adapter, ticket: context.ticket, timing: timing, client: context.channel)
    }

    init(adapter: Adapter, ticket: RequestTicket?, timing: StreamTiming, client: (any Channel)?) {
        self.adapter = adapter
        self.ticket = ticket
        self.timing = timing
        self.client = client
    }

    /// How much relayed output is gathered into one write at most (a measured win over a write per read).
    static var batchBytes: Int { 16 * 1024 }

    /// The streamed response: status 200 with the adapter's headers. `open` starts Ollama's stream
    /// (or hands over one the route already started, to answer Ollama's quick refusals with their
    /// own status); heartbeats are sent while it is pending.
    func response<Upstream: AsyncSequence & Sendable>(
        _ open: @escaping @Sendable () async throws -> Upstream
    ) -> Response where Upstream.Element == [Adapter.Chunk] {
        let relay = self
        // The body is written after the handler returned, outside the request's task-local trace
        // context: it is carried over, so that Ollama's call made from here is the request's child.
        let traced = ticket?.span != nil ? ServiceContext.current : nil
        return Response.apiStream(headers: adapter.headers, ticket: ticket) { writer in
            guard let traced else { return try await relay.run(open, writer: &writer) }
            try await ServiceContext.withValue(traced) { try await relay.run(open, writer: &writer) }
        }
    }

    /// Writes the stream; a failure after the first byte becomes the adapter's failure event. Errors
    /// thrown from here mean the client went away.
    func run<Upstream: AsyncSequence & Sendable>(
        _ open: @escaping @Sendable () async throws -> Upstream, writer: inout any ResponseBodyWriter
    ) async throws where Upstream.Element == [Adapter.Chunk] {
        var adapter = adapter
        var output = ByteBuffer()
        adapter.opening(into: &output)
        if output.readableBytes > 0 {
            try await writer.write(output)
            output.clear()
        }
        /// What the adapter counted, for the ticket, whichever way the stream ends.
        func account(_ adapter: Adapter) {
            if let usage = adapter.usage { ticket?.setTokens(prompt: usage.prompt, completion: usage.completion) }
            ticket?.setFinishReason(adapter.finishReason)
        }
        do {
            try await pump(open, adapter: &adapter, writer: &writer)
            adapter.closing(into: &output)
            account(adapter)
            // Accounted before the last bytes go: a client that has the whole answer finds it in the
            // usage journal even if the gateway is killed the next instant.
            ticket?.finish(status: 200)
            if output.readableBytes > 0 { try await writer.write(output) }
        } catch let error as GatewayError {
            // After the first byte the status is sent: the failure travels as the last event.
            account(adapter)
            ticket?.finish(status: 200, error: error)
            var failure = ByteBuffer()
            adapter.failure(error, into: &failure)
            try await writer.write(failure)
        }
    }

    private enum Step: Sendable {
        case opened
        case lines([Adapter.Chunk]?)
        /// The timer of one arming: a timer armed before the current one is stale.
        case timer(Int)
        case drained
        case departed
    }

    /// Reads Ollama's stream to its end (or the adapter's), translating and writing as it goes.
    private func pump<Upstream: AsyncSequence & Sendable>(
        _ open: @escaping @Sendable () async throws -> Upstream, adapter: inout Adapter, writer: inout any ResponseBodyWriter
    ) async throws where Upstream.Element == [Adapter.Chunk] {
        if ShutdownDrain.current?.isExpired == true { throw ShutdownDrain.error }
        var departure: OneTimeSignal?
        if let client { departure = await ClientDepartureWatcher.signal(of: client) }
        if departure?.hasFired == true { throw CancellationError() }
        let reader = UpstreamReader(open: open)
        let timing = timing
        let clock = ContinuousClock()
        let heartbeat = adapter.heartbeat
        /// When the client last got something: heartbeats fill the silences after it.
        var lastOutput = clock.now
        /// When Ollama last sent something; nil until it has answered (a model may take long to
        /// load: only the overall deadline bounds that wait).
        var lastActivity: ContinuousClock.Instant?
        var flushAt = 1
        var output = ByteBuffer()

        func wake() -> ContinuousClock.Instant {
            var wake = timing.deadline
            if let lastActivity { wake = min(wake, lastActivity + timing.idle) }
            if heartbeat != nil { wake = min(wake, lastOutput + timing.heartbeat) }
            return wake
        }

        try await withThrowingTaskGroup(of: Step.self) { group in
            defer { group.cancelAll() }
            group.addTask {
                try await reader.open()
                return .opened
            }
            // Armed again when Ollama answers (the idle timeout starts then); the older timer is stale.
            var timerArming = 0
            let firstWake = wake()
            group.addTask { await Self.timer(until: firstWake, arming: 0) }
            if let departure {
                group.addTask {
                    await departure.wait()
                    return .departed
                }
            }
            if let drain = ShutdownDrain.current {
                // A graceful shutdown's drain deadline ends the stream like its own deadline would.
                group.addTask {
                    try await drain.waitForDeadline()
                    return .drained
                }
            }
            while let step = try await group.next() {
                switch step {
                case .opened:
                    lastActivity = clock.now
                    group.addTask { .lines(try await reader.next()) }
                    timerArming += 1
                    let (next, arming) = (wake(), timerArming)
                    group.addTask { await Self.timer(until: next, arming: arming) }
                case .lines(.none):
                    return
                case .lines(let chunks?):
                    lastActivity = clock.now
                    var next = chunks.startIndex
                    while next < chunks.endIndex {
                        next = translate(chunks, from: next, adapter: &adapter, into: &output, until: flushAt)
                        if output.readableBytes >= flushAt {
                            try await writer.write(output)
                            output.clear()
                            flushAt = Self.batchBytes
                            lastOutput = clock.now
                        }
                    }
                    if output.readableBytes > 0 {
                        try await writer.write(output)
                        output.clear()
                        flushAt = Self.batchBytes
                        lastOutput = clock.now
                    }
                    if adapter.isComplete { return }
                    group.addTask { .lines(try await reader.next()) }
                case .timer(let arming):
                    guard arming == timerArming else { continue }
                    let now = clock.now
                    if now >= timing.deadline {
                        throw GatewayError(
                            .timeout, "The request took longer than its deadline of \(timing.timeout.formattedMilliseconds).")
                    }
                    if let lastActivity, now - lastActivity >= timing.idle {
                        throw GatewayError(.timeout, "Ollama sent nothing for \(timing.idle.formattedMilliseconds).")
                    }
                    if let heartbeat, now - lastOutput >= timing.heartbeat {
                        try await writer.write(heartbeat)
                        lastOutput = clock.now
                    }
                    let next = wake()
                    group.addTask { await Self.timer(until: next, arming: arming) }
                case .drained:
                    throw ShutdownDrain.error
                case .departed:
                    // Not a failure to report: there is no one to report it to.
                    throw CancellationError()
                }
            }
        }
    }

    /// Translates `chunks` from `start` into `output` until it holds `flushAt` bytes or the adapter is
    /// complete; returns the index of the first chunk left (the end when none is).
    ///
    /// Synchronous and never inlined into `pump`: inlined, the translators' temporaries became part
    /// of the relay's async frame, which every open stream holds for as long as it lasts (7 KB of
    /// frame for the chat route then, 1.9 KB now).
    @inline(never)
    private func translate(
        _ chunks: [Adapter.Chunk], from start: Int, adapter: inout Adapter, into output: inout ByteBuffer, until flushAt: Int
    ) -> Int {
        var index = start
        while index < chunks.endIndex {
            let before = output.readableBytes
            let produced = adapter.translate(chunks[index], into: &output)
            index += 1
            if output.readableBytes > before { ticket?.markFirstToken() }
            for _ in 0..<produced { ticket?.noteProduced() }
            if adapter.isComplete { return chunks.endIndex }
            if output.readableBytes >= flushAt { break }
        }
        return index
    }

    /// Sleeps until `wake`; a cancelled timer ends quietly (the group is ending).
    private static func timer(until wake: ContinuousClock.Instant, arming: Int) async -> Step {
        try? await EventLoopTimer.sleep(until: wake)
        return .timer(arming)
    }
}

/// Ollama's stream, opened and then read by one child task at a time (the next read starts only
/// after the previous one has been handled), so its iterator can move between tasks.
private final class UpstreamReader<Upstream: AsyncSequence & Sendable>: @unchecked Sendable {
    private let openUpstream: @Sendable () async throws -> Upstream
    private var iterator: Upstream.AsyncIterator?

    init(open: @escaping @Sendable () async throws -> Upstream) {
        self.openUpstream = open
    }

    func open() async throws {
        iterator = try await openUpstream().makeAsyncIterator()
    }

    func next() async throws -> Upstream.Element? {
        try await iterator?.next()
    }
}
