import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOHTTPTypesHTTP1

/// How long a client connection may take at each stage, outside the time a response is being written
/// (a stream may run as long as its own deadlines allow).
struct ConnectionTimeouts: Sendable {
    var idle: TimeAmount
    var header: TimeAmount
    var body: TimeAmount
    /// Once a graceful shutdown begins, reading a request lasts at most this long more.
    var drain: TimeAmount

    init(_ limits: ServerLimits) {
        idle = TimeAmount(limits.idleTimeout)
        header = TimeAmount(limits.headerTimeout)
        body = TimeAmount(limits.bodyTimeout)
        drain = TimeAmount(limits.shutdownDrainTimeout)
    }
}

/// Where a connection stands, and so when it must be closed if nothing changes. Kept apart from the
/// channel handler so that the rules can be tested without sockets.
struct ConnectionClock {
    let timeouts: ConnectionTimeouts
    private(set) var requestsInProgress = 0
    private(set) var readingBody = false
    private var idleSince: NIODeadline
    private var headStarted: NIODeadline?
    private var bodyStarted: NIODeadline = .distantPast
    private var shutdownDeadline: NIODeadline?

    init(timeouts: ConnectionTimeouts, now: NIODeadline) {
        self.timeouts = timeouts
        self.idleSince = now
    }

    /// Bytes arrived: unless they belong to a body, a request's head has begun.
    mutating func bytesArrived(now: NIODeadline) {
        if !readingBody, headStarted == nil { headStarted = now }
    }

    mutating func headRead(now: NIODeadline) {
        headStarted = nil
        readingBody = true
        bodyStarted = now
        requestsInProgress += 1
    }

    mutating func endRead() {
        readingBody = false
    }

    mutating func responseEnded(now: NIODeadline) {
        requestsInProgress = max(0, requestsInProgress - 1)
        idleSince = now
    }

    /// The server is shutting down: a body still being read has the drain deadline at most (the
    /// responses being written have theirs through `ShutdownDrain`).
    mutating func shutdownBegan(now: NIODeadline) {
        if shutdownDeadline == nil { shutdownDeadline = now + timeouts.drain }
    }

    /// When the connection is to be closed; nil while a response is being produced and no body is read.
    var deadline: NIODeadline? {
        if readingBody { return min(bodyStarted + timeouts.body, shutdownDeadline ?? .distantFuture) }
        if requestsInProgress > 0 { return nil }
        // A head sent before the previous response ended (pipelining) is timed from that end.
        if let headStarted { return max(headStarted, idleSince) + timeouts.header }
        return idleSince + timeouts.idle
    }

    /// What the timeout that passed was for, for the log.
    var stage: String {
        readingBody ? "body" : headStarted != nil ? "header" : "idle"
    }
}

