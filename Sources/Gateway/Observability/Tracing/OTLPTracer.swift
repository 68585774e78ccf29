import Foundation
import Synchronization
import Tracing

/// The identity of a span as W3C Trace Context carries it (`traceparent`).
public struct SpanIdentity: Sendable, Hashable {
    public var traceIDHigh: UInt64
    public var traceIDLow: UInt64
    public var spanID: UInt64
    /// The `sampled` flag. Every span the gateway starts is sampled (and exported).
    public var sampled = true

    /// 32 lower-case hex digits.
    public var traceID: String { Self.hex(traceIDHigh) + Self.hex(traceIDLow) }
    /// 16 lower-case hex digits.
    public var spanIDText: String { Self.hex(spanID) }

    /// `00-<trace id>-<span id>-<flags>`
    public var traceparent: String { "00-\(traceID)-\(spanIDText)-\(sampled ? "01" : "00")" }

    /// Parses a `traceparent` header; nil for anything the W3C format does not allow (a malformed
    /// header starts a new trace instead, as the specification asks).
    public init?(traceparent: String) {
        let parts = traceparent.trimmingCharacters(in: .whitespaces).split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count >= 4, parts[0].count == 2, parts[0] != "ff", parts[1].count == 32, parts[2].count == 16,
            parts[3].count == 2, parts[0] != "00" || parts.count == 4,
            UInt8(parts[0], radix: 16) != nil,
            let high = UInt64(parts[1].prefix(16), radix: 16), let low = UInt64(parts[1].suffix(16), radix: 16),
            let span = UInt64(parts[2], radix: 16), let flags = UInt8(parts[3], radix: 16),
            parts[1].allSatisfy(\.isHexDigitLowercase), parts[2].allSatisfy(\.isHexDigitLowercase),
            high != 0 || low != 0, span != 0
        else { return nil }
        self.init(traceIDHigh: high, traceIDLow: low, spanID: span, sampled: flags & 1 == 1)
    }

    public init(traceIDHigh: UInt64, traceIDLow: UInt64, spanID: UInt64, sampled: Bool = true) {
        self.traceIDHigh = traceIDHigh
        self.traceIDLow = traceIDLow
        self.spanID = spanID
        self.sampled = sampled
    }

    static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// A random non-zero id.
    static func randomID() -> UInt64 {
        var id: UInt64 = 0
        while id == 0 { id = UInt64.random(in: .min ... .max) }
        return id
    }
}

extension Character {
    fileprivate var isHexDigitLowercase: Bool { isHexDigit && !isUppercase }
}

/// The span a context belongs to, carried in the task-local `ServiceContext`.
enum SpanIdentityKey: ServiceContextKey {
    typealias Value = SpanIdentity
    static let nameOverride: String? = "traceparent"
}

extension ServiceContext {
    public var spanIdentity: SpanIdentity? {
        get { self[SpanIdentityKey.self] }
        set { self[SpanIdentityKey.self] = newValue }
    }
}

/// A small OpenTelemetry tracer behind swift-distributed-tracing's `Tracer` protocol: W3C trace
/// context in and out, every span sampled, finished spans handed to the OTLP exporter's queue.
/// Made only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set: without it the gateway has no tracer at all,
/// and its request path pays one nil check.
public final class OTLPTracer: Tracer, Sendable {
    public typealias Span = OTLPSpan

    let exporter: OTLPExporter

    public init(exporter: OTLPExporter) {
        self.exporter = exporter
    }

    public func startSpan<Instant: TracerInstant>(
        _ operationName: String, context: @autoclosure () -> ServiceContext, ofKind kind: SpanKind,
        at instant: @autoclosure () -> Instant, function: String, file fileID: String, line: UInt
    ) -> OTLPSpan {
        var context = context()
        let parent = context.spanIdentity
        let identity = SpanIdentity(
            traceIDHigh: parent?.traceIDHigh ?? SpanIdentity.randomID(),
            traceIDLow: parent?.traceIDLow ?? SpanIdentity.randomID(),
            spanID: SpanIdentity.randomID(), sampled: true)
        context.spanIdentity = identity
        return OTLPSpan(
            name: operationName, kind: kind, identity: identity, parentSpanID: parent?.spanID, context: context,
            start: instant().nanosecondsSinceEpoch, exporter: exporter)
    }

