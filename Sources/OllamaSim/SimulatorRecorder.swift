import Foundation
import GatewayAPI
import Synchronization

/// One request the simulator received.
public struct RecordedRequest: Sendable, Hashable {
    public let method: String
    public let path: String
    /// The body as it arrived.
    public let rawBody: [UInt8]
    public let time: Date
    /// The W3C `traceparent` header, when the caller sent one (a traced gateway does).
    public let traceparent: String?

    public init(method: String, path: String, rawBody: [UInt8], time: Date, traceparent: String? = nil) {
        self.method = method
        self.path = path
        self.rawBody = rawBody
        self.time = time
        self.traceparent = traceparent
    }

    /// The body parsed as JSON; nil when empty or not JSON. Parsed on access so recording stays cheap under load.
    public var body: JSONValue? {
        guard !rawBody.isEmpty else { return nil }
        do {
            return try JSONDecoder().decode(JSONValue.self, from: Data(rawBody))
        } catch {
            return nil
        }
    }
}

/// What the simulator saw: requests and streams whose client left early. Safe to read from any task.
public final class SimulatorRecorder: Sendable {
    private struct State {
        var requests: [RecordedRequest] = []
        var disconnects = 0
    }

    private let state = Mutex(State())
    private let limit: Int

    public init(limit: Int = 10_000) {
        self.limit = max(1, limit)
    }

    /// Every request except the simulator's own `/sim/*` controls, oldest first.
    public var requests: [RecordedRequest] {
        state.withLock { Array($0.requests.suffix(limit)) }
    }

    public func requests(path: String) -> [RecordedRequest] {
        requests.filter { $0.path == path }
    }

    /// Streams whose client went away before the end.
    public var disconnects: Int {
        state.withLock { $0.disconnects }
    }

    /// Waits until at least `count` disconnects were seen; false when `timeout` passed first.
    public func waitForDisconnects(_ count: Int, timeout: Duration) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while true {
            if disconnects >= count { return true }
            if clock.now >= deadline { return false }
            do {
                try await Task.sleep(for: .milliseconds(10))
            } catch {
                return disconnects >= count
            }
        }
    }

    public func reset() {
        state.withLock { $0 = State() }
    }

    func record(_ request: RecordedRequest) {
        state.withLock { state in
            // Trimming in halves keeps recording O(1) amortized under load.
            if state.requests.count >= 2 * limit {
                state.requests.removeFirst(state.requests.count - limit)
            }
            state.requests.append(request)
        }
    }

    func recordDisconnect() {
        state.withLock { $0.disconnects += 1 }
    }
}
