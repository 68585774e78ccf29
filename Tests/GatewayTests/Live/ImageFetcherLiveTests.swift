import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

@testable import Gateway

/// Image URLs are fetched on a client's behalf: what may never be reached, and a timeout that
/// holds against a server that trickles its answer.
@Suite("Image fetching", .timeLimit(.minutes(1)))
struct ImageFetcherLiveTests {
    /// A small image server on loopback: a redirect to the metadata address, and a slow image.
    func withImageServer(_ body: @Sendable (Int) async throws -> Void) async throws {
        let router = Router()
        router.get("metadata") { _, _ in
            Response(status: .found, headers: [.location: "http://169.254.169.254/latest/meta-data/"])
        }
        router.get("trickle.png") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "image/png"],
                body: ResponseBody { writer in
                    for _ in 0..<40 {
                        try await writer.write(ByteBuffer(bytes: [0x89]))
                        try await Task.sleep(for: .milliseconds(250))
                    }
                    try await writer.finish(nil)
                })
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            try await body(try #require(client.port))
        }
    }

    static func fetcher(allowPrivate: Bool, timeout: Duration = .seconds(10)) -> ImageFetcher {
        ImageFetcher(
            policy: ImageFetchPolicy(allowPrivateAddresses: allowPrivate, timeout: timeout), logger: TestGateway.logger)
    }

    @Test(arguments: [
        "http://169.254.169.254/latest/meta-data/", "http://[fe80::1]/x.png", "http://[::ffff:169.254.169.254]/x.png",
        "http://[fd00:ec2::254]/latest", "http://[2002:a9fe:a9fe::1]/x.png",
    ])
    func metadataAddressesAreRefusedEvenWhenPrivateOnesAreAllowed(url: String) async throws {
        let error = await #expect(throws: GatewayError.self) {
            _ = try await Self.fetcher(allowPrivate: true).fetch(url, param: "image")
        }
        #expect(error?.kind == .invalidRequest)
        #expect(error?.message.contains("metadata") == true, "\(error?.message ?? "")")
    }

    @Test func aRedirectToTheMetadataAddressIsRefused() async throws {
        try await withImageServer { port in
            let error = await #expect(throws: GatewayError.self) {
                _ = try await Self.fetcher(allowPrivate: true).fetch("http://127.0.0.1:\(port)/metadata", param: "image")
            }
            #expect(error?.message.contains("metadata") == true, "\(error?.message ?? "")")
        }
    }

    @Test func theTimeoutCoversTheWholeBody() async throws {
        try await withImageServer { port in
            let started = ContinuousClock.now
            let error = await #expect(throws: GatewayError.self) {
                _ = try await Self.fetcher(allowPrivate: true, timeout: .seconds(1))
                    .fetch("http://127.0.0.1:\(port)/trickle.png", param: "image")
            }
            #expect(error?.kind == .invalidRequest)
            #expect(error?.message.contains("did not arrive within 1 s") == true, "\(error?.message ?? "")")
            // The server would take 10 s; the fetch ends at its 1-s deadline.
            #expect(ContinuousClock.now - started < .seconds(5))
        }
    }
}
