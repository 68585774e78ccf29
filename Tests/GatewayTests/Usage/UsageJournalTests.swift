import Foundation
import GatewayStore
import Logging
import Testing

@testable import Gateway

#if canImport(Glibc)
import Glibc
#endif

/// The usage journal keeps each finished request's record on disk until its batch is in the
/// database, so that a gateway killed without warning loses none (the end-to-end proof, a SIGKILL in
/// the middle of a load, is in e2e/test_two_gateways.py).
@Suite("Usage journal")
struct UsageJournalTests {
    static func record(_ id: String, key: String? = nil, tokens: Int = 5, userAgent: String? = nil) -> UsageRecord {
        UsageRecord(
            time: Date(timeIntervalSince1970: 1_790_000_000.123), requestID: id, keyID: key, modelRequested: "m",
            modelResolved: "m:latest", endpoint: "/v1/chat/completions", streamed: true, status: 200, errorType: nil,
            promptTokens: tokens, completionTokens: tokens, latencyMs: 12.5, timeToFirstTokenMs: 3.25, tokensPerSecond: 80,
            clientAddress: "127.0.0.1", userAgent: userAgent, backend: "gpu1"
        ).normalized
    }

    static func segments(in directory: String) -> [String] {
        let journal = (directory as NSString).appendingPathComponent(UsageJournal.directoryName)
        return ((try? FileManager.default.contentsOfDirectory(atPath: journal)) ?? []).sorted()
            .map { (journal as NSString).appendingPathComponent($0) }
    }

    @Test func aLineReadsBackAsTheRecordItWasAndACutLastLineIsSkipped() throws {
        var full = Self.record("r1", key: "key_1", userAgent: "agent \"quoted\" \\ \n\t\u{1}é/")
        full.errorType = "timeout"
        let bare = UsageRecord(
            time: Date(timeIntervalSince1970: 1_790_000_001), requestID: "r2", keyID: nil, modelRequested: nil, modelResolved: nil,
            endpoint: "/api/chat", streamed: false, status: 401, promptTokens: 0, completionTokens: 0, latencyMs: 0.5
        ).normalized
        var data = Data()
        for record in [full, bare] { data.append(contentsOf: UsageJournal.line(record).readableBytesView) }
        let cut = UsageJournal.line(Self.record("r3")).readableBytesView
        data.append(contentsOf: cut.prefix(cut.count / 2))
        let read = UsageJournal.records(in: data)
        #expect(read.count == 2)
        #expect(abs(read[0].time.timeIntervalSince(full.time)) < 0.001)
        var first = read[0]
        first.time = full.time
        #expect(first == full)
        var second = read[1]
        second.time = bare.time
        #expect(second == bare)
    }

    @Test func segmentsAreSealedWithEachBatchAndRemovedOnceStored() throws {
        let directory = FileManagerTemp.directory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let journal = try #require(UsageJournal(dataDirectory: directory, logger: TestGateway.logger))
        journal.append(Self.record("a"))
        journal.append(Self.record("b"))
        let first = Self.segments(in: directory)
        #expect(first.count == 1)
        #expect(UsageJournal.records(in: try Data(contentsOf: URL(fileURLWithPath: first[0]))).map(\.requestID) == ["a", "b"])

        journal.seal()
        journal.append(Self.record("c"))
        #expect(Self.segments(in: directory).count == 2)
        journal.sealedAreStored()
        let left = Self.segments(in: directory)
        #expect(left.count == 1 && left[0] != first[0])
        #expect(UsageJournal.records(in: try Data(contentsOf: URL(fileURLWithPath: left[0]))).map(\.requestID) == ["c"])

        // A clean stop after the last batch leaves nothing; with records outstanding it keeps them.
        journal.seal()
        journal.sealedAreStored()
        journal.finish()
        #expect(Self.segments(in: directory).isEmpty)
    }

