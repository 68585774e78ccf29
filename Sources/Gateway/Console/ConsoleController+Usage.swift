import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import NIOCore
import NIOFoundationCompat

extension ConsoleController {
    func addUsageRoutes(to group: RouterGroup<Context>) {
        group.get("requests", use: requestsPage)
        group.get("requests/detail", use: requestDetail)
        group.get("requests/export", use: exportRequests)
    }

    /// The windows the overview shows, and how their charts are bucketed (the roll-ups are hourly and
    /// daily; the last hour is shown within the last day's hourly chart).
    enum Window: String, CaseIterable {
        case hour = "1h", day = "24h", month = "30d"

        var seconds: TimeInterval {
            switch self {
            case .hour: 3600
            case .day: 86_400
            case .month: 30 * 86_400
            }
        }

        var label: String {
            switch self {
            case .hour: "Last hour"
            case .day: "Last 24 hours"
            case .month: "Last 30 days"
            }
        }

        var chartSpan: TimeInterval { self == .month ? 30 * 86_400 : 86_400 }
        var granularity: UsageGranularity { self == .month ? .day : .hour }
    }

    // MARK: - Overview

    @Sendable func overview(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let window = request.uri.queryParameters.get("range").flatMap(Window.init(rawValue:)) ?? .day
        let now = Date()
        let since = now.addingTimeInterval(-window.seconds)
        let chartSince = now.addingTimeInterval(-window.chartSpan)

        async let ollama = ollamaStatus()
        async let totals = store.usage.totals(from: since, to: now, filter: UsageFilter(), groupBy: nil)
        async let percentiles = store.usage.percentiles(from: since, to: now, filter: UsageFilter(), groupBy: nil)
        async let series = store.usage.series(
            from: chartSince, to: now, granularity: window.granularity, filter: UsageFilter(), groupBy: nil)
        async let topKeys = store.usage.top(.key, by: .requests, from: since, to: now, filter: UsageFilter(), limit: 5)
        async let topModels = store.usage.top(.model, by: .requests, from: since, to: now, filter: UsageFilter(), limit: 5)
        async let keyRecords = store.apiKeys.list(includeRevoked: true)
        let entries = await services.models.entries()

        let metrics = try await totals.first?.metrics ?? UsageMetrics()
        let distribution = try await percentiles.first
        let keyNames = Dictionary(try await keyRecords.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let activeKeys = try await keyRecords.filter { $0.status(at: now) == .active }.count
        let status = await ollama

        let tabs = Window.allCases.map { item -> HTML in
            item == window
                ? "<li><a href=\"/admin/?range=\(item.rawValue)\" aria-current=\"true\">\(item.label)</a></li>"
                : "<li><a href=\"/admin/?range=\(item.rawValue)\">\(item.label)</a></li>"
        }
        let stats: [(String, String, String?)] = [
            ("Requests", ConsoleFormat.number(metrics.requests), nil),
            ("Tokens in", ConsoleFormat.compact(metrics.promptTokens), nil),
            ("Tokens out", ConsoleFormat.compact(metrics.completionTokens), nil),
            ("Errors", ConsoleFormat.number(metrics.errors), metrics.requests > 0 ? ConsoleFormat.percent(metrics.errorRate) : nil),
            ("Latency p50", ConsoleFormat.milliseconds(distribution?.latency.p50Ms), nil),
            ("Latency p95", ConsoleFormat.milliseconds(distribution?.latency.p95Ms), nil),
            ("First token p50", ConsoleFormat.milliseconds(distribution?.timeToFirstToken.p50Ms), nil),
            ("First token p95", ConsoleFormat.milliseconds(distribution?.timeToFirstToken.p95Ms), nil),
        ]
        let statCards = stats.map { label, value, note -> HTML in
            "<li class=\"stat\"><span class=\"stat-label\">\(label)</span> <span class=\"stat-value\">\(value)\(note.map { n -> HTML in " <small>\(n)</small>" })</span></li>"
        }
        let step: TimeInterval = window.granularity == .day ? 86_400 : 3600
        let points = ConsoleCharts.filled(try await series, from: chartSince, to: now, step: step)
        let format: ConsoleCharts.LabelFormat = window.granularity == .day ? .day : .hour
        let charts: [HTML] = [
            ConsoleCharts.bars(title: "Requests", unit: "requests", points: points.map { ($0.0, Double($0.1?.requests ?? 0)) }, labelFormat: format),
            ConsoleCharts.bars(title: "Tokens (in + out)", unit: "tokens", points: points.map { ($0.0, Double($0.1?.totalTokens ?? 0)) }, labelFormat: format, tone: "alt"),
            ConsoleCharts.bars(title: "Errors", unit: "errors", points: points.map { ($0.0, Double($0.1?.errors ?? 0)) }, labelFormat: format, tone: "bad"),
            ConsoleCharts.bars(title: "Average latency", unit: "ms", points: points.map { ($0.0, $0.1?.averageLatencyMs ?? 0) }, labelFormat: format, tone: "alt2"),
            ConsoleCharts.bars(title: "Average time to first token", unit: "ms", points: points.map { ($0.0, $0.1?.averageTimeToFirstTokenMs ?? 0) }, labelFormat: format, tone: "alt2"),
        ]
        let topKeyRows = try await topKeys.map { row -> HTML in
            let id = row.group ?? ""
            let name: HTML = id.isEmpty ? "<span class=\"muted\">no key</span>" : "<a href=\"\(ConsoleURL.key(id))\">\(keyNames[id] ?? id)</a>"
            return "<tr><th scope=\"row\">\(name)</th><td class=\"num\">\(ConsoleFormat.number(row.metrics.requests))</td><td class=\"num\">\(ConsoleFormat.compact(row.metrics.totalTokens))</td><td class=\"num\">\(ConsoleFormat.number(row.metrics.errors))</td></tr>"
        }
        let topModelRows = try await topModels.map { row -> HTML in
            "<tr><th scope=\"row\">\(row.group ?? "–")</th><td class=\"num\">\(ConsoleFormat.number(row.metrics.requests))</td><td class=\"num\">\(ConsoleFormat.compact(row.metrics.totalTokens))</td><td class=\"num\">\(ConsoleFormat.number(row.metrics.errors))</td></tr>"
        }
        let loadedRows = status.loaded.map { model -> HTML in
            "<tr><th scope=\"row\">\(model.name)</th><td class=\"num\">\(ConsoleFormat.bytes(model.size))</td><td class=\"num\">\(ConsoleFormat.bytes(model.sizeVRAM))</td><td>\(Self.unloadTime(model.expiresAt, now: now))</td></tr>"
        }
        let ollamaState: HTML = status.version != nil
            ? "\(ConsoleLayout.badge("reachable", tone: "ok")) version \(status.version ?? "") · \(ConsoleFormat.milliseconds(status.roundTripMs)) round trip"
            : "\(ConsoleLayout.badge("unreachable", tone: "bad")) \(status.error ?? "")"
        let callable = entries.filter(\.isCallable).count
        return ConsoleLayout.page(
            "Overview", section: .overview, user: user, notice: Self.notice(request),
            """
            <section class="card" aria-labelledby="ollama-state"><h2 id="ollama-state">Ollama</h2>
            <p><code>\(services.upstream.baseURL)</code> \(ollamaState)</p>
            <dl class="facts">
            <dt>Active keys</dt><dd><a href="/admin/keys">\(ConsoleFormat.number(activeKeys))</a></dd>
            <dt>Models</dt><dd><a href="/admin/models">\(ConsoleFormat.number(callable)) callable of \(ConsoleFormat.number(entries.count))</a></dd>
            <dt>Loaded now</dt><dd>\(ConsoleFormat.number(status.loaded.count))</dd>
            </dl>
            \(status.loaded.isEmpty ? HTML.empty : ConsoleLayout.table(caption: "Models loaded now", headers: ["Model", "Size", "VRAM", "Unloads at"], rows: loadedRows, empty: ""))
            </section>
            <nav aria-label="Time range" class="tabs"><ul>\(tabs)</ul></nav>
            <ul class="stats" aria-label="\(window.label)">\(statCards)</ul>
            <div class="charts">\(charts)</div>
            <div class="columns">
            <section class="card" aria-labelledby="top-keys"><h2 id="top-keys">Top keys</h2>
            \(ConsoleLayout.table(caption: "Top keys", headers: ["Key", "Requests", "Tokens", "Errors"], rows: topKeyRows, empty: "No requests in this window."))</section>
            <section class="card" aria-labelledby="top-models"><h2 id="top-models">Top models</h2>
            \(ConsoleLayout.table(caption: "Top models", headers: ["Model", "Requests", "Tokens", "Errors"], rows: topModelRows, empty: "No requests in this window."))</section>
            </div>
            """)
    }

    /// When Ollama unloads a model, in words: `in 4 min`. Ollama writes nanoseconds and a local offset
    /// (`2026-12-06T09:23:51.324727774-07:00`), which ISO 8601 parsing does not take whole.
    static func unloadTime(_ text: String?, now: Date) -> String {
        guard let text else { return "–" }
        var trimmed = text
        if let dot = text.firstIndex(of: "."), let zone = text[dot...].firstIndex(where: { $0 == "Z" || $0 == "+" || $0 == "-" }) {
            trimmed = String(text[..<dot]) + String(text[zone...])
        }
        guard let date = try? Date.ISO8601FormatStyle().parse(trimmed) else { return text }
        let minutes = Int((date.timeIntervalSince(now) / 60).rounded())
        if date.timeIntervalSince(now) > 1e8 { return "never (kept loaded)" }
        return minutes <= 0 ? "now" : minutes < 120 ? "in \(minutes) min" : "in \(minutes / 60) h"
    }

    struct OllamaStatus: Sendable {
        var version: String?
        var roundTripMs: Double?
        var error: String?
        var loaded: [OllamaRunningModel] = []
    }

    /// Whether Ollama answers, its version and round-trip time, and the models it has loaded.
    func ollamaStatus() async -> OllamaStatus {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            let version = try await services.upstream.version()
            let elapsed = clock.now - start
            var status = OllamaStatus(
                version: version.version,
                roundTripMs: Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            if let response = try? await services.upstream.send(.GET, "/api/ps", deadline: .now() + .seconds(10)),
                let bytes = try? await response.body.collect(upTo: 4 * 1024 * 1024),
                let ps = try? JSONDecoder().decode(OllamaPsResponse.self, from: bytes)
            {
                status.loaded = ps.models
            }
            return status
        } catch {
            return OllamaStatus(error: (error as? GatewayError)?.message ?? "Ollama did not answer.")
        }
    }

    // MARK: - Requests

    /// The request log's filters, from the page's query.
    struct LogFilters {
        static let ranges: [(String, String, TimeInterval?)] = [
            ("1h", "Last hour", 3600), ("24h", "Last 24 hours", 86_400), ("7d", "Last 7 days", 7 * 86_400),
            ("30d", "Last 30 days", 30 * 86_400), ("all", "Everything", nil),
        ]

        var key: String?
        var model: String?
        var endpoint: String?
        var status: String?
        var range: String
        var cursor: String?

        init(_ request: Request) {
            let parameters = request.uri.queryParameters
            func value(_ name: String) -> String? {
                parameters.get(name).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
            }
            key = value("key")
            model = value("model")
            endpoint = value("endpoint")
            status = value("status")
            range = value("range").flatMap { name in Self.ranges.contains { $0.0 == name } ? name : nil } ?? "24h"
            cursor = value("cursor")
        }

        func query(now: Date) throws -> UsageLogQuery {
            var filter = UsageFilter(keyID: key, model: model, endpoint: endpoint)
            if let status {
                guard let parsed = UsageStatusFilter(text: status) else {
                    throw ConsoleFieldError(field: "status", message: "Give an HTTP status (429) or a class (5xx).")
                }
                filter.status = parsed
            }
            let seconds = Self.ranges.first { $0.0 == range }?.2
            var query = UsageLogQuery(since: seconds.map { now.addingTimeInterval(-$0) }, until: nil, filter: filter)
            query.limit = 50
            if let cursor {
                guard let parsed = UsageCursor(token: cursor) else {
                    throw ConsoleFieldError(field: "cursor", message: "The page link is not valid; start from the first page.")
                }
                query.after = parsed
            }
            return query
        }

        /// The query items of these filters, for links (the next page, the export).
        var items: [(String, String?)] {
            [("key", key), ("model", model), ("endpoint", endpoint), ("status", status), ("range", range)]
        }
    }

    @Sendable func requestsPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let filters = LogFilters(request)
        let now = Date()
        var error: ConsoleFieldError?
        var page = UsageLogPage(entries: [], next: nil)
        do {
            page = try await store.usage.log(try filters.query(now: now))
        } catch let refusal as ConsoleFieldError {
            error = refusal
        }
        let keyRecords = try await store.apiKeys.list(includeRevoked: true)
        let keyNames = Dictionary(keyRecords.map { ($0.id, $0.name) }, uniquingKeysWith: { a, _ in a })
        let rows = page.entries.map { entry -> HTML in
            let record = entry.record
            let key: HTML = record.keyID.map { id in "<a href=\"\(ConsoleURL.key(id))\">\(keyNames[id] ?? id)</a>" } ?? "<span class=\"muted\">none</span>"
            let tone = record.status >= 500 ? "bad" : record.status >= 400 ? "warn" : "ok"
            return """
                <tr><td><a href="\(ConsoleURL.with("/admin/requests/detail", [("id", record.requestID)]))">\(ConsoleFormat.time(record.time))</a></td>\
                <td>\(key)</td><td>\(record.accountedModel)</td><td><code>\(record.endpoint)</code></td>\
                <td>\(ConsoleLayout.badge(String(record.status), tone: tone))</td>\
                <td class="num">\(ConsoleFormat.number(record.promptTokens)) / \(ConsoleFormat.number(record.completionTokens))</td>\
                <td class="num">\(ConsoleFormat.milliseconds(record.latencyMs))</td>\
                <td class="num">\(ConsoleFormat.milliseconds(record.timeToFirstTokenMs))</td></tr>
                """
        }
        let keyOptions = [("", "Any key")] + keyRecords.map { ($0.id, "\($0.name) (\($0.prefix)…)") }
        let rangeOptions = LogFilters.ranges.map { ($0.0, $0.1) }
        let next: HTML = page.next.map { cursor -> HTML in
            "<a class=\"button\" href=\"\(ConsoleURL.with("/admin/requests", filters.items + [("cursor", cursor.token)]))\">Older requests →</a>"
        } ?? .empty
        let first: HTML = filters.cursor == nil ? .empty : "<a href=\"\(ConsoleURL.with("/admin/requests", filters.items))\">← Newest</a>"
        return ConsoleLayout.page(
            "Requests", section: .requests, user: user, status: error == nil ? .ok : .badRequest,
            """
            <form method="get" action="/admin/requests" class="filters">
            \(ConsoleLayout.select("key", label: "Key", options: keyOptions.map { (value: $0.0, label: $0.1) }, selected: filters.key))
            \(ConsoleLayout.field("model", label: "Model", value: filters.model))
            \(ConsoleLayout.field("endpoint", label: "Route", value: filters.endpoint, hint: "e.g. /v1/chat/completions"))
            \(ConsoleLayout.field("status", label: "Status", value: filters.status, error: error?.field == "status" ? error?.message : nil, hint: "429 or 5xx"))
            \(ConsoleLayout.select("range", label: "Time", options: rangeOptions.map { (value: $0.0, label: $0.1) }, selected: filters.range))
            <div class="actions"><button type="submit" class="primary">Filter</button> <a href="/admin/requests">Reset</a></div>
            </form>
            \(ConsoleLayout.errorSummary(error?.field == "cursor" ? error?.message : nil))
            <p class="toolbar">Export these requests: \
            <a href="\(ConsoleURL.with("/admin/requests/export", filters.items + [("format", "csv")]))">CSV</a> · \
            <a href="\(ConsoleURL.with("/admin/requests/export", filters.items + [("format", "json")]))">JSON</a></p>
            \(ConsoleLayout.table(caption: "Requests, newest first", headers: ["Time", "Key", "Model", "Route", "Status", "Tokens in / out", "Duration", "First token"], rows: rows, empty: "No requests match."))
            <p class="pager">\(first) \(next)</p>
            """)
    }

