import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Tracing

/// Where and how spans are exported: OTLP over HTTP with the JSON encoding (a standard encoding of
/// OTLP, which every OpenTelemetry Collector, Jaeger, Tempo and most vendors' endpoints accept on
/// `/v1/traces`). Read from OpenTelemetry's own environment names.
public struct TracingConfiguration: Sendable {
    /// The full URL spans are posted to.
    public var endpoint: String
    public var headers: [(name: String, value: String)] = []
    public var serviceName = "ollama-gateway"
    /// How often queued spans are sent (`OTEL_BSP_SCHEDULE_DELAY`).
    public var scheduleDelay: Duration = .seconds(5)
    /// Spans waiting beyond this are dropped, and counted (`OTEL_BSP_MAX_QUEUE_SIZE`).
    public var maxQueueSize = 2048
    /// Spans in one request to the collector (`OTEL_BSP_MAX_EXPORT_BATCH_SIZE`).
    public var maxExportBatchSize = 512
    /// One export's deadline (`OTEL_EXPORTER_OTLP_TIMEOUT`).
    public var exportTimeout: Duration = .seconds(10)

    public init(endpoint: String) {
        self.endpoint = endpoint
    }

    public static let environmentNames = [
        "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_HEADERS",
        "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TIMEOUT", "OTEL_SERVICE_NAME", "OTEL_BSP_SCHEDULE_DELAY",
        "OTEL_BSP_MAX_QUEUE_SIZE", "OTEL_BSP_MAX_EXPORT_BATCH_SIZE",
    ]

    /// nil when neither endpoint is set: tracing is off.
    init?(reader: SettingsReader) throws {
        let base = reader.string("OTEL_EXPORTER_OTLP_ENDPOINT").flatMap { $0.isEmpty ? nil : $0 }
        let traces = reader.string("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").flatMap { $0.isEmpty ? nil : $0 }
        // As the OpenTelemetry specification says: the signal's own variable is the URL as it is;
        // the general one is a base to which `/v1/traces` is added.
        guard let endpoint = traces ?? base.map({ ($0.hasSuffix("/") ? String($0.dropLast()) : $0) + "/v1/traces" }) else {
            return nil
        }
        let name = traces != nil ? "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT" : "OTEL_EXPORTER_OTLP_ENDPOINT"
        guard let url = URL(string: endpoint), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else {
            throw ConfigurationError("\(name) must be an http(s) URL, got '\(traces ?? base ?? "")'")
        }
        let proto = reader.string("OTEL_EXPORTER_OTLP_PROTOCOL", default: "http/json")
        guard proto == "http/json" else {
            throw ConfigurationError(
                "OTEL_EXPORTER_OTLP_PROTOCOL must be http/json (the gateway exports OTLP over HTTP as JSON; "
                    + "collectors accept it on their HTTP port, 4318), got '\(proto)'")
        }
        self.init(endpoint: endpoint)
        if let text = reader.string("OTEL_EXPORTER_OTLP_HEADERS", isSecret: true) {
            headers = try Self.headers(text)
        }
        serviceName = reader.string("OTEL_SERVICE_NAME", default: serviceName)
        scheduleDelay = try reader.milliseconds("OTEL_BSP_SCHEDULE_DELAY", default: 5_000)
        maxQueueSize = try reader.int("OTEL_BSP_MAX_QUEUE_SIZE", default: maxQueueSize, in: 1...1_000_000)
        maxExportBatchSize = try reader.int("OTEL_BSP_MAX_EXPORT_BATCH_SIZE", default: maxExportBatchSize, in: 1...100_000)
        exportTimeout = try reader.milliseconds("OTEL_EXPORTER_OTLP_TIMEOUT", default: 10_000)
    }

    /// `name=value,name2=value2`, values percent-encoded (the OpenTelemetry format).
    static func headers(_ text: String) throws -> [(name: String, value: String)] {
        try text.split(separator: ",").compactMap { pair -> (name: String, value: String)? in
            let trimmed = pair.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty else { return nil }
            guard let equals = trimmed.firstIndex(of: "="), equals != trimmed.startIndex else {
                throw ConfigurationError("OTEL_EXPORTER_OTLP_HEADERS must look like 'name=value,name2=value2'")
            }
            let value = String(trimmed[trimmed.index(after: equals)...]).trimmingCharacters(in: .whitespaces)
            return (String(trimmed[..<equals]).trimmingCharacters(in: .whitespaces), value.removingPercentEncoding ?? value)
        }
    }
}

