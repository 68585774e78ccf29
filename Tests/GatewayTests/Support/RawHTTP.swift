import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// What a raw connection got back.
struct RawReply: Sendable {
    var text: String
    /// The server closed the connection (rather than the test giving up after its timeout).
    var closedByServer: Bool
    var elapsed: Duration

    var statusLine: String { text.components(separatedBy: "\r\n").first ?? "" }
    var body: String { text.components(separatedBy: "\r\n\r\n").dropFirst().joined(separator: "\r\n\r\n") }
}

/// A client that writes bytes as given — malformed framing, a head that never ends — which no HTTP
/// client library will send, and watches what the server does with the connection.
enum RawHTTP {
    /// Connects to 127.0.0.1:`port`, sends each piece in turn (waiting `pause` between pieces), then
    /// reads until the server closes the connection or `timeout` has passed since connecting.
    static func exchange(
        port: Int, _ pieces: [String] = [], pause: Duration = .zero, timeout: Duration
    ) async throws -> RawReply {
        let started = ContinuousClock.now
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let gaveUp = Atomic(false)
        let timer = channel.channel.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            gaveUp.store(true, ordering: .relaxed)
            channel.channel.close(promise: nil)
        }
        var received = ByteBuffer()
        do {
            try await channel.executeThenClose { inbound, outbound in
                for (index, piece) in pieces.enumerated() {
                    if index > 0, pause > .zero { try await Task.sleep(for: pause) }
                    try await outbound.write(ByteBuffer(bytes: Array(piece.utf8)))
                }
                for try await chunk in inbound { received.writeImmutableBuffer(chunk) }
            }
        } catch {
            // A write or read on a connection the server closed: what came before still counts.
        }
        timer.cancel()
        return RawReply(
            text: String(decoding: received.readableBytesView, as: UTF8.self),
            closedByServer: !gaveUp.load(ordering: .relaxed), elapsed: .now - started)
    }
}