/// First in a connection's pipeline: tells the `HTTPConnectionGuard` that bytes arrived, before the
/// HTTP decoder has made anything of them (a head that trickles in produces nothing until complete).
final class InboundBytesWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    weak var connectionGuard: HTTPConnectionGuard?

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connectionGuard?.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// Closes client connections that idle, send their head or body too slowly, and answers malformed
/// HTTP framing (a bad chunk size, an unsupported `Transfer-Encoding`, bad bytes in the request line
/// or headers) with a 400 in JSON before closing, where the server would otherwise send an empty 400
/// or nothing. Sits after the HTTP codec.
final class HTTPConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeouts: ConnectionTimeouts
    private let logger: Logger
    private var clock: ConnectionClock
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var timerDeadline: NIODeadline?
    /// The request being read, for the format of a framing error.
    private var surface: APISurface?
    /// A response head went out and its end has not.
    private var responding = false
    /// After a framing error: the connection is done, nothing more goes in or out.
    private var failed = false

    init(timeouts: ConnectionTimeouts, logger: Logger) {
        self.timeouts = timeouts
        self.logger = logger
        self.clock = ConnectionClock(timeouts: timeouts, now: .now())
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        (try? context.pipeline.syncOperations.handler(type: InboundBytesWatcher.self))?.connectionGuard = self
        clock = ConnectionClock(timeouts: timeouts, now: .now())
        reschedule()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            clock.shutdownBegan(now: .now())
            reschedule()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func bytesArrived() {
        clock.bytesArrived(now: .now())
        reschedule()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            clock.headRead(now: .now())
            surface = APISurface(path: head.path ?? "/", headers: head.headerFields)
        case .body:
            break
        case .end:
            clock.endRead()
        }
        reschedule()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !failed else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(let head) where head.status.kind != .informational:
            responding = true
        case .head, .body:
            break
        case .end:
            responding = false
            clock.responseEnded(now: .now())
            reschedule()
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard error is HTTPParserError || error is HTTP1TypeConversionError else {
            context.fireErrorCaught(error)
            return
        }
        if !failed {
            failed = true
            logger.debug("malformed HTTP request, closing the connection", metadata: ["error": "\(error)"])
            if !responding {
                let payload = (surface ?? .openAI).payload(for: GatewayError.invalid(
                    "The request's HTTP framing is malformed (\(Self.describe(error))); the connection is closed."))
                var head = HTTPResponse(status: payload.status)
                head.headerFields[.contentType] = "application/json"
                head.headerFields[.contentLength] = String(payload.body.readableBytes)
                head.headerFields[.connection] = "close"
                context.write(wrapOutboundOut(.head(head)), promise: nil)
                context.write(wrapOutboundOut(.body(payload.body)), promise: nil)
                context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
                    context.close(promise: nil)
                }
            } else {
                context.close(promise: nil)
            }
        }
        // The route reading the body learns of it too, and stops.
        context.fireErrorCaught(error)
    }

    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPParserError {
            switch error {
            case .invalidChunkSize: return "invalid chunk size"
            case .invalidContentLength, .unexpectedContentLength: return "invalid or conflicting Content-Length"
            case .invalidHeaderToken, .headerOverflow, .invalidCharactersUsed: return "invalid header"
            case .invalidURL, .invalidPath, .invalidQueryString, .invalidFragment, .invalidHost: return "invalid request target"
            case .invalidMethod: return "invalid method"
            default: return "malformed framing"
            }
        }
        return "invalid request head"
    }

    /// Arms the timer for the clock's deadline, unless it is armed for that moment already.
    private func reschedule() {
        guard let context else { return }
        let deadline = clock.deadline
        guard deadline != timerDeadline else { return }
        timer?.cancel()
        timerDeadline = deadline
        guard let deadline else {
            timer = nil
            return
        }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] in
            self?.timerFired()
        }
    }

    private func timerFired() {
        timer = nil
        timerDeadline = nil
        guard let context, !failed else { return }
        if let deadline = clock.deadline, deadline <= .now() {
            logger.debug("closing a client connection", metadata: ["timeout": "\(clock.stage)"])
            context.close(promise: nil)
        } else {
            reschedule()
        }
    }
}

@available(*, unavailable)
extension HTTPConnectionGuard: Sendable {}

@available(*, unavailable)
extension InboundBytesWatcher: Sendable {}

/// Hummingbird's HTTP/1.1 child channel with the `ClientDepartureWatcher` and the
/// `InboundBytesWatcher` in front and the `HTTPConnectionGuard` after the codec.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel

    init(responder: @escaping HTTPChannelHandler.Responder, timeouts: ConnectionTimeouts, logger: Logger) {
        inner = HTTP1Channel(
            responder: responder,
            configuration: .init(additionalChannelHandlers: [HTTPConnectionGuard(timeouts: timeouts, logger: logger)]))
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        do {
            try channel.pipeline.syncOperations.addHandler(InboundBytesWatcher(), position: .first)
            try channel.pipeline.syncOperations.addHandler(ClientDepartureWatcher(), position: .first)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        return inner.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the gateway's connection timeouts and framing errors (see `HTTPConnectionGuard`).
    static func guardedHTTP1(timeouts: ConnectionTimeouts, logger: Logger) -> HTTPServerBuilder {
        .init { responder in GuardedHTTP1Channel(responder: responder, timeouts: timeouts, logger: logger) }
    }
}
