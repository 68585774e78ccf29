#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The process's limit on open files (`RLIMIT_NOFILE`): every client connection, upstream connection
/// and database file takes one. systemd starts services with a soft limit of 1,024 and a much higher
/// hard limit; a gateway left at 1,024 runs out under a few hundred idle connections.
public enum FileDescriptorLimit {
    /// Raises the soft limit to the hard limit; returns the soft limit now in force (nil if unknown).
    @discardableResult
    public static func raiseToHardLimit() -> Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return nil }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return current
    }

    /// The soft limit in force (nil if unknown or unlimited).
    public static var current: Int? {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur != rlim_t.max else { return nil }
        return Int(clamping: limit.rlim_cur)
    }

    /// The client connections that fit under a file limit: half of it, less what the gateway keeps
    /// for itself, leaves the other half for the upstream connections those clients cause.
    static func connectionsFitting(_ fileLimit: Int) -> Int {
        max(16, (fileLimit - 64) / 2)
    }
}
