import Foundation
import GatewayStore
import Hummingbird
import NIOCore

/// The usage queries the admin UI draws: totals, time series, top lists, percentiles (all from the
/// roll-ups), the request log by keyset pages, and CSV/JSON export streamed page by page.
extension AdminController {
    func addUsageRoutes(to group: RouterGroup<Context>) {
        group.get("usage/totals", use: usageTotals)
        group.get("usage/series", use: usageSeries)
        group.get("usage/top", use: usageTop)
        group.get("usage/percentiles", use: usagePercentiles)
        group.get("usage/requests", use: usageRequests)
        group.get("usage/export", use: usageExport)
    }

    /// Query parameters shared by the usage endpoints.
    struct UsageParameters {
        var from: Date
        var to: Date
        var filter: UsageFilter
        var groupBy: UsageDimension?

        static let names: Set<String> = ["since", "until", "key", "model", "endpoint", "status", "group_by"]

        init(_ request: Request, extra: Set<String> = []) throws {
            let parameters = request.uri.queryParameters
            let allowed = Self.names.union(extra)
            for (name, _) in parameters where !allowed.contains(String(name)) {
                throw AdminAPIError.invalid(
                    "Unknown query parameter '\(name.prefix(100))'; expected \(allowed.sorted().joined(separator: ", ")).")
            }
            to = try Timestamps.queryParameter("until", in: parameters) ?? Date()
            from = try Timestamps.queryParameter("since", in: parameters) ?? to.addingTimeInterval(-86_400)
            guard from < to else { throw AdminAPIError.invalid("'since' must be before 'until'.") }
            filter = UsageFilter(
                keyID: parameters.get("key").flatMap { $0.isEmpty ? nil : $0 },
                model: parameters.get("model").flatMap { $0.isEmpty ? nil : $0 },
                endpoint: parameters.get("endpoint").flatMap { $0.isEmpty ? nil : $0 })
            if let status = parameters.get("status"), !status.isEmpty {
                guard let parsed = UsageStatusFilter(text: status) else {
                    throw AdminAPIError.invalid("'status' must be an HTTP status (429) or a class (5xx).")
                }
                filter.status = parsed
            }
            if let group = parameters.get("group_by"), !group.isEmpty {
                guard let dimension = UsageDimension(rawValue: group) else {
                    throw AdminAPIError.invalid("'group_by' must be one of key, model, endpoint, status.")
                }
                groupBy = dimension
            }
        }
    }

    struct Rows<Row: Encodable>: Encodable {
        var rows: [Row]
    }

    @Sendable func usageTotals(_ request: Request, context: Context) async throws -> Response {
        let query = try UsageParameters(request)
        let rows = try await store.usage.totals(from: query.from, to: query.to, filter: query.filter, groupBy: query.groupBy)
        return AdminJSON.response(Rows(rows: rows))
    }

    @Sendable func usageSeries(_ request: Request, context: Context) async throws -> Response {
        let query = try UsageParameters(request, extra: ["granularity"])
        let text = request.uri.queryParameters.get("granularity") ?? "hour"
        guard let granularity = UsageGranularity(rawValue: text) else {
            throw AdminAPIError.invalid("'granularity' must be hour or day.")
        }
        let points = try await store.usage.series(
            from: query.from, to: query.to, granularity: granularity, filter: query.filter, groupBy: query.groupBy)
        return AdminJSON.response(Rows(rows: points))
    }

    @Sendable func usageTop(_ request: Request, context: Context) async throws -> Response {
        let query = try UsageParameters(request, extra: ["by", "limit"])
        let parameters = request.uri.queryParameters
        guard let dimension = query.groupBy else {
            throw AdminAPIError.invalid("'group_by' is required: key, model, endpoint or status.")
        }
        guard let ranking = UsageRanking(rawValue: parameters.get("by") ?? "requests") else {
            throw AdminAPIError.invalid("'by' must be requests, tokens or errors.")
        }
        let limit = Int(parameters.get("limit") ?? "10") ?? -1
        guard (1...100).contains(limit) else { throw AdminAPIError.invalid("'limit' must be an integer from 1 to 100.") }
        let rows = try await store.usage.top(
            dimension, by: ranking, from: query.from, to: query.to, filter: query.filter, limit: limit)
        return AdminJSON.response(Rows(rows: rows))
    }

    @Sendable func usagePercentiles(_ request: Request, context: Context) async throws -> Response {
        let query = try UsageParameters(request)
        let rows = try await store.usage.percentiles(
            from: query.from, to: query.to, filter: query.filter, groupBy: query.groupBy)
        return AdminJSON.response(Rows(rows: rows))
    }

    static func logQuery(_ request: Request, _ query: UsageParameters) throws -> UsageLogQuery {
        let parameters = request.uri.queryParameters
        var log = UsageLogQuery(since: query.from, until: query.to, filter: query.filter)
        if let limit = parameters.get("limit"), !limit.isEmpty {
            guard let value = Int(limit), (1...500).contains(value) else {
                throw AdminAPIError.invalid("'limit' must be an integer from 1 to 500.")
            }
            log.limit = value
        }
        if let cursor = parameters.get("cursor"), !cursor.isEmpty {
            guard let parsed = UsageCursor(token: cursor) else { throw AdminAPIError.invalid("'cursor' is not valid.") }
            log.after = parsed
        }
        log.requestID = parameters.get("request_id").flatMap { $0.isEmpty ? nil : $0 }
        return log
    }

    @Sendable func usageRequests(_ request: Request, context: Context) async throws -> Response {
        let query = try UsageParameters(request, extra: ["limit", "cursor", "request_id"])
        let page = try await store.usage.log(try Self.logQuery(request, query))
        return AdminJSON.response(page)
    }

    /// The filtered log as CSV or JSON, streamed page by page (never built whole in memory).
    @Sendable func usageExport(_ request: Request, context: Context) async throws -> Response {
        let query = try UsageParameters(request, extra: ["format", "request_id"])
        guard let format = UsageExportFormat(rawValue: request.uri.queryParameters.get("format") ?? "csv") else {
            throw AdminAPIError.invalid("'format' must be csv or json.")
        }
        return Self.exportResponse(store: store, log: try Self.logQuery(request, query), format: format)
    }

    /// The rows of `log` (every page of it) as a download: shared with the console's export.
    static func exportResponse(store: GatewayStore, log: UsageLogQuery, format: UsageExportFormat) -> Response {
        var log = log
        log.limit = 1000
        let export = store.usage.export(log, format: format)
        let type = format == .csv ? "text/csv; charset=utf-8" : "application/json"
        return Response(
            status: .ok,
            headers: [.contentType: type, .contentDisposition: "attachment; filename=\"usage.\(format.rawValue)\""],
            body: ResponseBody { writer in
                for try await chunk in export { try await writer.write(ByteBuffer(string: chunk)) }
                try await writer.finish(nil)
            })
    }
}
