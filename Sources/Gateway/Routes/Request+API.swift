import HTTPTypes
import Hummingbird

extension Request {
    /// The body decoded as an API request: too large is a 413, malformed a 400 naming the field.
    mutating func decodeAPIBody<Body: Decodable>(_ type: Body.Type, limit: Int) async throws -> Body {
        let body = try await collectBody(upTo: limit)
        do {
            return try JSONWire.decode(type, from: body)
        } catch {
            throw GatewayError.decoding(error)
        }
    }
}

extension Response {
    /// A streamed API response. A client that goes away cancels `write` — and with it the upstream
    /// request — and the request is accounted as cancelled; otherwise `write` finishes the ticket.
    static func apiStream(
        headers: HTTPFields, request: Request, ticket: RequestTicket?,
        _ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void
    ) -> Response {
        ticket?.finishWithBody()
        // The body is written after the handler (and the middleware that bound the drain) returned.
        let drain = ShutdownDrain.current
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                do {
                    try await ShutdownDrain.$current.withValue(drain) {
                        try await request.body.consumeWithCancellationOnInboundClose { _ in try await write(&writer) }
                    }
                } catch {
                    ticket?.finish(status: 200, cancelled: true)
                    throw error
                }
                try await writer.finish(nil)
            })
    }
}
