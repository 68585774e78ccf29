// usage-bench: fills a usage store with realistic rows, then times every query the admin UI draws.
// Run it through bench/usage-queries/run.sh, which builds it in release and provides the databases.
import Foundation
import GatewayStore
import Logging

struct Options {
    var rows = 1_000_000
    var engine = "sqlite"
    var databaseURL: String?
    var dataDirectory: String?
    var iterations = 7
    var batch = 5000
    var seed: UInt64 = 42
    var header = true

    static func parse(_ arguments: [String]) throws -> Options {
        var options = Options()
        var iterator = arguments.dropFirst().makeIterator()
        func value(_ name: String) throws -> String {
            guard let value = iterator.next() else { throw BenchError.usage("\(name) needs a value") }
            return value
        }
        while let argument = iterator.next() {
            switch argument {
            case "--rows": options.rows = Int(try value(argument)) ?? options.rows
            case "--engine": options.engine = try value(argument)
            case "--database-url": options.databaseURL = try value(argument)
            case "--data-dir": options.dataDirectory = try value(argument)
            case "--iterations": options.iterations = max(1, Int(try value(argument)) ?? options.iterations)
            case "--batch": options.batch = max(1, Int(try value(argument)) ?? options.batch)
            case "--seed": options.seed = UInt64(try value(argument)) ?? options.seed
            case "--no-header": options.header = false
            default: throw BenchError.usage("unknown argument \(argument)")
            }
        }
        guard ["sqlite", "postgres"].contains(options.engine) else { throw BenchError.usage("--engine sqlite|postgres") }
        return options
    }
}

enum BenchError: Error, CustomStringConvertible {
    case usage(String)
    case failed(String)

    var description: String {
        switch self {
        case .usage(let message): "usage: usage-bench [--rows N] [--engine sqlite|postgres] [--database-url URL] "
            + "[--data-dir DIR] [--iterations N] [--batch N] [--seed N] [--no-header]\n\(message)"
        case .failed(let message): message
        }
    }
}

/// SplitMix64: the same rows for the same seed on every machine.
struct Random {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }

    /// Standard normal (Box–Muller).
    mutating func normal() -> Double {
        let u = max(unit(), 1e-12)
        return (-2 * log(u)).squareRoot() * cos(2 * .pi * unit())
    }

    /// Index drawn with the given cumulative weights.
    mutating func pick(_ cumulative: [Double]) -> Int {
        let target = unit() * cumulative[cumulative.count - 1]
        var low = 0
        var high = cumulative.count - 1
        while low < high {
            let mid = (low + high) / 2
            if cumulative[mid] < target { low = mid + 1 } else { high = mid }
        }
        return low
    }
}

/// 30 days of traffic: 50 keys of very different sizes (Zipf), each mostly on one or two of 10 models
/// and one of 6 endpoints, busier by day than by night, ~4 % errors, 60 % streamed.
struct Workload {
    static let days = 30
    static let keys = (0..<50).map { "key_" + String(format: "%02d", $0) + "abcdefghijklmnop" }
    static let models = [
        "llama3.1:8b", "llama3.1:70b", "qwen3:4b", "qwen3:32b", "gemma3:12b", "mistral-small:24b",
        "deepseek-r1:14b", "phi4:14b", "nomic-embed-text:latest", "llava:13b",
    ]
    static let endpoints = [
        "/v1/chat/completions", "/v1/messages", "/api/chat", "/api/generate", "/v1/embeddings", "/v1/completions",
    ]
    /// (status, error type, weight)
    static let outcomes: [(Int, String?, Double)] = [
        (200, nil, 95.9), (429, "rate_limited", 1.5), (400, "invalid_request", 1.0), (401, "authentication", 0.3),
        (404, "model_not_found", 0.3), (500, "upstream_error", 0.6), (502, "upstream_unavailable", 0.3),
        (504, "upstream_timeout", 0.1),
    ]

    let end: Date
    let start: Date
    var random: Random
    let keyWeights: [Double]
    let outcomeWeights: [Double]
    let hourWeights: [Double]
    let primaryModel: [Int]
    let secondaryModel: [Int]
    let primaryEndpoint: [Int]

