import HTTPTypes
import Hummingbird
import NIOCore
import NIOPosix

extension Request {
    /// The body decoded as an API request: too large is a 413, too deep or too many elements
    /// (`JSONShapeLimits`) a 400 naming the limit, malformed a 400 naming the field.
    mutating func decodeAPIBody<Body: Decodable & Sendable>(_ type: Body.Type, limit: Int) async throws -> Body {
        let body = try await collectBody(upTo: limit)
        return try await Self.read(body) { body in
            try JSONWire.checkRequestShape(body)
            do {
                return try JSONWire.decodeRequest(Body.self, from: body)
            } catch {
                throw GatewayError.decoding(error)
            }
        }
    }

    /// Bodies larger than this are read on NIO's thread pool.
    static let readOffTheSharedThreadsAbove = 64 * 1024

    /// Reads a large body on NIO's thread pool rather than on the few threads all requests' tasks
    /// share (one per core): a handful of large bodies would otherwise hold them all, and nothing
    /// else — `/health/live` included — would run until they were read. A small body is read in
    /// place: the hop would cost more than the reading.
    static func read<Value: Sendable>(
        _ body: ByteBuffer, _ reading: @escaping @Sendable (ByteBuffer) throws -> Value
    ) async throws -> Value {
        guard body.readableBytes > readOffTheSharedThreadsAbove else { return try reading(body) }
        return try await NIOThreadPool.singleton.runIfActive { try reading(body) }
    }
}

extension Response {
    /// A streamed API response. The connection stays open for the client's next request once the
    /// stream is complete. A client that goes away is noticed when a write to it fails — at the
    /// next output or heartbeat (`StreamRelay`) — which throws out of `write`, cancelling the upstream
    /// request, and the request is accounted as cancelled; otherwise `write` finishes the ticket.
    ///
    /// (Watching the inbound side for the close, as Hummingbird's `consumeWithCancellationOnInboundClose`
    /// does, would read the connection's next request and so close it after every stream.)
    static func apiStream(
        headers: HTTPFields, ticket: RequestTicket?,
        _ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) -> Response {
        ticket?.finishWithBody()
        // The body is written after the handler (and the middleware that bound the drain and the
        // request's routing) returned; a stream opened from the body still routes as its request.
        let drain = ShutdownDrain.current
        let routing = RequestRouting.current
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                do {
                    try await ShutdownDrain.$current.withValue(drain) {
                        try await RequestRouting.$current.withValue(routing) { try await write(&writer) }
                    }
                } catch {
                    ticket?.finish(status: 200, cancelled: true)
                    throw error
                }
                try await writer.finish(nil)
            })
    }
}
