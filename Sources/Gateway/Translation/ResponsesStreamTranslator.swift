import Foundation
import GatewayAPI

/// How the answer to one Responses request is presented: the response object before any output (the
/// request's settings echoed), and the reasoning and tool-call settings.
struct ResponsesStyle: Sendable {
    var response: ResponseObject
    var excludeReasoning: Bool
    /// `parallel_tool_calls: false`: only the first tool call of the answer is kept.
    var parallelToolCalls: Bool
    /// Item ids counted from 0 instead of random, and a fixed `completed_at`, for golden fixtures.
    var sequentialIDs = false
    var now: @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }

    init(response: ResponseObject, excludeReasoning: Bool = false) {
        self.response = response
        self.excludeReasoning = excludeReasoning
        self.parallelToolCalls = response.parallelToolCalls
    }
}

/// Ollama `/api/chat` lines → Responses stream events, one upstream line at a time. Pure: no I/O.
///
/// The stream opens with `response.created` and `response.in_progress` (`start`), and always ends with
/// exactly one terminal event: `response.completed`, `response.incomplete` (the output-token limit)
/// or `response.failed` (`fail`, for any failure after the first byte). One output item is open at a
/// time: Ollama's thinking becomes a `reasoning` item with one summary part, the answer a `message`
/// with one `output_text` part, each tool call a `function_call` item sent whole (Ollama sends calls
/// whole). `<think>` tags at the start of content are split out into reasoning. Every item that
/// was added is done before the terminal event, and the terminal response lists them all, as the
/// SDKs' stream helpers check.
///
/// The non-streamed answer is the same machine fed Ollama's single answer: both paths build the
/// response in one place.
struct ResponsesStreamTranslator: Sendable {
    let style: ResponsesStyle
    /// The response so far: finished items in `output`, then its final status and usage.
    private(set) var response: ResponseObject
    private var sequence = 0
    private var splitter = ThinkTagSplitter()
    private var open: OpenItem?
    private var idCount = 0
    /// Characters of reasoning and of everything else, to share Ollama's one output count between them.
    private var reasoningCharacters = 0
    private var answerCharacters = 0
    private var toolCalls = 0
    private(set) var finished = false

    private struct OpenItem {
        enum Kind { case reasoning, message }
        var kind: Kind
        var id: String
        var outputIndex: Int
        var text = ""
    }

    init(style: ResponsesStyle) {
        self.style = style
        self.response = style.response
        self.response.status = "in_progress"
        self.response.output = []
    }

    /// The first events, sent before Ollama's first line.
    mutating func start() -> [ResponseStreamEvent] {
        [event(.created(response)), event(.inProgress(response))]
    }

    /// The events of one upstream line; the closing ones too when it is the last.
    mutating func translate(_ line: OllamaChatChunk) -> [ResponseStreamEvent] {
        guard !finished else { return [] }
        var events: [ResponseStreamEvent] = []
        if let message = line.message {
            let split = splitter.feed(message.content)
            appendReasoning((message.thinking ?? "") + split.reasoning, into: &events)
            appendText(split.content, into: &events)
            for call in message.toolCalls ?? [] { appendToolCall(call, into: &events) }
        }
        if line.done {
            events += finish(doneReason: line.doneReason, metrics: line.metrics)
        }
        return events
    }

    /// The closing events: what the think-tag splitter held back, the open item done, then
    /// `response.completed` (or `response.incomplete` when the output-token limit ended the answer).
    mutating func finish(doneReason: String?, metrics: OllamaMetrics) -> [ResponseStreamEvent] {
        guard !finished else { return [] }
        var events: [ResponseStreamEvent] = []
        let rest = splitter.finish()
        appendReasoning(rest.reasoning, into: &events)
        appendText(rest.content, into: &events)
        closeOpenItem(status: "completed", into: &events)
        finished = true
        response.usage = usage(metrics)
        response.completedAt = style.now()
        if doneReason == "length" {
            response.status = "incomplete"
            response.incompleteDetails = .init(reason: "max_output_tokens")
            events.append(event(.incomplete(response)))
        } else {
            response.status = "completed"
            events.append(event(.completed(response)))
        }
        return events
    }

    /// The events that end a stream failing after its first byte: the open item done as
    /// `incomplete` (the client keeps the partial output), then `response.failed` with the error.
    mutating func fail(_ error: GatewayError, metrics: OllamaMetrics? = nil) -> [ResponseStreamEvent] {
        guard !finished else { return [] }
        var events: [ResponseStreamEvent] = []
        closeOpenItem(status: "incomplete", into: &events)
        finished = true
        response.status = "failed"
        response.error = ResponseErrorInfo(code: Self.errorCode(error), message: error.message)
        if let metrics { response.usage = usage(metrics) }
        events.append(event(.failed(response)))
        return events
    }

    /// `ResponseError.code` values of the API for the gateway's kinds of failure.
    static func errorCode(_ error: GatewayError) -> String {
        switch error.kind {
        case .rateLimited: "rate_limit_exceeded"
        case .invalidRequest: "invalid_prompt"
        default: "server_error"
        }
    }

    // MARK: - Items

    private mutating func appendReasoning(_ text: String, into events: inout [ResponseStreamEvent]) {
        guard !text.isEmpty else { return }
        reasoningCharacters += text.count
        guard !style.excludeReasoning else { return }
        openItem(.reasoning, into: &events)
        // Appended in place: on a copy of the item, every token copied the whole text so far.
        open?.text += text
        guard let item = open else { return }
        events.append(event(.reasoningSummaryTextDelta(
            itemID: item.id, outputIndex: item.outputIndex, summaryIndex: 0, delta: text)))
    }

