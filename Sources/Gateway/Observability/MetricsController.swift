import Foundation
import GatewayStore
import HTTPTypes
import Hummingbird
import NIOCore

/// `GET /metrics` in Prometheus' text format. With `METRICS_TOKEN` set it needs that bearer token;
/// without it, only clients on this machine (loopback) may read it.
public struct MetricsController: Sendable {
    public typealias Context = GatewayRequestContext
    let metrics: GatewayMetrics
    let usage: UsageRecorder
    let token: String?
    /// The backends whose state (up, in flight) is read at each scrape.
    let backends: BackendPool?

    public init(metrics: GatewayMetrics, usage: UsageRecorder, token: String?, backends: BackendPool? = nil) {
        self.metrics = metrics
        self.usage = usage
        self.token = token
        self.backends = backends
    }

    public func addRoutes(to router: Router<Context>) {
        router.get("metrics", use: scrape)
    }

    @Sendable func scrape(_ request: Request, context: Context) async throws -> Response {
        guard allowed(request, context: context) else {
            return Response(status: .unauthorized, headers: [.wwwAuthenticate: "Bearer"])
        }
        if let backends { metrics.setBackends(backends.statuses()) }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: metrics.render(queue: usage.depth))))
    }

    func allowed(_ request: Request, context: Context) -> Bool {
        guard let token else {
            guard let address = context.remoteAddress else { return false }
            return address == "127.0.0.1" || address == "::1" || address.hasPrefix("127.")
        }
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer ") else { return false }
        let presented = String(authorization.dropFirst("Bearer ".count))
        // Compare digests in constant time so the time taken says nothing about the token.
        return SecretHash.constantTimeEquals(SecretHash.sha256Hex(presented), SecretHash.sha256Hex(token))
    }
}
