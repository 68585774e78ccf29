import ServiceLifecycle

/// The loop of the gateway's background services: work, then wait an interval, until the gateway
/// shuts down gracefully or the service is cancelled. A shutdown ends the wait at once; work under
/// way is cancelled.
enum PeriodicWork {
    /// Runs `work` every `interval` (the first time at once, or after one interval with
    /// `delayFirst`), handing it `state` to keep between rounds.
    static func run<State: Sendable>(
        every interval: Duration, delayFirst: Bool = false, state: State,
        _ work: @escaping @Sendable (inout State) async -> Void
    ) async {
        await cancelWhenGracefulShutdown {
            var state = state
            if !delayFirst { await work(&state) }
            while true {
                do {
                    try await Task.sleep(for: interval)
                } catch {
                    return
                }
                await work(&state)
            }
        }
    }

    static func run(every interval: Duration, delayFirst: Bool = false, _ work: @escaping @Sendable () async -> Void)
        async
    {
        await run(every: interval, delayFirst: delayFirst, state: ()) { _ in await work() }
    }
}
