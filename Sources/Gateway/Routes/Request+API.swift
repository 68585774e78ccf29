import HTTPTypes
import Hummingbird

extension Request {
    /// The body decoded as an API request: too large is a 413, too deep or too many elements
    /// (`JSONShapeLimits`) a 400 naming the limit, malformed a 400 naming the field.
    mutating func decodeAPIBody<Body: Decodable>(_ type: Body.Type, limit: Int) async throws -> Body {
        let body = try await collectBody(upTo: limit)
        try JSONWire.checkRequestShape(body)
        do {
            return try JSONWire.decodeRequest(type, from: body)
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
        return Response(
            status: .ok, headers: headers,
            body: ResponseBody { writer in
                do {
                    try await request.body.consumeWithCancellationOnInboundClose { _ in try await write(&writer) }
                } catch {
                    ticket?.finish(status: 200, cancelled: true)
                    throw error
                }
                try await writer.finish(nil)
            })
    }
}