    init(seed: UInt64, end: Date) {
        self.end = end
        self.start = end.addingTimeInterval(-Double(Self.days) * 86_400)
        var random = Random(state: seed)
        var cumulative = 0.0
        keyWeights = (0..<Self.keys.count).map { cumulative += 1 / pow(Double($0 + 1), 0.9); return cumulative }
        cumulative = 0
        outcomeWeights = Self.outcomes.map { cumulative += $0.2; return cumulative }
        cumulative = 0
        // Busy 08:00–20:00 UTC, quiet at night.
        hourWeights = (0..<(Self.days * 24)).map { hour in
            cumulative += 1.2 + sin(Double(hour % 24 - 8) / 24 * 2 * .pi)
            return cumulative
        }
        primaryModel = Self.keys.indices.map { _ in random.below(Self.models.count) }
        secondaryModel = Self.keys.indices.map { _ in random.below(Self.models.count) }
        primaryEndpoint = Self.keys.indices.map { _ in random.below(4) }
        self.random = random
    }

    mutating func record(_ index: Int) -> UsageRecord {
        let hour = random.pick(hourWeights)
        let time = start.addingTimeInterval(Double(hour) * 3600 + random.unit() * 3600)
        let key = random.pick(keyWeights)
        let modelDraw = random.unit()
        let model = modelDraw < 0.6 ? primaryModel[key] : modelDraw < 0.85 ? secondaryModel[key] : random.below(Self.models.count)
        let endpoint = random.unit() < 0.75 ? primaryEndpoint[key] : random.below(Self.endpoints.count)
        let (status, errorType, _) = Self.outcomes[random.pick(outcomeWeights)]
        let failed = status >= 400
        let streamed = !failed && endpoint != 4 && random.unit() < 0.6
        let cancelled = streamed && random.unit() < 0.02
        let prompt = failed ? 0 : Int(exp(5.5 + 1.1 * random.normal()).rounded())
        var completion = failed || endpoint == 4 ? 0 : Int(exp(5.0 + 0.9 * random.normal()).rounded())
        if cancelled { completion /= 3 }
        let ttft = failed ? nil : exp(5.3 + 0.8 * random.normal())
        let tps = 15 + 45 * random.unit()
        let latency = failed ? exp(2.5 + 1.0 * random.normal()) : (ttft ?? 0) + Double(completion) / tps * 1000
        return UsageRecord(
            time: time, requestID: "req_\(String(index, radix: 36))_\(String(random.next() % 1_000_000, radix: 36))",
            keyID: status == 401 ? nil : Self.keys[key],
            modelRequested: Self.models[model], modelResolved: status == 404 ? nil : Self.models[model],
            endpoint: Self.endpoints[endpoint], streamed: streamed, status: status, errorType: errorType,
            promptTokens: prompt, completionTokens: completion, cancelled: cancelled, latencyMs: latency,
            timeToFirstTokenMs: streamed ? ttft : nil, tokensPerSecond: completion > 0 ? tps : nil,
            clientAddress: "10.0.\(key).\(random.below(250) + 1)",
            userAgent: ["openai-python/1.54.0", "anthropic-typescript/0.30.1", "curl/8.5.0", "ollama-js/0.5.9"][key % 4])
    }
}

struct Measurement {
    var name: String
    var milliseconds: [Double]
    var rows: Int
}

