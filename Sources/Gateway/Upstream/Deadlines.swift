import NIOCore
import NIOPosix
import Synchronization

/// Sleeps on a NIO event loop's timer. `Task.sleep` arms a Dispatch timer, whose wake-up runs on
/// Dispatch's own threads: several microseconds and a thread switch per request, for a timer that
/// is almost always cancelled. NIO's timers are part of the loop the request already runs on.
enum EventLoopTimer {
    static func sleep(until instant: ContinuousClock.Instant) async throws {
        let delay = ContinuousClock.now.duration(to: instant)
        let scheduled = MultiThreadedEventLoopGroup.singleton.any().scheduleTask(in: TimeAmount(delay)) {}
        try await withTaskCancellationHandler {
            do {
                try await scheduled.futureResult.get()
            } catch {
                throw CancellationError()
            }
        } onCancel: {
            scheduled.cancel()
        }
    }

    static func sleep(for duration: Duration) async throws {
        try await sleep(until: .now + duration)
    }
}

/// When the upstream last sent something, for the idle-read timeout of streams.
final class UpstreamActivity: Sendable {
    private let lastNanoseconds: Atomic<Int64>
    private let clock = ContinuousClock()
    private let origin: ContinuousClock.Instant

    init() {
        origin = clock.now
        lastNanoseconds = Atomic(0)
    }

    func touch() {
        lastNanoseconds.store(Self.nanoseconds(clock.now - origin), ordering: .relaxed)
    }

    var lastActivity: ContinuousClock.Instant {
        origin + .nanoseconds(lastNanoseconds.load(ordering: .relaxed))
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}

/// Lets a non-Sendable, non-escaping operation run in a child task while its caller waits for it,
/// which is safe because the caller does nothing else until the task group has ended.
private struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
}

/// Runs `operation` under an overall deadline and, optionally, an idle timeout measured from the
/// last `UpstreamActivity.touch()`. When either passes, the operation is cancelled (which cancels
/// its upstream request) and a `.timeout` error is thrown. A graceful shutdown's drain deadline
/// (`ShutdownDrain`) ends it the same way, with the drain's error.
///
/// The HTTP client's own deadline only covers the wait for response headers; a stream can last
/// much longer, so the gateway keeps its own clock.
func withDeadlines<Value: Sendable>(
    overall: Duration, idle: Duration?,
    _ operation: (UpstreamActivity) async throws -> Value
) async throws -> Value {
    let activity = UpstreamActivity()
    let clock = ContinuousClock()
    let deadline = clock.now + overall
    if ShutdownDrain.current?.isExpired == true { throw ShutdownDrain.error }
    return try await withoutActuallyEscaping(operation) { operation in
        let transfer = UncheckedTransfer(value: operation)
        return try await withThrowingTaskGroup(of: Value?.self) { group in
            group.addTask { try await transfer.value(activity) }
            // A graceful shutdown's drain deadline ends the request like its own deadline would.
            if let drain = ShutdownDrain.current {
                group.addTask {
                    try await drain.waitForDeadline()
                    throw ShutdownDrain.error
                }
            }
            group.addTask {
                while true {
                    var wake = deadline
                    if let idle { wake = min(wake, activity.lastActivity + idle) }
                    try await EventLoopTimer.sleep(until: wake)
                    let now = clock.now
                    if now >= deadline {
                        throw GatewayError(.timeout, "The request took longer than its deadline of \(overall.formattedMilliseconds).")
                    }
                    if let idle, now - activity.lastActivity >= idle {
                        throw GatewayError(.timeout, "Ollama sent nothing for \(idle.formattedMilliseconds).")
                    }
                }
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let value = first else {
                throw CancellationError()
            }
            return value
        }
    }
}

extension Duration {
    var formattedMilliseconds: String {
        let (seconds, attoseconds) = components
        let milliseconds = seconds * 1000 + attoseconds / 1_000_000_000_000_000
        return milliseconds % 1000 == 0 ? "\(milliseconds / 1000) s" : "\(milliseconds) ms"
    }
}