    @Sendable func requestDetail(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        guard let id = request.uri.queryParameters.get("id"), !id.isEmpty else {
            throw AdminAPIError.invalid("The page needs a request id (?id=…).")
        }
        var query = UsageLogQuery(since: nil, until: nil, filter: UsageFilter())
        query.requestID = id
        query.limit = 1
        guard let entry = try await store.usage.log(query).entries.first else {
            throw AdminAPIError.notFound("There is no request '\(id.prefix(100))' in the log.")
        }
        let record = entry.record
        let keyName = try await record.keyID.asyncMap { try await store.apiKeys.get(id: $0)?.name }
        let facts: [(String, HTML)] = [
            ("Time", "\(ConsoleFormat.time(record.time))"),
            ("Request id", "<code>\(record.requestID)</code>"),
            ("Key", record.keyID.map { id -> HTML in "<a href=\"\(ConsoleURL.key(id))\">\((keyName ?? nil) ?? id)</a>" } ?? "none"),
            ("Model asked for", "\(record.modelRequested ?? "–")"),
            ("Model used", "\(record.modelResolved ?? "–")"),
            ("Route", "<code>\(record.endpoint)</code>\(record.streamed ? " (streamed)" : "")"),
            ("Status", "\(String(record.status))\(record.cancelled ? " (cancelled by the client)" : "")"),
            ("Error", "\(record.errorType ?? "–")"),
            ("Tokens in", "\(ConsoleFormat.number(record.promptTokens))"),
            ("Tokens out", "\(ConsoleFormat.number(record.completionTokens))"),
            ("Duration", "\(ConsoleFormat.milliseconds(record.latencyMs))"),
            ("Time to first token", "\(ConsoleFormat.milliseconds(record.timeToFirstTokenMs))"),
            ("Tokens per second", "\(record.tokensPerSecond.map { String(format: "%.1f", $0) } ?? "–")"),
            ("Client", "\(record.clientAddress ?? "–")"),
            ("User agent", "\(record.userAgent ?? "–")"),
        ]
        return ConsoleLayout.page(
            "Request", section: .requests, user: user,
            """
            <dl class="facts wide">\(facts.map { label, value -> HTML in "<dt>\(label)</dt><dd>\(value)</dd>" })</dl>
            <p><a href="/admin/requests">All requests</a></p>
            """)
    }

    @Sendable func exportRequests(_ request: Request, context: Context) async throws -> Response {
        _ = try ConsoleUser(context)
        guard let format = UsageExportFormat(rawValue: request.uri.queryParameters.get("format") ?? "csv") else {
            throw AdminAPIError.invalid("The export format is csv or json.")
        }
        var query = try LogFilters(request).query(now: Date())
        query.after = nil
        return AdminController.exportResponse(store: store, log: query, format: format)
    }
}

extension Optional {
    func asyncMap<Mapped>(_ transform: (Wrapped) async throws -> Mapped) async rethrows -> Mapped? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
