import Foundation
import GatewayStore
import Logging
import ServiceLifecycle

/// Keeps this instance in step with the database and the database tidy: re-reads the runtime settings
/// (so a change saved on another instance applies here too), and now and then removes expired sessions
/// and login failures older than the throttling window.
struct AdminMaintenanceService: Service {
    let store: GatewayStore
    let settings: PersistedRuntimeSettings
    let throttle: LoginThrottle
    let interval: Duration
    let logger: Logger
    /// Housekeeping runs every this many rounds.
    let pruneEvery = 20

    func run() async throws {
        await PeriodicWork.run(every: interval, delayFirst: true, state: 0) { round in
            round += 1
            do {
                try await settings.reload(logger: logger)
                if round % pruneEvery == 0 {
                    let now = Date()
                    let sessions = try await store.sessions.deleteExpired(now: now)
                    let failures = try await store.loginAttempts.prune(before: throttle.windowStart(now))
                    logger.debug(
                        "admin housekeeping",
                        metadata: ["sessions.removed": "\(sessions)", "login_failures.removed": "\(failures)"])
                }
            } catch is CancellationError {
                return
            } catch {
                logger.warning("admin maintenance failed", metadata: ["error": "\(error)"])
            }
        }
    }
}