@main
struct UsageBench {
    static func main() async {
        do {
            try await run(try Options.parse(CommandLine.arguments))
        } catch {
            FileHandle.standardError.write(Data("usage-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    static func log(_ message: String) {
        FileHandle.standardError.write(Data("usage-bench: \(message)\n".utf8))
    }

    static func run(_ options: Options) async throws {
        let configuration: StoreConfiguration
        var cleanupDirectory: String?
        if options.engine == "postgres" {
            guard let url = options.databaseURL, !url.isEmpty else { throw BenchError.usage("--database-url is required for postgres") }
            var postgres = try StoreConfiguration.postgres(url: url)
            postgres.maxConnections = 4
            configuration = postgres
        } else {
            let directory = options.dataDirectory
                ?? FileManager.default.temporaryDirectory.appendingPathComponent("usage-bench-\(UUID().uuidString)").path
            if options.dataDirectory == nil { cleanupDirectory = directory }
            configuration = StoreConfiguration(location: .sqlite(dataDirectory: directory))
        }
        var logger = Logger(label: "usage-bench")
        logger.logLevel = .warning
        let database = try await GatewayDatabase.open(configuration, logger: logger)
        do {
            try await bench(GatewayStore(database: database).usage, options: options)
        } catch {
            try? await database.shutdown()
            if let cleanupDirectory { try? FileManager.default.removeItem(atPath: cleanupDirectory) }
            throw error
        }
        try await database.shutdown()
        if let cleanupDirectory { try? FileManager.default.removeItem(atPath: cleanupDirectory) }
    }

    static func bench(_ usage: UsageRepository, options: Options) async throws {
        // The data ends at the last whole hour, so that "the last 24 hours" is full of traffic.
        let end = Date(timeIntervalSince1970: (Date().timeIntervalSince1970 / 3600).rounded(.down) * 3600)
        var workload = Workload(seed: options.seed, end: end)

        let existing = try await usage.totals(from: workload.start, to: end).first?.metrics.requests ?? 0
        if existing != 0 {
            throw BenchError.failed("the database already holds \(existing) usage rows; give an empty database")
        }
        log("inserting \(options.rows) rows in batches of \(options.batch) (\(options.engine))")
        let clock = ContinuousClock()
        let insertStart = clock.now
        var inserted = 0
        var batchTimes: [Double] = []
        while inserted < options.rows {
            let count = min(options.batch, options.rows - inserted)
            let batch = (0..<count).map { workload.record(inserted + $0) }
            let started = clock.now
            try await usage.insert(batch)
            batchTimes.append(milliseconds(clock.now - started))
            inserted += count
            if inserted % 100_000 < options.batch { log("  \(inserted) rows") }
        }
        let insertSeconds = milliseconds(clock.now - insertStart) / 1000
        log(String(format: "inserted %d rows in %.1f s (%.0f rows/s; median batch %.0f ms)",
            inserted, insertSeconds, Double(inserted) / insertSeconds, median(batchTimes)))
        let analyzeStart = clock.now
        try await usage.analyze()
        log(String(format: "analyze: %.0f ms", milliseconds(clock.now - analyzeStart)))

        let day: TimeInterval = 86_400
        let from30 = workload.start
        let from7 = end.addingTimeInterval(-7 * day)
        let from24h = end.addingTimeInterval(-day)
        let bigKey = Workload.keys[0]
        let smallKey = Workload.keys[37]
        let model = Workload.models[3]
        // A position in the middle of the log, as page 10,000 would reach.
        let middle = UsageCursor(time: end.addingTimeInterval(-15 * day), id: Int64.max)

        typealias Query = @Sendable () async throws -> Int
        let queries: [(String, Query)] = [
            ("log: newest page (50)", { try await usage.log(UsageLogQuery()).entries.count }),
            ("log: page in the middle (cursor)", { try await usage.log(UsageLogQuery(after: middle)).entries.count }),
            ("log: key", { try await usage.log(UsageLogQuery(filter: UsageFilter(keyID: smallKey))).entries.count }),
            ("log: model", { try await usage.log(UsageLogQuery(filter: UsageFilter(model: model))).entries.count }),
            ("log: endpoint", { try await usage.log(UsageLogQuery(filter: UsageFilter(endpoint: "/v1/completions"))).entries.count }),
            ("log: status 5xx", { try await usage.log(UsageLogQuery(filter: UsageFilter(status: .family(5)))).entries.count }),
            ("log: status 504 (rare)", { try await usage.log(UsageLogQuery(filter: UsageFilter(status: .exact(504)))).entries.count }),
            ("log: key + 5xx", {
                try await usage.log(UsageLogQuery(filter: UsageFilter(keyID: smallKey, status: .family(5)))).entries.count
            }),
            ("log: model + endpoint + 4xx, 7 days", {
                try await usage.log(UsageLogQuery(
                    since: from7, filter: UsageFilter(model: model, endpoint: "/api/chat", status: .family(4)))).entries.count
            }),
            ("log: key, one day a week ago", {
                try await usage.log(UsageLogQuery(
                    since: from7, until: from7.addingTimeInterval(day), filter: UsageFilter(keyID: bigKey))).entries.count
            }),
            ("log: request id", { try await usage.log(UsageLogQuery(requestID: "req_2s_0")).entries.count }),
            ("totals: 30 days", { try await usage.totals(from: from30, to: end).count }),
            ("totals: 30 days by key", { try await usage.totals(from: from30, to: end, groupBy: .key).count }),
            ("totals: 30 days by model", { try await usage.totals(from: from30, to: end, groupBy: .model).count }),
            ("totals: 30 days by endpoint", { try await usage.totals(from: from30, to: end, groupBy: .endpoint).count }),
            ("totals: 30 days by status", { try await usage.totals(from: from30, to: end, groupBy: .status).count }),
            ("totals: 7.5 days (hour edges) by model", {
                try await usage.totals(from: from7.addingTimeInterval(-43_200 - 1800), to: end.addingTimeInterval(-1800), groupBy: .model).count
            }),
            ("totals: key, 30 days by model", {
                try await usage.totals(from: from30, to: end, filter: UsageFilter(keyID: bigKey), groupBy: .model).count
            }),
            ("series: 24 h hourly", { try await usage.series(from: from24h, to: end, granularity: .hour).count }),
            ("series: 7 days hourly by model", { try await usage.series(from: from7, to: end, granularity: .hour, groupBy: .model).count }),
            ("series: 30 days hourly", { try await usage.series(from: from30, to: end, granularity: .hour).count }),
            ("series: 30 days daily by key", { try await usage.series(from: from30, to: end, granularity: .day, groupBy: .key).count }),
            ("series: 30 days daily, one model", {
                try await usage.series(from: from30, to: end, granularity: .day, filter: UsageFilter(model: model)).count
            }),
            ("series: 30 days daily errors (5xx) by endpoint", {
                try await usage.series(
                    from: from30, to: end, granularity: .day, filter: UsageFilter(status: .family(5)), groupBy: .endpoint).count
            }),
            ("top: 10 keys by tokens, 30 days", { try await usage.top(.key, by: .tokens, from: from30, to: end).count }),
            ("top: 10 models by requests, 30 days", { try await usage.top(.model, by: .requests, from: from30, to: end).count }),
            ("top: 10 keys by errors, 7 days", { try await usage.top(.key, by: .errors, from: from7, to: end).count }),
            ("percentiles: 30 days", { try await usage.percentiles(from: from30, to: end).count }),
            ("percentiles: 30 days by model", { try await usage.percentiles(from: from30, to: end, groupBy: .model).count }),
            ("percentiles: 24 h, one key", {
                try await usage.percentiles(from: from24h, to: end, filter: UsageFilter(keyID: bigKey)).count
            }),
            ("export: first 1,000 rows as CSV", {
                var iterator = usage.export(UsageLogQuery(), format: .csv).makeAsyncIterator()
                return try await iterator.next()?.utf8.count ?? 0
            }),
            ("export: one key, one day, JSON", {
                var bytes = 0
                for try await chunk in usage.export(
                    UsageLogQuery(since: from24h, filter: UsageFilter(keyID: smallKey)), format: .json
                ) { bytes += chunk.utf8.count }
                return bytes
            }),
        ]

        var results: [Measurement] = []
        for (name, query) in queries {
            let rows = try await query()  // warm-up
            var times: [Double] = []
            for _ in 0..<options.iterations {
                let started = clock.now
                _ = try await query()
                times.append(milliseconds(clock.now - started))
            }
            results.append(Measurement(name: name, milliseconds: times, rows: rows))
        }
        let pruneStart = clock.now
        let pruned = try await usage.prune(olderThan: UsageRetention(logDays: 29, hourlyDays: 29, dailyDays: nil), now: end)
        let pruneMs = milliseconds(clock.now - pruneStart)
        log(String(format: "prune of the oldest day: %d log rows, %d hourly rows in %.0f ms",
            pruned.logRows, pruned.hourlyRows, pruneMs))

        if options.header {
            print("| query | engine | median ms | max ms | result |")
            print("|---|---|---:|---:|---:|")
        }
        for result in results {
            let figures = String(format: "%.1f | %.1f | %d", median(result.milliseconds), result.milliseconds.max() ?? 0, result.rows)
            print("| \(result.name) | \(options.engine) | \(figures) |")
        }
        let slow = results.filter { median($0.milliseconds) >= 100 }
        if !slow.isEmpty {
            log("over 100 ms (median): " + slow.map(\.name).joined(separator: ", "))
        }
    }

    static func milliseconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return 0 }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
