import Foundation
import Hummingbird
import NIOCore
import Testing

@testable import Gateway

@Suite("Reading request bodies")
struct RequestBodyReadingTests {
    /// The name of the thread a body is read on.
    static func threadName(readingBytes count: Int) async throws -> String {
        try await Request.read(ByteBuffer(repeating: UInt8(ascii: " "), count: count)) { _ in
            Thread.current.name ?? ""
        }
    }

    @Test func largeBodiesAreReadOnTheThreadPoolSmallOnesInPlace() async throws {
        let large = try await Self.threadName(readingBytes: Request.readOffTheSharedThreadsAbove + 1)
        #expect(large.contains("TP-#"), "\(large)")
        let small = try await Self.threadName(readingBytes: 100)
        #expect(!small.contains("TP-#"), "\(small)")
    }

    @Test func errorsOfAReadOnThePoolReachTheCaller() async throws {
        let error = await #expect(throws: GatewayError.self) {
            try await Request.read(ByteBuffer(repeating: UInt8(ascii: "["), count: 100_000)) { body in
                try JSONWire.checkRequestShape(body)
            }
        }
        #expect(error?.message == "The request body nests arrays and objects more than 64 levels deep.")
    }
}
