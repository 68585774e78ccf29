import Foundation
import GatewayAPI
import HTTPTypes
import Hummingbird
import Logging

/// The request context: Hummingbird's core storage plus a probe of the client's connection.
struct SimulatorRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    let connection: ConnectionProbe

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let channel = source.channel
        self.connection = ConnectionProbe { await InputClosedWatcher.isOpen(channel) }
    }

    /// Ollama has no body limit; images make bodies large.
    var maxUploadSize: Int { 512 * 1024 * 1024 }
}

/// Routes by exact path like Ollama's gin router: unknown path 404 `404 page not found`,
/// known path with another method 405 `405 method not allowed`.
struct SimulatorResponder: HTTPResponder {
    typealias Context = SimulatorRequestContext

    let engine: SimulatorEngine
    let loopbackOnly: Bool

    private static let routes: [String: Set<HTTPRequest.Method>] = [
        "/": [.get, .head], "/api/version": [.get, .head], "/api/tags": [.get, .head], "/api/ps": [.get],
        "/api/show": [.post], "/api/chat": [.post], "/api/generate": [.post], "/api/embed": [.post],
        "/api/embeddings": [.post], "/sim/faults": [.get, .post], "/sim/requests": [.get], "/sim/reset": [.post],
    ]

    /// Recorded with each request, so tests can see the trace context a traced gateway sends.
    private static let traceparent = HTTPField.Name("traceparent")!

    func respond(to request: Request, context: Context) async throws -> Response {
        let path = request.uri.path
        let method = request.method
        if loopbackOnly, !HostPolicy.allows(authority: request.head.authority) {
            return Response(status: .forbidden)
        }
        guard let methods = Self.routes[path] else {
            await record(request, path: path, body: [])
            return Responses.text("404 page not found", status: .notFound)
        }
        guard methods.contains(method) else {
            await record(request, path: path, body: [])
            return Responses.text("405 method not allowed", status: .methodNotAllowed)
        }
        let body: [UInt8]
        if method == .post {
            let buffer = try await request.body.collect(upTo: context.maxUploadSize)
            body = Array(buffer.readableBytesView)
        } else {
            body = []
        }
        if !path.hasPrefix("/sim/") {
            engine.recorder.record(RecordedRequest(
                method: method.rawValue, path: path, rawBody: body, time: Date(),
                traceparent: request.headers[Self.traceparent]))
        }
        let probe = context.connection
        var response: Response
        switch path {
        case "/":
            response = Responses.text("Ollama is running")
        case "/api/version": response = engine.version()
        case "/api/tags": response = engine.tags()
        case "/api/ps": response = engine.ps()
        case "/api/show": response = engine.show(body: body)
        case "/api/chat": response = await engine.chat(body: body, probe: probe)
        case "/api/generate": response = await engine.generate(body: body, probe: probe)
        case "/api/embed": response = await engine.embed(body: body, probe: probe)
        case "/api/embeddings": response = await engine.legacyEmbeddings(body: body, probe: probe)
        case "/sim/faults": response = method == .get ? SimulatorControl.faults(engine) : SimulatorControl.setFault(engine, body: body)
        case "/sim/requests": response = SimulatorControl.requests(engine)
        case "/sim/reset": response = SimulatorControl.reset(engine)
        default: response = Responses.text("404 page not found", status: .notFound)
        }
        if method == .head {
            response.body = ResponseBody()
        }
        return response
    }

    private func record(_ request: Request, path: String, body: [UInt8]) async {
        engine.recorder.record(RecordedRequest(
            method: request.method.rawValue, path: path, rawBody: body, time: Date(),
            traceparent: request.headers[Self.traceparent]))
    }
}

/// Ollama on a loopback address answers 403 to a `Host` that is not local (DNS rebinding protection).
enum HostPolicy {
    static func allows(authority: String?) -> Bool {
        guard var host = authority?.lowercased(), !host.isEmpty else { return true }
        if host.hasPrefix("[") {
            if let end = host.firstIndex(of: "]") { host = String(host[host.index(after: host.startIndex)..<end]) }
        } else if let colon = host.lastIndex(of: ":"), host.firstIndex(of: ":") == colon {
            host = String(host[..<colon])
        }
        if host == "localhost" || host.hasSuffix(".localhost") || host.hasSuffix(".local") || host.hasSuffix(".internal") {
            return true
        }
        if host == ProcessInfo.processInfo.hostName.lowercased() { return true }
        if let octets = ipv4(host) {
            return octets[0] == 127 || octets[0] == 10 || (octets[0] == 172 && (16...31).contains(octets[1]))
                || (octets[0] == 192 && octets[1] == 168) || octets == [0, 0, 0, 0]
        }
        if host.contains(":") {
            return host == "::1" || host == "::" || host.hasPrefix("fc") || host.hasPrefix("fd") || host.hasPrefix("fe80")
        }
        return false
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || (ipv4(host)?.first == 127)
    }

    private static func ipv4(_ host: String) -> [Int]? {
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        let octets = parts.compactMap { Int($0) }.filter { (0...255).contains($0) }
        return octets.count == 4 ? octets : nil
    }
}

/// The simulator-only `/sim/*` endpoints.
enum SimulatorControl {
    static func faults(_ engine: SimulatorEngine) -> Response {
        let faults = engine.state.currentFaults.mapValues { JSONValue.string($0.rawValue) }
        var writer = JSONLineWriter()
        writer.value(["faults": .object(faults)])
        return Responses.json(bytes: writer.bytes)
    }

    static func setFault(_ engine: SimulatorEngine, body: [UInt8]) -> Response {
        let value: JSONValue
        do {
            value = try JSONDecoder().decode(JSONValue.self, from: Data(body))
        } catch {
            return Responses.error(.badRequest("invalid JSON: \(error)"))
        }
        guard let model = value["model"]?.stringValue, !model.isEmpty else {
            return Responses.error(.badRequest("model is required"))
        }
        var fault: SimulatedFault?
        switch value["fault"] {
        case nil, .null?: fault = nil
        case .string(let name)?:
            guard let parsed = SimulatedFault(rawValue: name) else {
                return Responses.error(
                    .badRequest("unknown fault \(goQuote(name)) (one of \(SimulatedFault.allCases.map(\.rawValue).joined(separator: ", ")))"))
            }
            fault = parsed
        default:
            return Responses.error(.badRequest("fault must be a string or null"))
        }
        engine.state.setFault(fault, forModel: model)
        var writer = JSONLineWriter()
        writer.value(["model": .string(model), "fault": fault.map { .string($0.rawValue) } ?? .null])
        return Responses.json(bytes: writer.bytes)
    }

    static func requests(_ engine: SimulatorEngine) -> Response {
        let requests = engine.recorder.requests.map { request -> JSONValue in
            [
                "method": .string(request.method), "path": .string(request.path),
                "body": request.body ?? .null, "time": .string(Timestamp.format(request.time)),
                "traceparent": request.traceparent.map { .string($0) } ?? .null,
            ]
        }
        var writer = JSONLineWriter()
        writer.value(["requests": .array(requests), "disconnects": .int(engine.recorder.disconnects)])
        return Responses.json(bytes: writer.bytes)
    }

    static func reset(_ engine: SimulatorEngine) -> Response {
        engine.recorder.reset()
        engine.state.reset()
        return Responses.json(bytes: Array("{}".utf8))
    }
}