/// Sends finished spans to the collector in batches, off the request path: a bounded queue that
/// this service drains every `scheduleDelay`; a full queue drops spans (counted and logged) rather
/// than hold memory or requests. A graceful shutdown sends what is queued before the HTTP client
/// closes. A collector that is down costs a failed POST per batch, never a request.
public final class OTLPExporter: Service, Sendable {
    struct Queue {
        var spans: [FinishedSpan] = []
        var dropped = 0
        /// Export failures in a row; only the first of a streak is logged as a warning.
        var failures = 0
    }

    let configuration: TracingConfiguration
    let http: HTTPClient
    let logger: Logger
    private let queue = Mutex(Queue())

    public init(configuration: TracingConfiguration, http: HTTPClient, logger: Logger) {
        self.configuration = configuration
        self.http = http
        self.logger = logger
    }

    func enqueue(_ span: FinishedSpan) {
        queue.withLock { queue in
            if queue.spans.count < configuration.maxQueueSize {
                queue.spans.append(span)
            } else {
                queue.dropped += 1
            }
        }
    }

    /// Spans waiting, and spans dropped (the queue was full) since the last export.
    public var depth: (queued: Int, dropped: Int) {
        queue.withLock { ($0.spans.count, $0.dropped) }
    }

    public func run() async throws {
        // Until shutdown, then once more: the spans of the requests the drain let finish go too.
        await PeriodicWork.run(every: configuration.scheduleDelay, delayFirst: true) { await self.flush() }
        await flush()
    }

    /// Sends everything queued now, a batch at a time.
    public func flush() async {
        while true {
            let batch = takeQueued(upTo: configuration.maxExportBatchSize)
            guard !batch.isEmpty else { return }
            await send(batch)
        }
    }

    /// Takes up to `limit` spans off the queue, oldest first; says once per batch how many were
    /// dropped since the last.
    func takeQueued(upTo limit: Int = .max) -> [FinishedSpan] {
        let (batch, dropped) = queue.withLock { queue in
            let count = min(queue.spans.count, limit)
            defer {
                queue.spans.removeFirst(count)
                queue.dropped = 0
            }
            return (Array(queue.spans.prefix(count)), queue.dropped)
        }
        if dropped > 0 {
            logger.warning("trace queue full: spans were dropped", metadata: ["otel.dropped_spans": "\(dropped)"])
        }
        return batch
    }

    private func send(_ batch: [FinishedSpan]) async {
        var request = HTTPClientRequest(url: configuration.endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        for header in configuration.headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(OTLPJSON.encode(batch, serviceName: configuration.serviceName))
        var failure: String?
        do {
            let response = try await http.execute(request, timeout: .init(configuration.exportTimeout), logger: logger)
            _ = try? await response.body.collect(upTo: 64 * 1024)
            if !(200..<300).contains(response.status.code) { failure = "HTTP \(response.status.code)" }
        } catch {
            failure = "\(error)"
        }
        let streak = queue.withLock { queue in
            queue.failures = failure == nil ? 0 : queue.failures + 1
            return queue.failures
        }
        if let failure {
            logger.log(
                level: streak == 1 ? .warning : .debug, "could not export spans; they are dropped",
                metadata: ["otel.endpoint": "\(LogRedaction.url(configuration.endpoint))", "error": "\(failure)", "otel.spans": "\(batch.count)"])
        }
    }
}

/// The OTLP/HTTP JSON encoding of `ExportTraceServiceRequest` (ids as hex, 64-bit numbers as strings,
/// enums as numbers, as the OTLP specification's JSON mapping requires).
enum OTLPJSON {
    static func encode(_ spans: [FinishedSpan], serviceName: String) -> ByteBuffer {
        var writer = JSONBufferWriter(capacity: 1024 * max(1, spans.count))
        writer.open()
        writer.key("resourceSpans")
        writer.openArray()
        writer.open()
        writer.key("resource")
        writer.open()
        writer.key("attributes")
        let resource: [String: SpanAttribute] = [
            "service.name": .string(serviceName), "service.version": .string(GatewayVersion.current),
        ]
        write(resource, to: &writer)
        writer.close()
        writer.key("scopeSpans")
        writer.openArray()
        writer.open()
        writer.key("scope")
        writer.open()
        writer.field("name", "ollama-gateway")
        writer.field("version", GatewayVersion.current)
        writer.close()
        writer.key("spans")
        writer.openArray()
        for span in spans {
            writer.separate()
            write(span, to: &writer)
        }
        writer.closeArray()
        writer.close()
        writer.closeArray()
        writer.close()
        writer.closeArray()
        writer.close()
        return writer.buffer
    }

