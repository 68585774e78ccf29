import HTTPTypes
import Hummingbird
import NIOCore
import Testing

@testable import Gateway

/// The handler answers in a task of its own, which ends with it: its async stack is freed before the
/// body is written (see `OwnTaskResponder`).
@Suite("Own-task responder")
struct OwnTaskResponderTests {
    @Test("the request is answered in a child task, and errors come through as they were thrown")
    func childTask() async throws {
        let base = CallbackResponder<Int> { _, _ in
            let inner = withUnsafeCurrentTask { $0 }
            return Response(status: .ok, headers: [.init("x-task")!: "\(inner?.hashValue ?? 0)"])
        }
        let responder = OwnTaskResponder(base: base)
        let request = Request(
            head: HTTPRequest(method: .get, scheme: "http", authority: "localhost", path: "/"), body: .init(buffer: ByteBuffer()))
        let outer = withUnsafeCurrentTask { $0 }
        let response = try await responder.respond(to: request, context: 0)
        let inner = try #require(response.headers[.init("x-task")!])
        #expect(inner != "0")
        #expect(inner != "\(outer?.hashValue ?? 0)", "the handler ran in the caller's task")

        let failing = OwnTaskResponder(base: CallbackResponder<Int> { _, _ in throw HTTPError(.conflict) })
        let error = await #expect(throws: HTTPError.self) { try await failing.respond(to: request, context: 0) }
        #expect(error?.status == .conflict)
    }
}