    private mutating func appendText(_ text: String, into events: inout [ResponseStreamEvent]) {
        guard !text.isEmpty else { return }
        answerCharacters += text.count
        openItem(.message, into: &events)
        open?.text += text
        guard let item = open else { return }
        events.append(event(.outputTextDelta(itemID: item.id, outputIndex: item.outputIndex, contentIndex: 0, delta: text)))
    }

    /// Makes an item of this kind the open one: the one already open, or a new one announced after the
    /// other is done.
    private mutating func openItem(_ kind: OpenItem.Kind, into events: inout [ResponseStreamEvent]) {
        if open?.kind == kind { return }
        closeOpenItem(status: "completed", into: &events)
        let outputIndex = response.output.count
        switch kind {
        case .reasoning:
            let item = OpenItem(kind: .reasoning, id: makeID("rs_"), outputIndex: outputIndex)
            events.append(event(.outputItemAdded(
                outputIndex: outputIndex, item: .reasoning(ResponseReasoning(id: item.id, summary: [])))))
            events.append(event(.reasoningSummaryPartAdded(
                itemID: item.id, outputIndex: outputIndex, summaryIndex: 0, part: .init(text: ""))))
            open = item
        case .message:
            let item = OpenItem(kind: .message, id: makeID("msg_"), outputIndex: outputIndex)
            events.append(event(.outputItemAdded(
                outputIndex: outputIndex,
                item: .message(ResponseMessage(id: item.id, role: "assistant", content: .parts([]), status: "in_progress")))))
            events.append(event(.contentPartAdded(
                itemID: item.id, outputIndex: outputIndex, contentIndex: 0, part: .outputText(""))))
            open = item
        }
    }

    private mutating func appendToolCall(_ call: OllamaToolCall, into events: inout [ResponseStreamEvent]) {
        closeOpenItem(status: "completed", into: &events)
        // Ollama cannot be told to call one tool at a time: the calls after the first are dropped.
        guard style.parallelToolCalls || toolCalls == 0 else { return }
        toolCalls += 1
        let arguments = JSONWire.text(call.function.arguments)
        answerCharacters += call.function.name.count + arguments.count
        let id = makeID("fc_")
        let outputIndex = response.output.count
        let started = ResponseFunctionCall(
            id: id, callID: call.id ?? makeID("call_"), name: call.function.name, arguments: "", status: "in_progress")
        var done = started
        done.arguments = arguments
        done.status = "completed"
        events.append(event(.outputItemAdded(outputIndex: outputIndex, item: .functionCall(started))))
        events.append(event(.functionCallArgumentsDelta(itemID: id, outputIndex: outputIndex, delta: done.arguments)))
        events.append(event(.functionCallArgumentsDone(
            itemID: id, outputIndex: outputIndex, name: done.name, arguments: done.arguments)))
        events.append(event(.outputItemDone(outputIndex: outputIndex, item: .functionCall(done))))
        response.output.append(.functionCall(done))
    }

    private mutating func closeOpenItem(status: String, into events: inout [ResponseStreamEvent]) {
        guard let item = open else { return }
        open = nil
        let done: ResponseItem
        switch item.kind {
        case .reasoning:
            let part = ResponseReasoning.Text(text: item.text)
            events.append(event(.reasoningSummaryTextDone(
                itemID: item.id, outputIndex: item.outputIndex, summaryIndex: 0, text: item.text)))
            events.append(event(.reasoningSummaryPartDone(
                itemID: item.id, outputIndex: item.outputIndex, summaryIndex: 0, part: part)))
            done = .reasoning(ResponseReasoning(id: item.id, summary: [part]))
        case .message:
            events.append(event(.outputTextDone(itemID: item.id, outputIndex: item.outputIndex, contentIndex: 0, text: item.text)))
            events.append(event(.contentPartDone(
                itemID: item.id, outputIndex: item.outputIndex, contentIndex: 0, part: .outputText(item.text))))
            done = .message(ResponseMessage(
                id: item.id, role: "assistant", content: .parts([.outputText(item.text)]), status: status))
        }
        events.append(event(.outputItemDone(outputIndex: item.outputIndex, item: done)))
        response.output.append(done)
    }

    // MARK: - Helpers

    /// Ollama counts output tokens once, thinking included; the reasoning share is estimated from the
    /// characters of each (documented in docs/responses-mapping.md).
    private func usage(_ metrics: OllamaMetrics) -> ResponseUsage {
        let output = metrics.evalCount ?? 0
        let characters = reasoningCharacters + answerCharacters
        let reasoning = characters == 0 ? 0 : Int((Double(output) * Double(reasoningCharacters) / Double(characters)).rounded())
        return ResponseUsage(inputTokens: metrics.promptEvalCount ?? 0, outputTokens: output, reasoningTokens: reasoning)
    }

    private mutating func makeID(_ prefix: String) -> String {
        defer { idCount += 1 }
        return style.sequentialIDs ? "\(prefix)\(idCount)" : Identifiers.make(prefix)
    }

    private mutating func event(_ kind: ResponseStreamEvent.Kind) -> ResponseStreamEvent {
        defer { sequence += 1 }
        return ResponseStreamEvent(sequenceNumber: sequence, kind: kind)
    }
}