    static func write(_ span: FinishedSpan, to writer: inout JSONBufferWriter) {
        writer.open()
        writer.field("traceId", span.identity.traceID)
        writer.field("spanId", span.identity.spanIDText)
        if let parent = span.parentSpanID { writer.field("parentSpanId", SpanIdentity.hex(parent)) }
        writer.field("name", span.name)
        writer.field("kind", kind(span.kind))
        writer.field("startTimeUnixNano", String(span.start))
        writer.field("endTimeUnixNano", String(span.end))
        writer.key("attributes")
        write(span.attributes, to: &writer)
        if !span.events.isEmpty {
            writer.key("events")
            writer.openArray()
            for event in span.events {
                writer.separate()
                writer.open()
                writer.field("timeUnixNano", String(event.nanosecondsSinceEpoch))
                writer.field("name", event.name)
                writer.key("attributes")
                write(event.attributes, to: &writer)
                writer.close()
            }
            writer.closeArray()
        }
        if let status = span.status {
            writer.key("status")
            writer.open()
            writer.field("code", status.code == .ok ? 1 : 2)
            writer.fieldIfPresent("message", status.message)
            writer.close()
        }
        writer.close()
    }

    static func kind(_ kind: SpanKind) -> Int {
        switch kind {
        case .internal: 1
        case .server: 2
        case .client: 3
        case .producer: 4
        case .consumer: 5
        }
    }

    /// `[{"key":…,"value":{…}}…]`, sorted by key.
    static func write(_ attributes: SpanAttributes, to writer: inout JSONBufferWriter) {
        var pairs: [String: SpanAttribute] = [:]
        attributes.forEach { pairs[$0] = $1 }
        write(pairs, to: &writer)
    }

    static func write(_ attributes: [String: SpanAttribute], to writer: inout JSONBufferWriter) {
        writer.openArray()
        for (key, value) in attributes.sorted(by: { $0.key < $1.key }) {
            writer.separate()
            writer.open()
            writer.field("key", key)
            writer.key("value")
            write(value, to: &writer)
            writer.close()
        }
        writer.closeArray()
    }

    /// An `AnyValue`: `{"stringValue":…}`, `{"intValue":"…"}`, `{"arrayValue":{"values":[…]}}`…
    static func write(_ value: SpanAttribute, to writer: inout JSONBufferWriter) {
        func array(_ values: [SpanAttribute]) {
            writer.key("arrayValue")
            writer.open()
            writer.key("values")
            writer.openArray()
            for element in values {
                writer.separate()
                write(element, to: &writer)
            }
            writer.closeArray()
            writer.close()
        }
        writer.open()
        switch value {
        case .int32(let number): writer.field("intValue", String(number))
        case .int64(let number): writer.field("intValue", String(number))
        case .double(let number) where number.isFinite:
            writer.key("doubleValue")
            writer.literal(String(number))
        case .double(let number): writer.field("stringValue", String(number))
        case .bool(let flag):
            writer.key("boolValue")
            writer.literal(flag ? "true" : "false")
        case .string(let text): writer.field("stringValue", text)
        case .int32Array(let numbers): array(numbers.map { .int32($0) })
        case .int64Array(let numbers): array(numbers.map { .int64($0) })
        case .doubleArray(let numbers): array(numbers.map { .double($0) })
        case .boolArray(let flags): array(flags.map { .bool($0) })
        case .stringArray(let texts): array(texts.map { .string($0) })
        case .stringConvertible(let convertible): writer.field("stringValue", convertible.description)
        case .stringConvertibleArray(let convertibles): array(convertibles.map { .string($0.description) })
        default: writer.field("stringValue", "")
        }
        writer.close()
    }
}