    @Test func aDeadProcessesSegmentsAreReplayedOnceAndALiveOnesLeftAlone() async throws {
        let location = try AdminTestLocation.make(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: location.dataDirectory) }
        let key = try await location.withStore { store in
            try await store.apiKeys.create(APIKeySettings(name: "journal"), now: Date()).record.id
        }
        // A gateway that wrote r1 to the database and was killed before r2 and r3 got there.
        let journalDirectory = (location.dataDirectory as NSString).appendingPathComponent(UsageJournal.directoryName)
        try FileManager.default.createDirectory(atPath: journalDirectory, withIntermediateDirectories: true)
        var lines = Data()
        for record in [Self.record("r1", key: key), Self.record("r2", key: key, tokens: 10), Self.record("r3")] {
            lines.append(contentsOf: UsageJournal.line(record).readableBytesView)
        }
        try lines.write(to: URL(fileURLWithPath: (journalDirectory as NSString).appendingPathComponent("dead.jsonl")))
        try await location.withStore { store in try await store.usage.insert([Self.record("r1", key: key)]) }
        // A journal of a live gateway sharing the directory: its segment is locked.
        let live = try #require(UsageJournal(dataDirectory: location.dataDirectory, logger: TestGateway.logger))
        live.append(Self.record("live"))

        let recovered = try await location.withStore { store in
            try await UsageJournal.recover(dataDirectory: location.dataDirectory, store: store, logger: TestGateway.logger)
        }
        #expect(recovered == 2)
        let (ids, tokens) = try await location.withStore { store in
            let page = try await store.usage.log(UsageLogQuery(limit: 10))
            return (page.entries.map(\.record.requestID).sorted(), try await store.apiKeys.get(id: key)?.tokensUsed)
        }
        #expect(ids == ["r1", "r2", "r3"])
        #expect(tokens == 20)  // r2's tokens; r1 was counted by the gateway that wrote it
        let left = Self.segments(in: location.dataDirectory)
        #expect(left.count == 1 && !left[0].hasSuffix("dead.jsonl"))

        // Replaying again adds nothing.
        let again = try await location.withStore { store in
            try await UsageJournal.recover(dataDirectory: location.dataDirectory, store: store, logger: TestGateway.logger)
        }
        #expect(again == 0)
        live.finish()
    }

    @Test func theRecorderJournalsEachRecordBeforeItsBatchAndClearsItAfter() async throws {
        let location = try AdminTestLocation.make(.sqlite)
        defer { try? FileManager.default.removeItem(atPath: location.dataDirectory) }
        try await location.withStore { store in
            let journal = try #require(UsageJournal(dataDirectory: location.dataDirectory, logger: TestGateway.logger))
            let recorder = UsageRecorder(
                store: store, limiter: KeyLimiter(shared: nil),
                authenticator: APIKeyAuthenticator(keys: store.apiKeys, cacheLifetime: .seconds(10), logger: TestGateway.logger),
                metrics: GatewayMetrics(), journal: journal, logger: TestGateway.logger)
            for index in 0..<3 {
                recorder.requestFinished(
                    UsageEvent(
                        requestID: "q\(index)", time: Date(), endpoint: "/v1/chat/completions", streamed: false, status: 200,
                        promptTokens: 1, completionTokens: 2, cancelled: false, latency: .milliseconds(5)),
                    key: nil)
            }
            let before = Self.segments(in: location.dataDirectory)
            #expect(UsageJournal.records(in: try Data(contentsOf: URL(fileURLWithPath: before[0]))).map(\.requestID) == ["q0", "q1", "q2"])
            await recorder.flush()
            #expect(try await store.usage.log(UsageLogQuery(limit: 10)).entries.count == 3)
            let after = Self.segments(in: location.dataDirectory)
            #expect(after.count == 1 && after != before)
            #expect(try Data(contentsOf: URL(fileURLWithPath: after[0])).isEmpty)
            journal.finish()
        }
    }
}
