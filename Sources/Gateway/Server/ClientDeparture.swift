import NIOCore

/// Notices a client that closed its side of the connection, at once and without reading the
/// connection's next request.
///
/// Hummingbird's HTTP/1 connections allow remote half-closure, so a client that goes away while the
/// server is not writing (a model that is silent) leaves the channel active; only NIO's `inputClosed`
/// event tells. Hummingbird's own watch (`consumeWithCancellationOnInboundClose`) reads the inbound
/// stream, and with it the next request, so the connection cannot be kept open after it; this
/// handler only looks at the events. First in the pipeline (with `InboundBytesWatcher`).
final class ClientDepartureWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    let departed = OneTimeSignal()

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { departed.fire() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        departed.fire()
        context.fireChannelInactive()
    }

    /// The signal of `channel`'s client leaving; nil for a channel without the watcher (tests'
    /// in-process router).
    static func signal(of channel: any Channel) async -> OneTimeSignal? {
        try? await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.handler(type: ClientDepartureWatcher.self).departed
        }.get()
    }
}
