import Foundation

/// The fixed log-scale buckets that latency and time-to-first-token are counted in, in the roll-ups, so
/// that percentiles over any range and filter come from a few summed rows instead of the raw log.
///
/// Bucket 0 holds values below 1 ms; bucket `i` (1…38) holds `[2^((i-1)/2), 2^(i/2))` ms, each √2 times
/// wider than the one before; bucket 39 holds everything from 2^19 ms (about 8.7 minutes) on. An
/// estimated percentile therefore lies in the same bucket as the true one, within a factor of √2
/// (±19 %) of it.
public enum UsageHistogram {
    public static let bucketCount = 40

    /// The bucket a value in milliseconds is counted in.
    public static func bucket(for milliseconds: Double) -> Int {
        guard milliseconds.isFinite, milliseconds >= 1 else { return 0 }
        let index = Int((2 * log2(milliseconds)).rounded(.down)) + 1
        return min(max(index, 1), bucketCount - 1)
    }

    /// Inclusive lower bound of a bucket, in milliseconds.
    public static func lowerBound(of bucket: Int) -> Double {
        bucket <= 0 ? 0 : pow(2, Double(bucket - 1) / 2)
    }

    /// Exclusive upper bound of a bucket, in milliseconds (`infinity` for the last).
    public static func upperBound(of bucket: Int) -> Double {
        bucket >= bucketCount - 1 ? .infinity : pow(2, Double(bucket) / 2)
    }

    /// The `quantile` (0…1) of the values counted in `counts`, by nearest rank: the bucket holding the
    /// rank-th smallest value is found exactly, and the value is interpolated inside it (linearly in the
    /// first bucket, geometrically in the others; the open last bucket answers its lower bound).
    /// `nil` when nothing was counted.
    public static func percentile(_ quantile: Double, of counts: [Int]) -> Double? {
        let total = counts.reduce(0, +)
        guard total > 0 else { return nil }
        let rank = max(1, Int((quantile * Double(total)).rounded(.up)))
        var below = 0
        for (bucket, count) in counts.enumerated() where count > 0 {
            if below + count >= rank {
                // Position of the rank inside the bucket, 0 < fraction <= 1.
                let fraction = (Double(rank - below) - 0.5) / Double(count)
                let lower = lowerBound(of: bucket)
                let upper = upperBound(of: bucket)
                if bucket == 0 { return upper * fraction }
                if !upper.isFinite { return lower }
                return lower * pow(upper / lower, fraction)
            }
            below += count
        }
        return lowerBound(of: counts.count - 1)
    }
}
