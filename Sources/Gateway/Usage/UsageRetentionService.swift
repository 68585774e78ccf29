import GatewayStore
import Logging
import ServiceLifecycle

/// Prunes the usage log and its roll-ups past their retention, at start-up and then hourly.
struct UsageRetentionService: Service {
    let usage: UsageRepository
    let retention: UsageRetention
    let logger: Logger

    func run() async throws {
        await PeriodicWork.run(every: .seconds(3600)) {
            do {
                let pruned = try await usage.prune(olderThan: retention)
                if pruned.logRows + pruned.hourlyRows + pruned.dailyRows > 0 {
                    logger.info(
                        "usage pruned",
                        metadata: [
                            "usage.log_rows": "\(pruned.logRows)", "usage.hourly_rows": "\(pruned.hourlyRows)",
                            "usage.daily_rows": "\(pruned.dailyRows)",
                        ])
                }
            } catch {
                logger.warning("could not prune usage", metadata: ["error": "\(error)"])
            }
        }
    }
}
