import AsyncHTTPClient
import Foundation
import HTTPTypes
import NIOHTTP1
import Tracing

/// The spans of one API request, after OpenTelemetry's semantic conventions for generative AI: a
/// server span for the request (`chat llama3.2`, with `gen_ai.operation.name`, the model, the token
/// counts, the finish reasons and the time to the first token) and a client span for each call to
/// Ollama, whose `traceparent` Ollama receives. Neither records a prompt, a message or an image: only
/// counts, names and times.
enum RequestTracing {
    /// The GenAI operation of an endpoint; nil for the endpoints that run no model (model lists…).
    static func operation(endpoint: String) -> String? {
        switch endpoint {
        case "/v1/chat/completions", "/v1/messages", "/anthropic/v1/messages", "/api/chat": "chat"
        case "/v1/completions", "/api/generate": "text_completion"
        case "/v1/embeddings", "/api/embed", "/api/embeddings": "embeddings"
        default: nil
        }
    }

    /// Starts the request's span, a child of the client's own trace when it sent a `traceparent`.
    static func startRequestSpan(tracer: OTLPTracer, method: String, endpoint: String, headers: HTTPFields) -> OTLPSpan {
        var parent = ServiceContext.topLevel
        tracer.extract(headers, into: &parent, using: HTTPFieldsExtractor())
        let operation = operation(endpoint: endpoint)
        let span = tracer.startSpan(operation ?? "\(method) \(endpoint)", context: parent, ofKind: .server)
        var attributes = SpanAttributes()
        if let operation { attributes["gen_ai.operation.name"] = operation }
        attributes["http.request.method"] = method
        attributes["http.route"] = endpoint
        span.attributes = attributes
        return span
    }

    /// Completes the request's span from what the request was accounted as, and ends it.
    static func finish(_ span: OTLPSpan, event: UsageEvent, finishReasons: [String]) {
        var attributes = span.attributes
        if let model = event.modelRequested {
            attributes["gen_ai.request.model"] = model
            if case .string(let operation)? = attributes.get("gen_ai.operation.name") {
                span.operationName = "\(operation) \(model)"
            }
        }
        if let model = event.modelResolved { attributes["gen_ai.response.model"] = model }
        if event.modelRequested != nil {
            attributes["gen_ai.provider.name"] = "ollama"
            attributes["gen_ai.usage.input_tokens"] = Int64(event.promptTokens)
            attributes["gen_ai.usage.output_tokens"] = Int64(event.completionTokens)
        }
        if !finishReasons.isEmpty { attributes.set("gen_ai.response.finish_reasons", value: .stringArray(finishReasons)) }
        if let firstToken = event.timeToFirstToken {
            // Seconds, as OpenTelemetry's `gen_ai.server.time_to_first_token` metric measures it.
            attributes["gen_ai.server.time_to_first_token"] = seconds(firstToken)
        }
        attributes["http.response.status_code"] = Int64(event.status)
        attributes["gen_ai.request.stream"] = event.streamed
        if event.cancelled { attributes["gen_ai.request.cancelled"] = true }
        if let errorType = event.errorType { attributes["error.type"] = errorType }
        span.attributes = attributes
        if event.status >= 500 {
            span.setStatus(SpanStatus(code: .error, message: event.errorType))
        }
        span.end()
    }

    /// Starts the span of a call to Ollama under the current request's span (nil when the request
    /// is not traced), with its `traceparent` added to the call's headers.
    static func startUpstreamSpan(tracer: OTLPTracer?, method: String, url: String, path: String, headers: inout HTTPHeaders)
        -> OTLPSpan?
    {
        guard let tracer, let context = ServiceContext.current, context.spanIdentity != nil else { return nil }
        let span = tracer.startSpan("\(method) \(path)", context: context, ofKind: .client)
        var attributes = SpanAttributes()
        attributes["http.request.method"] = method
        attributes["url.path"] = path
        if let components = URLComponents(string: url) {
            if let host = components.host { attributes["server.address"] = host }
            if let port = components.port { attributes["server.port"] = Int64(port) }
        }
        attributes["gen_ai.provider.name"] = "ollama"
        span.attributes = attributes
        tracer.inject(span.context, into: &headers, using: HTTPHeadersInjector())
        // A streamed answer is read after the call returns: the span ends with the request's if
        // nothing ended it before.
        context.requestSpan?.adopt(span)
        return span
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }
}

/// The request's own span, for the spans started beneath it.
enum RequestSpanKey: ServiceContextKey {
    typealias Value = OTLPSpan
}

extension ServiceContext {
    var requestSpan: OTLPSpan? {
        get { self[RequestSpanKey.self] }
        set { self[RequestSpanKey.self] = newValue }
    }
}

struct HTTPFieldsExtractor: Extractor {
    func extract(key: String, from carrier: HTTPFields) -> String? {
        HTTPField.Name(key).flatMap { carrier[$0] }
    }
}

struct HTTPHeadersInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout HTTPHeaders) {
        carrier.replaceOrAdd(name: key, value: value)
    }
}
