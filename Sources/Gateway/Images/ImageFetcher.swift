import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Fetches `http(s)` image URLs for vision requests, safely: a size limit, a timeout, an image
/// content type, and — unless the admin allows it — no loopback, private or link-local address,
/// checked after DNS resolution and again on every redirect.
///
/// Each hop connects to the very address that was checked (the host name is pinned to it, TLS still
/// verifies the name), so a DNS answer that changes between the check and the connection
/// cannot lead the gateway into the local network.
public struct ImageFetcher: Sendable {
    let policy: ImageFetchPolicy
    let eventLoopGroup: any EventLoopGroup
    let logger: Logger

    public init(policy: ImageFetchPolicy, eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton, logger: Logger) {
        self.policy = policy
        self.eventLoopGroup = eventLoopGroup
        self.logger = logger
    }

    /// Fetches every URL (concurrently) and returns each image as plain base64, with the size limit
    /// that inline images are then held to.
    /// - Parameter params: the request field of each URL, for error messages.
    public func fetchAll(_ urls: [String], params: [String: String] = [:]) async throws -> FetchedImages {
        var images = FetchedImages(maxBytes: policy.maxBytes)
        guard !urls.isEmpty else { return images }
        images.byURL = try await withThrowingTaskGroup(of: (String, String).self) { group in
            for url in urls {
                group.addTask { (url, try await fetch(url, param: params[url])) }
            }
            var fetched: [String: String] = [:]
            for try await (url, image) in group { fetched[url] = image }
            return fetched
        }
        return images
    }

    /// One image as base64, or a 400 that says why it could not be used. The timeout covers the
    /// whole fetch, every redirect and the last byte of the body: the HTTP client's own deadline
    /// ends at the response headers, and its read timeout restarts with every byte, so a server
    /// trickling a byte at a time would hold the request far beyond it.
    public func fetch(_ urlString: String, param: String? = nil) async throws -> String {
        do {
            return try await withDeadlines(overall: policy.timeout, idle: nil) { _ in
                try await fetchWithinDeadline(urlString, param: param)
            }
        } catch let error as GatewayError where error.kind == .timeout {
            throw refusal("did not arrive within \(policy.timeout.formattedMilliseconds)", urlString, param)
        }
    }

    private func fetchWithinDeadline(_ urlString: String, param: String?) async throws -> String {
        let deadline = NIODeadline.now() + TimeAmount(policy.timeout)
        var current = urlString
        for _ in 0...policy.maxRedirects {
            guard let url = URL(string: current), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
                let host = url.host, !host.isEmpty
            else {
                throw refusal("is not a valid http(s) URL", urlString, param)
            }
            let bareHost = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
            let address = try await checkedAddress(of: bareHost, url: urlString, param: param)
            var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
            configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
            configuration.dnsOverride = [bareHost: address]
            let client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: configuration)
            do {
                let outcome = try await get(current, client: client, deadline: deadline, original: urlString, param: param)
                try await client.shutdown()
                switch outcome {
                case .image(let base64): return base64
                case .redirect(let location):
                    guard let next = URL(string: location, relativeTo: url)?.absoluteString else {
                        throw refusal("redirected to an invalid location", urlString, param)
                    }
                    current = next
                }
            } catch {
                try? await client.shutdown()
                throw error
            }
        }
        throw refusal("redirected more than \(policy.maxRedirects) times", urlString, param)
    }

    private enum Outcome {
        case image(String)
        case redirect(String)
    }

    private func get(_ url: String, client: HTTPClient, deadline: NIODeadline, original: String, param: String?)
        async throws -> Outcome
    {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "image/*")
        request.headers.add(name: "User-Agent", value: "ollama-gateway")
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: deadline, logger: logger)
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw refusal("did not answer within \(policy.timeout.formattedMilliseconds)", original, param)
        } catch {
            throw refusal("could not be fetched (\(error))", original, param)
        }
        if (300..<400).contains(response.status.code), let location = response.headers.first(name: "Location") {
            return .redirect(location)
        }
        guard response.status == .ok else {
            throw refusal("answered HTTP \(response.status.code)", original, param)
        }
        let contentType = response.headers.first(name: "Content-Type")?.lowercased() ?? ""
        guard contentType.hasPrefix("image/") else {
            throw refusal("is not an image (Content-Type '\(contentType)')", original, param)
        }
        if let length = response.headers.first(name: "Content-Length").flatMap(Int.init), length > policy.maxBytes {
            throw refusal("is larger than \(policy.maxBytes) bytes", original, param)
        }
        var body = ByteBuffer()
        do {
            for try await chunk in response.body {
                guard body.readableBytes + chunk.readableBytes <= policy.maxBytes else {
                    throw refusal("is larger than \(policy.maxBytes) bytes", original, param)
                }
                var chunk = chunk
                body.writeBuffer(&chunk)
            }
        } catch let error as GatewayError {
            throw error
        } catch let error as HTTPClientError where error == .deadlineExceeded {
            throw refusal("did not arrive within \(policy.timeout.formattedMilliseconds)", original, param)
        } catch {
            throw refusal("could not be read (\(error))", original, param)
        }
        guard body.readableBytes > 0 else { throw refusal("is empty", original, param) }
        return .image(Data(body.readableBytesView).base64EncodedString())
    }

    /// The address to connect to, after checking every address the name resolves to.
    private func checkedAddress(of host: String, url: String, param: String?) async throws -> String {
        let addresses: [String]
        if AddressPolicy.ipv4Bytes(host) != nil || AddressPolicy.ipv6Bytes(host) != nil {
            addresses = [host]
        } else {
            addresses = try await NIOThreadPool.singleton.runIfActive { AddressPolicy.resolve(host) }
        }
        guard let first = addresses.first else {
            throw refusal("has a host name that does not resolve", url, param)
        }
        let worst = addresses.map(AddressPolicy.kind(of:)).max() ?? .alwaysRefused
        if worst == .alwaysRefused {
            throw refusal("points to a link-local or cloud metadata address, which this gateway never fetches", url, param)
        }
        if !policy.allowPrivateAddresses, worst == .nonPublic {
            throw refusal(
                "points to a loopback, private or link-local address, which this gateway does not fetch", url, param)
        }
        return first
    }

    private func refusal(_ reason: String, _ url: String, _ param: String?) -> GatewayError {
        let shown = url.count > 200 ? String(url.prefix(200)) + "…" : url
        return .invalid("The image URL '\(shown)' \(reason).", param: param)
    }
}
