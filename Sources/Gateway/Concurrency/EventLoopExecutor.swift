import CConcurrencyHook
import NIOCore
import NIOPosix
import Synchronization

/// Runs Swift concurrency's jobs on NIO's event loops instead of a thread pool of their own, so that
/// a request moves between its handler, the HTTP server and the Ollama client without waking another
/// thread at every step. A job sent from an event loop stays on that loop; one sent from elsewhere
/// (NIO's thread pool finishing a bcrypt or SQLite call) goes to the next loop. Blocking work already
/// runs on NIO's thread pool, never on a loop.
///
/// NIO's `unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()` finds the
/// runtime's hook with dlsym, which finds nothing in a binary built with `--static-swift-stdlib`
/// (the release archive, the container image, the benchmark): there it returned false and every job
/// ran on Dispatch's threads. The hook is installed through a small C target instead, the same way in
/// every build.
public enum EventLoopExecutor {
    /// Jobs sent to the global executor since the hook was installed: those run on the thread that
    /// sent them (an event loop's), and those that crossed to another thread.
    private static let stayed = Atomic<Int>(0)
    private static let crossed = Atomic<Int>(0)

    /// Installs the hook; false when one is installed already (jobs then run wherever it sends them).
    @discardableResult
    public static func install() -> Bool {
        typealias Hook = @convention(thin) (UnownedJob, @convention(thin) (UnownedJob) -> Void) -> Void
        let hook: Hook = { job, _ in
            let loop: any EventLoop
            if let current = MultiThreadedEventLoopGroup.currentEventLoop {
                loop = current
                EventLoopExecutor.stayed.wrappingAdd(1, ordering: .relaxed)
            } else {
                loop = MultiThreadedEventLoopGroup.singleton.next()
                EventLoopExecutor.crossed.wrappingAdd(1, ordering: .relaxed)
            }
            loop.executor.enqueue(ExecutorJob(job))
        }
        return c_concurrency_install_enqueue_global_hook(unsafeBitCast(hook, to: UnsafeRawPointer.self))
    }

    /// The counts of `stayed` and `crossed` jobs, for `/metrics`.
    static var jobs: (stayed: Int, crossed: Int) {
        (stayed.load(ordering: .relaxed), crossed.load(ordering: .relaxed))
    }
}
