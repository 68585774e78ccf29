import CConcurrencyHook
import NIOCore
import NIOPosix
import Synchronization

/// Runs Swift concurrency's jobs on NIO's event loops instead of a thread pool of their own, so that
/// a request moves between its handler, the HTTP server and the Ollama client without waking another
/// thread at every step. A job sent from an event loop stays on that loop; one sent from elsewhere
/// (NIO's thread pool finishing a bcrypt or SQLite call) goes to the loops in turn. Blocking work
/// already runs on NIO's thread pool, never on a loop.
///
/// A job runs isolated to nothing (the generic executor), as on Swift's own pool. NIO's takeover runs
/// it isolated to the loop's serial executor instead; then every step into nonisolated async code
/// switched executors and went through the loop as a new job: 157 jobs per non-streamed chat request,
/// against 10 this way (`gateway_executor_jobs_total`, BENCHMARKS.md).
///
/// NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` also finds the
/// runtime's hook with dlsym, which finds nothing in a binary built with `--static-swift-stdlib`
/// (the release archive, the container image, the benchmark). The hook is installed through a small
/// C target instead, the same way in every build.
public enum EventLoopExecutor {
    /// One executor per loop of the group the server and the HTTP client share.
    private static let executors: [EventLoopTaskExecutor] =
        MultiThreadedEventLoopGroup.singleton.makeIterator().map(EventLoopTaskExecutor.init)
    /// Where jobs from outside the loops go next.
    private static let turn = Atomic<Int>(0)
    /// Jobs sent to the global executor since the hook was installed: those run on the thread that
    /// sent them (an event loop's), and those that crossed to another thread.
    private static let stayed = Atomic<Int>(0)
    private static let crossed = Atomic<Int>(0)

    /// Installs the hook; false when one is installed already (jobs then run wherever it sends them).
    @discardableResult
    public static func install() -> Bool {
        typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let hook: Hook = { job, _ in EventLoopExecutor.enqueue(ExecutorJob(job)) }
        return c_concurrency_install_enqueue_global_hook(unsafeBitCast(hook, to: UnsafeRawPointer.self))
    }

    static func enqueue(_ job: consuming ExecutorJob) {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop,
            let executor = executors.first(where: { $0.loop === current })
        {
            stayed.wrappingAdd(1, ordering: .relaxed)
            executor.enqueue(job)
        } else {
            crossed.wrappingAdd(1, ordering: .relaxed)
            let next = turn.wrappingAdd(1, ordering: .relaxed).oldValue
            executors[next % executors.count].enqueue(job)
        }
    }

    /// The counts of `stayed` and `crossed` jobs, for `/metrics`.
    static var jobs: (stayed: Int, crossed: Int) {
        (stayed.load(ordering: .relaxed), crossed.load(ordering: .relaxed))
    }
}

/// An event loop as a task executor: its jobs run on the loop's thread, isolated to nothing.
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    /// Whether the runtime's generic executor — the executor Swift's own pool runs its jobs with —
    /// can be written as its all-zero reference. Always so today; should the layout ever differ,
    /// jobs run on this task executor, which costs executor switches, not correctness. (Not an
    /// optional executor: the all-zero reference is what an optional uses for nil.)
    private static let genericIsAllZero = MemoryLayout<UnownedSerialExecutor>.size == MemoryLayout<(UInt, UInt)>.size

    init(_ loop: any EventLoop) {
        self.loop = loop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute {
            if Self.genericIsAllZero {
                job.runSynchronously(on: unsafeBitCast((UInt(0), UInt(0)), to: UnownedSerialExecutor.self))
            } else {
                job.runSynchronously(on: self.asUnownedTaskExecutor())
            }
        }
    }
}
