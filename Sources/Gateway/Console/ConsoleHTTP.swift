import Foundation
import GatewayStore
import HTTPTypes
import Hummingbird
import NIOCore

extension HTTPField.Name {
    static let contentSecurityPolicy = HTTPField.Name("Content-Security-Policy")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let crossOriginOpenerPolicy = HTTPField.Name("Cross-Origin-Opener-Policy")!
    static let permissionsPolicy = HTTPField.Name("Permissions-Policy")!
}

/// The headers of every console response, and its HTML error pages.
enum ConsoleHTTP {
    /// Scripts, styles and images only from the console's own files: no inline script or style (so an
    /// injected `<script>` or `onerror=` would not run even if escaping failed), no `eval`, no framing.
    static let contentSecurityPolicy = [
        "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
        "form-action 'self'", "base-uri 'none'", "frame-ancestors 'none'",
    ].joined(separator: "; ")

    static func secure(_ headers: inout HTTPFields) {
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xContentTypeOptions] = "nosniff"
        headers[.referrerPolicy] = "same-origin"
        headers[.xFrameOptions] = "DENY"
        headers[.crossOriginOpenerPolicy] = "same-origin"
        headers[.permissionsPolicy] = "camera=(), microphone=(), geolocation=()"
        // Pages carry CSRF tokens and, once, new API keys: never stored by a cache.
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }

    static func html(_ page: HTML, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: page.markup)))
    }

    /// A redirect after a form (303: the browser follows with GET).
    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// A fresh random token (256 bits, hex) for the login form's CSRF cookie.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%016llx", generator.next() as UInt64) }.joined()
    }
}

/// A submitted `application/x-www-form-urlencoded` form.
struct ConsoleForm: Sendable {
    static let maxBodyBytes = 256 * 1024
    var fields: [(String, String)]

    subscript(name: String) -> String? {
        fields.first { $0.0 == name }?.1
    }

    /// A field's text trimmed; nil when absent or blank.
    func text(_ name: String) -> String? {
        guard let value = self[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    func all(_ name: String) -> [String] {
        fields.filter { $0.0 == name }.map(\.1)
    }

    init(fields: [(String, String)]) {
        self.fields = fields
    }

    init(encoded: String) {
        fields = encoded.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ text: Substring) -> String {
                let spaced = text.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    /// Reads the body of a form post; any other body is a client mistake.
    static func read(_ request: inout Request) async throws -> ConsoleForm {
        let body = try await request.collectBody(upTo: maxBodyBytes)
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard body.readableBytes == 0 || type.hasPrefix("application/x-www-form-urlencoded") else {
            throw AdminAPIError(.unsupportedMediaType, type: "invalid_request", "Console forms are sent as application/x-www-form-urlencoded.")
        }
        return ConsoleForm(encoded: String(buffer: body))
    }
}
