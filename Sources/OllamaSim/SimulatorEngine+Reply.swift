import Foundation
import GatewayAPI
import Hummingbird
import ServiceLifecycle

/// Everything needed to send a chat or generate answer, streamed or not, with its fault.
struct ReplyPlan: Sendable {
    var endpoint: LineRenderer.Endpoint
    var modelName: String
    var generation: Generation
    var promptTokens: Int
    var loadDuration: Int64
    var context: [Int]?
    var started: ContinuousClock.Instant
    var fault: SimulatedFault?
    var options: RequestOptions
    var tokenInterval: Duration
    var unloadAfter: SimulatedModel?
    /// The rest of the model's load, waited for before anything else.
    var loadWait: Duration = .zero

    var firstTokenDelay: Duration {
        loadWait + (options.delay ?? (fault == .slowFirstToken ? .milliseconds(2000) : .zero))
    }

    var faultAfter: Int { options.faultAfter ?? 3 }

    func metrics(evalStarted: ContinuousClock.Instant) -> FinalMetrics {
        let evalCount = generation.evalCount
        let promptEvalDuration = Int64(promptTokens) * 20_000
        let evalDuration = max(SimulatorEngine.nanoseconds(since: evalStarted), Int64(max(evalCount, 1)) * 1_000)
        let total = max(
            SimulatorEngine.nanoseconds(since: started), loadDuration + promptEvalDuration + evalDuration)
        return FinalMetrics(
            totalDuration: total, loadDuration: loadDuration, promptEvalCount: promptTokens,
            promptEvalDuration: promptEvalDuration, evalCount: evalCount, evalDuration: evalDuration
        )
    }
}

/// Sleeping that notices a departed client or a shutting-down server every 50 ms.
enum Pacing {
    static let pollInterval: Duration = .milliseconds(50)

    static func pause(_ duration: Duration, probe: ConnectionProbe) async throws {
        var remaining = duration
        while remaining > .zero {
            let step = min(remaining, pollInterval)
            try await Task.sleep(for: step)
            remaining -= step
            try await check(probe)
        }
    }

    /// Never returns normally: waits until the client leaves (throws ``ClientWentAway``), the server
    /// shuts down, or the task is cancelled.
    static func stall(probe: ConnectionProbe) async throws {
        while true {
            try await Task.sleep(for: pollInterval)
            try await check(probe)
        }
    }

    private static func check(_ probe: ConnectionProbe) async throws {
        if await !probe.isOpen() { throw ClientWentAway() }
        if Task.isShuttingDownGracefully { throw CancellationError() }
    }
}

extension SimulatorEngine {
    /// Waits as a real Ollama would before its first byte (model latency, a stall before any token), so
    /// clients see headers only when the first token is ready; then answers.
    func reply(_ plan: ReplyPlan, stream: Bool, probe: ConnectionProbe) async throws -> Response {
        do {
            try await Pacing.pause(plan.firstTokenDelay, probe: probe)
            let failsBeforeFirstLine = plan.faultAfter == 0 || plan.generation.lines.isEmpty
            switch plan.fault {
            case .stall where !stream || failsBeforeFirstLine:
                try await Pacing.stall(probe: probe)
            case .errorMidStream where !stream || failsBeforeFirstLine:
                // Nothing written yet: Ollama sends the error with a status.
                if let model = plan.unloadAfter { state.unload(model) }
                return Responses.error(.init(status: .internalServerError, message: Self.runnerStoppedMessage))
            default:
                break
            }
            return stream ? streamedReply(plan, probe: probe) : try await singleReply(plan, probe: probe)
        } catch is ClientWentAway {
            recorder.recordDisconnect()
            if let model = plan.unloadAfter { state.unload(model) }
            throw ClientWentAway()
        }
    }

    private func streamedReply(_ plan: ReplyPlan, probe: ConnectionProbe) -> Response {
        let recorder = self.recorder
        let state = self.state
        let body = ResponseBody { writer in
            defer { if let model = plan.unloadAfter { state.unload(model) } }
            do {
                try await Self.writeStream(plan, probe: probe, writer: &writer)
            } catch is SimulatedConnectionDrop {
                throw SimulatedConnectionDrop()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // A failed write or a departed client: the stream did not reach its end.
                recorder.recordDisconnect()
                throw error
            }
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: body)
    }