    public func forceFlush() {}

    public func extract<Carrier, Extract: Extractor>(
        _ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract
    ) where Extract.Carrier == Carrier {
        if let header = extractor.extract(key: "traceparent", from: carrier), let identity = SpanIdentity(traceparent: header) {
            context.spanIdentity = identity
        }
    }

    public func inject<Carrier, Inject: Injector>(
        _ context: ServiceContext, into carrier: inout Carrier, using injector: Inject
    ) where Inject.Carrier == Carrier {
        if let identity = context.spanIdentity {
            injector.inject(identity.traceparent, forKey: "traceparent", into: &carrier)
        }
    }
}

/// A span of `OTLPTracer`: mutable until it ends, then queued for export once.
public final class OTLPSpan: Tracing.Span, Sendable {
    struct State {
        var name: String
        var attributes = SpanAttributes()
        var status: SpanStatus?
        var events: [SpanEvent] = []
        var ended = false
        /// Spans beneath this one that end with it if nothing ended them before.
        var children: [OTLPSpan] = []
    }

    public let context: ServiceContext
    let kind: SpanKind
    let identity: SpanIdentity
    let parentSpanID: UInt64?
    let start: UInt64
    let exporter: OTLPExporter
    private let state: Mutex<State>

    init(
        name: String, kind: SpanKind, identity: SpanIdentity, parentSpanID: UInt64?, context: ServiceContext,
        start: UInt64, exporter: OTLPExporter
    ) {
        self.kind = kind
        self.identity = identity
        self.parentSpanID = parentSpanID
        self.context = context
        self.start = start
        self.exporter = exporter
        self.state = Mutex(State(name: name))
    }

    public var operationName: String {
        get { state.withLock { $0.name } }
        set { state.withLock { $0.name = newValue } }
    }

    public var attributes: SpanAttributes {
        get { state.withLock { $0.attributes } }
        set { state.withLock { $0.attributes = newValue } }
    }

    public var isRecording: Bool { state.withLock { !$0.ended } }

    public func setStatus(_ status: SpanStatus) {
        state.withLock { $0.status = status }
    }

    public func addEvent(_ event: SpanEvent) {
        state.withLock { $0.events.append(event) }
    }

    public func recordError<Instant: TracerInstant>(
        _ error: any Error, attributes: SpanAttributes, at instant: @autoclosure () -> Instant
    ) {
        var eventAttributes = attributes
        eventAttributes["exception.type"] = "\(type(of: error))"
        eventAttributes["exception.message"] = "\(error)"
        let event = SpanEvent(name: "exception", at: instant(), attributes: eventAttributes)
        state.withLock { $0.events.append(event) }
    }

    public func addLink(_ link: SpanLink) {}

    /// `child` ends when this span ends, unless it ended before (a call to Ollama whose streamed
    /// answer is read until the request ends).
    func adopt(_ child: OTLPSpan) {
        state.withLock { $0.children.append(child) }
    }

    public func end<Instant: TracerInstant>(at instant: @autoclosure () -> Instant) {
        let end = instant().nanosecondsSinceEpoch
        let children = state.withLock { state in
            defer { state.children = [] }
            return state.children
        }
        for child in children { child.end(at: TracerNanoseconds(end)) }
        let finished: FinishedSpan? = state.withLock { state in
            guard !state.ended else { return nil }
            state.ended = true
            return FinishedSpan(
                name: state.name, kind: kind, identity: identity, parentSpanID: parentSpanID, start: start, end: end,
                attributes: state.attributes, status: state.status, events: state.events)
        }
        if let finished { exporter.enqueue(finished) }
    }
}

/// An ended span, as the exporter sends it.
struct FinishedSpan: Sendable {
    var name: String
    var kind: SpanKind
    var identity: SpanIdentity
    var parentSpanID: UInt64?
    var start: UInt64
    var end: UInt64
    var attributes: SpanAttributes
    var status: SpanStatus?
    var events: [SpanEvent]
}

/// An instant already in nanoseconds since the epoch.
struct TracerNanoseconds: TracerInstant {
    var nanosecondsSinceEpoch: UInt64

    init(_ nanoseconds: UInt64) {
        nanosecondsSinceEpoch = nanoseconds
    }

    static func < (lhs: Self, rhs: Self) -> Bool { lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch }
}
