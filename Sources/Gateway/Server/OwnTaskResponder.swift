import Hummingbird

/// Answers each request in a child task of the connection's task, one that ends when the response is
/// ready (the body, a stream's included, is written afterwards, by the connection's task).
///
/// Why: Swift's task allocator keeps a task's async stack at its deepest until the task ends (a frame
/// that is popped leaves its memory for the next one), and a connection's task lives as long as the
/// connection. Answering an API request goes about 40 KB deep — the middlewares, the route with its
/// decoded request, the call to Ollama — so every open stream held that while it relayed for minutes,
/// and every idle keep-alive connection between its requests: 43.5 KB of 1,000 open streams' ~70 KB
/// each (heaptrack, BENCHMARKS.md). In a child task that depth is freed as the handler returns;
/// the relay needs a few KB of the connection's.
struct OwnTaskResponder<Base: HTTPResponder>: HTTPResponder where Base.Context: Sendable {
    typealias Context = Base.Context
    let base: Base

    func respond(to request: Request, context: Context) async throws -> Response {
        async let response = base.respond(to: request, context: context)
        return try await response
    }
}
