import HummingbirdCore
import NIOCore

/// Notices a client that closed its side of the connection.
///
/// Hummingbird's HTTP/1 children allow remote half-closure, so a client that goes away while the server
/// is not writing (a stalled stream) leaves the channel active; only the `inputClosed` event tells.
/// One watcher per connection, after HTTP decoding; state only touched on the channel's event loop.
final class InputClosedWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private(set) var inputClosed = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed {
            inputClosed = true
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inputClosed = true
        context.fireChannelInactive()
    }

    /// Whether the client of `channel` is still there: the channel is active and its input not closed.
    static func isOpen(_ channel: any Channel) async -> Bool {
        guard channel.isActive else { return false }
        do {
            return try await channel.eventLoop.submit {
                let watcher = try channel.pipeline.syncOperations.handler(type: InputClosedWatcher.self)
                return !watcher.inputClosed
            }.get()
        } catch {
            return channel.isActive
        }
    }
}
