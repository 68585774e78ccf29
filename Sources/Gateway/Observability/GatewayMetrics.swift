import Prometheus
import Synchronization

/// The gateway's Prometheus metrics. Labels stay low-cardinality: routes are route patterns, models
/// are Ollama's model names (as many as Ollama has), statuses are HTTP codes.
public final class GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let streams: Gauge
    private let queueDepth: Gauge
    private let queueDropped: Gauge

    static let latencyBuckets: [Duration] = [
        .milliseconds(5), .milliseconds(25), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300),
    ]

    public init() {
        streams = registry.makeGauge(descriptor: Self.name("streams_in_flight", unit: "", "Streamed responses being written now."))
        queueDepth = registry.makeGauge(descriptor: Self.name("usage_queue_depth", unit: "", "Usage records waiting to be written."))
        queueDropped = registry.makeGauge(
            descriptor: Self.name("usage_records_dropped", unit: "", "Usage records dropped because the queue was full."))
    }

    static func name(_ metric: String, unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "gateway", metricName: metric, unitName: unit, helpText: help)
    }

    func streamStarted() { streams.increment() }

    /// One finished request: its counters, tokens, latencies and, for upstream failures, their kind.
    func record(_ event: UsageEvent) {
        let series = series(route: event.endpoint, model: event.modelResolved ?? "none", status: event.status)
        series.requests.increment()
        if event.promptTokens > 0 { series.tokensIn.increment(by: Int64(event.promptTokens)) }
        if event.completionTokens > 0 { series.tokensOut.increment(by: Int64(event.completionTokens)) }
        series.duration.record(event.latency)
        if let ttft = event.timeToFirstToken { series.timeToFirstToken.record(ttft) }
        if let kind = event.errorType, Self.upstreamKinds.contains(kind) {
            registry.makeCounter(
                descriptor: Self.name("upstream_errors", unit: "total", "Failures of Ollama by kind."),
                labels: [("kind", kind)]
            ).increment()
        }
        if let backend = event.backend { recordBackend(backend, event) }
        if event.streamed { streams.decrement() }
    }

    /// Per-backend figures: which Ollama server served the request, how long it took, and whether it failed.
    private func recordBackend(_ backend: String, _ event: UsageEvent) {
        let series = backendSeries(backend)
        series.requests.increment()
        if event.status >= 400 || event.errorType != nil { series.errors.increment() }
        series.duration.record(event.latency)
        if let ttft = event.timeToFirstToken { series.timeToFirstToken.record(ttft) }
    }

    private struct BackendSeries: Sendable {
        let requests: Counter
        let errors: Counter
        let duration: DurationHistogram
        let timeToFirstToken: DurationHistogram
    }

    private let backendCache = Mutex<[String: BackendSeries]>([:])

    private func backendSeries(_ backend: String) -> BackendSeries {
        if let series = backendCache.withLock({ $0[backend] }) { return series }
        let labels = [("backend", backend)]
        let series = BackendSeries(
            requests: registry.makeCounter(
                descriptor: Self.name("backend_requests", unit: "total", "API requests by the backend that served them."),
                labels: labels),
            errors: registry.makeCounter(
                descriptor: Self.name("backend_errors", unit: "total", "API requests that failed, by the backend that served them."),
                labels: labels),
            duration: registry.makeDurationHistogram(
                descriptor: Self.name("backend_request_duration", unit: "seconds", "Total time of API requests, by backend."),
                labels: labels, buckets: Self.latencyBuckets),
            timeToFirstToken: registry.makeDurationHistogram(
                descriptor: Self.name("backend_time_to_first_token", unit: "seconds", "Time until the first token, by backend."),
                labels: labels, buckets: Self.latencyBuckets))
        backendCache.withLock { $0[backend] = series }
        return series
    }

    /// The backends' state as of now, set when the metrics are read: up (1), out (0), and requests in flight.
    func setBackends(_ statuses: [BackendStatus]) {
        for status in statuses {
            let labels = [("backend", status.backend.name)]
            registry.makeGauge(
                descriptor: Self.name("backend_up", unit: "", "1 when the backend can take requests (healthy or not probed yet, enabled, not cooling down)."),
                labels: labels
            ).set(["ok", "unknown"].contains(status.state) ? 1.0 : 0.0)
            registry.makeGauge(
                descriptor: Self.name("backend_in_flight", unit: "", "Requests this gateway has in flight on the backend."),
                labels: labels
            ).set(Double(status.inFlight))
        }
    }

    /// The metrics of one route, model and status, looked up in the registry once: a lookup builds
    /// names and label sets, too much to repeat for every request.
    private struct Series: Sendable {
        let requests: Counter
        let tokensIn: Counter
        let tokensOut: Counter
        let duration: DurationHistogram
        let timeToFirstToken: DurationHistogram
    }

    private struct SeriesKey: Hashable {
        let route: String
        let model: String
        let status: Int
    }

    private let seriesCache = Mutex<[SeriesKey: Series]>([:])

    private func series(route: String, model: String, status: Int) -> Series {
        let key = SeriesKey(route: route, model: model, status: status)
        if let series = seriesCache.withLock({ $0[key] }) { return series }
        let tokens = Self.name("tokens", unit: "total", "Tokens in (prompt) and out (completion).")
        let series = Series(
            requests: registry.makeCounter(
                descriptor: Self.name("requests", unit: "total", "API requests by route, model and status."),
                labels: [("route", route), ("model", model), ("status", String(status))]),
            tokensIn: registry.makeCounter(descriptor: tokens, labels: [("direction", "in"), ("model", model)]),
            tokensOut: registry.makeCounter(descriptor: tokens, labels: [("direction", "out"), ("model", model)]),
            duration: registry.makeDurationHistogram(
                descriptor: Self.name("request_duration", unit: "seconds", "Total time of API requests."),
                labels: [("route", route)], buckets: Self.latencyBuckets),
            timeToFirstToken: registry.makeDurationHistogram(
                descriptor: Self.name("time_to_first_token", unit: "seconds", "Time until the first token reached the client."),
                labels: [("route", route)], buckets: Self.latencyBuckets))
        seriesCache.withLock { $0[key] = series }
        return series
    }

    static let upstreamKinds: Set<String> = [
        GatewayError.Kind.upstreamUnavailable.rawValue, GatewayError.Kind.upstreamError.rawValue,
        GatewayError.Kind.overloaded.rawValue, GatewayError.Kind.timeout.rawValue,
    ]

    /// The exposition text, with the usage queue's state read now.
    func render(queue: (queued: Int, dropped: Int)) -> [UInt8] {
        queueDepth.set(Double(queue.queued))
        queueDropped.set(Double(queue.dropped))
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        let jobs = EventLoopExecutor.jobs
        buffer.append(contentsOf: Array("""
            # HELP gateway_executor_jobs_total Swift concurrency jobs run on event loops: on the loop that sent them (stayed) or moved to a loop from another thread (crossed).
            # TYPE gateway_executor_jobs_total counter
            gateway_executor_jobs_total{thread="stayed"} \(jobs.stayed)
            gateway_executor_jobs_total{thread="crossed"} \(jobs.crossed)

            """.utf8))
        return buffer
    }
}