    private static func writeStream(_ plan: ReplyPlan, probe: ConnectionProbe, writer: inout any ResponseBodyWriter) async throws {
        let lines = plan.generation.lines
        let paced = plan.tokenInterval > .zero
        var createdAt = Timestamp.now()
        var pending = JSONLineWriter(capacity: paced ? 256 : 160 * (lines.count + 1))
        let midStreamFault: SimulatedFault? =
            switch plan.fault {
            case .stall, .errorMidStream, .dropMidStream: plan.fault
            default: nil
            }
        let evalStarted = ContinuousClock.now
        for (index, line) in lines.enumerated() {
            if midStreamFault != nil, index == plan.faultAfter { break }
            if paced, index > 0 {
                try await flush(&pending, to: &writer)
                try await Pacing.pause(plan.tokenInterval, probe: probe)
                createdAt = Timestamp.now()
            }
            LineRenderer.line(plan.endpoint, model: plan.modelName, createdAt: createdAt, line, into: &pending)
        }
        switch plan.fault {
        case .stall:
            try await flush(&pending, to: &writer)
            try await Pacing.stall(probe: probe)
        case .errorMidStream:
            pending.raw("{\"error\":")
            pending.string(runnerStoppedMessage)
            pending.raw("}\n")
        case .dropMidStream:
            try await flush(&pending, to: &writer)
            throw SimulatedConnectionDrop()
        case .noDone:
            break
        default:
            if paced { createdAt = Timestamp.now() }
            LineRenderer.final(
                plan.endpoint, model: plan.modelName, createdAt: createdAt, doneReason: plan.generation.doneReason,
                context: plan.context, metrics: plan.metrics(evalStarted: evalStarted), into: &pending
            )
        }
        try await flush(&pending, to: &writer)
        try await writer.finish(nil)
    }

    private static func flush(_ pending: inout JSONLineWriter, to writer: inout any ResponseBodyWriter) async throws {
        guard !pending.bytes.isEmpty else { return }
        try await writer.write(ByteBuffer(bytes: pending.bytes))
        pending.bytes.removeAll(keepingCapacity: true)
    }

    /// `stream:false`: Ollama waits for the whole generation, then sends one object.
    private func singleReply(_ plan: ReplyPlan, probe: ConnectionProbe) async throws -> Response {
        defer { if let model = plan.unloadAfter { state.unload(model) } }
        if plan.fault == .dropMidStream {
            // Headers go out, then the connection closes before any body.
            return Response(
                status: .ok, headers: [.contentType: Responses.jsonContentType],
                body: ResponseBody { _ in throw SimulatedConnectionDrop() })
        }
        let evalStarted = ContinuousClock.now
        let generation = plan.generation
        let lineCount = generation.lines.count
        if plan.tokenInterval > .zero, lineCount > 1 {
            try await Pacing.pause(plan.tokenInterval * (lineCount - 1), probe: probe)
        }
        var output = JSONLineWriter(capacity: 512)
        let complete = plan.fault != .noDone
        LineRenderer.final(
            plan.endpoint, model: plan.modelName, createdAt: Timestamp.now(),
            content: generation.content.joined(), thinking: generation.thinking.joined(),
            toolCalls: generation.toolCalls, done: complete,
            doneReason: complete ? generation.doneReason : nil,
            context: complete ? plan.context : nil,
            metrics: complete ? plan.metrics(evalStarted: evalStarted) : nil, into: &output
        )
        output.bytes.removeLast()
        return Responses.json(bytes: output.bytes)
    }
}

/// Response helpers: JSON as Go's gin writes it (`application/json; charset=utf-8`), errors as `{"error": …}`.
enum Responses {
    static let jsonContentType = "application/json; charset=utf-8"
    static let textContentType = "text/plain; charset=utf-8"

    static func json(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: jsonContentType],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    static func json<Value: Encodable>(_ value: Value, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        do {
            return json(bytes: Array(try encoder.encode(value)), status: status)
        } catch {
            return Responses.error(.init(status: .internalServerError, message: "\(error)"))
        }
    }

    static func error(_ error: OllamaAPIError) -> Response {
        var writer = JSONLineWriter()
        writer.raw("{\"error\":")
        writer.string(error.message)
        writer.raw("}")
        return json(bytes: writer.bytes, status: error.status)
    }

    static func text(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: textContentType],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
