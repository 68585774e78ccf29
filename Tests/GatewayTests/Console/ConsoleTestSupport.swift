import Foundation
import Gateway
import GatewayAPI
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import OllamaSim
import Testing

/// A browser of the console for tests: keeps its cookies, reads the CSRF token from the pages, sends
/// forms as a browser does.
struct ConsoleBrowser: Sendable {
    let client: any TestClientProtocol
    var cookies: [String: String] = [:]
    var csrf: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    static func encode(_ fields: [(String, String)]) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return fields.map { name, value in
            "\(name.addingPercentEncoding(withAllowedCharacters: allowed)!)=\(value.addingPercentEncoding(withAllowedCharacters: allowed)!)"
        }.joined(separator: "&")
    }

    var cookieHeader: String {
        cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")
    }

    mutating func keep(_ response: TestResponse) {
        for header in response.headers[values: .setCookie] {
            guard let first = header.split(separator: ";").first else { continue }
            let parts = first.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { continue }
            if parts[1].isEmpty || header.contains("Max-Age=0") { cookies[parts[0]] = nil } else { cookies[parts[0]] = parts[1] }
        }
        if let token = Self.csrfToken(in: response.text) { csrf = token }
    }

    static func csrfToken(in page: String) -> String? {
        guard let range = page.range(of: "name=\"_csrf\" value=\"") else { return nil }
        let rest = page[range.upperBound...]
        return rest.firstIndex(of: "\"").map { String(rest[..<$0]) }
    }

    @discardableResult
    mutating func get(_ path: String, headers extra: HTTPFields = [:]) async throws -> TestResponse {
        var headers = extra
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        let response = try await client.execute(uri: path, method: .get, headers: headers, body: nil)
        keep(response)
        return response
    }

    /// Posts a form with the page's CSRF token, another `token`, or none (`withoutToken`).
    @discardableResult
    mutating func post(
        _ path: String, _ fields: [(String, String)] = [], token: String? = nil, withoutToken: Bool = false,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var fields = fields
        if !withoutToken, let chosen = token ?? csrf { fields.append(("_csrf", chosen)) }
        var headers = extra
        headers[.contentType] = "application/x-www-form-urlencoded"
        if !cookies.isEmpty { headers[.cookie] = cookieHeader }
        let response = try await client.execute(
            uri: path, method: .post, headers: headers, body: ByteBuffer(string: Self.encode(fields)))
        keep(response)
        return response
    }

    /// Signs in through the login form.
    @discardableResult
    mutating func signIn(_ username: String = "admin", _ password: String) async throws -> TestResponse {
        try #require(try await get("/admin/login").status == .ok)
        return try await post("/admin/login", [("username", username), ("password", password)])
    }

    /// Signs in with admin/admin and sets `AdminTests.password` on the forced page.
    mutating func signInChangingDefault() async throws {
        let login = try await signIn("admin", "admin")
        try #require(login.status == .seeOther)
        try #require(login.headers[.location] == "/admin/password")
        try #require(try await get("/admin/password").status == .ok)
        let changed = try await post(
            "/admin/password",
            [("current_password", "admin"), ("new_password", AdminTests.password), ("confirm_password", AdminTests.password)])
        try #require(changed.status == .seeOther, "\(changed.text)")
        try #require(try await get("/admin/").status == .ok)
    }
}

enum ConsoleTests {
    static let xssName = "<script>alert('key')</script>"
    static let xssAlias = "\"><img src=x onerror=alert(1)>"

    /// A fresh gateway (no Ollama unless `upstream`), a browser signed in with its own password.
    static func withConsole(
        upstream: String = TestGateway.deadUpstream, _ adjust: @Sendable @escaping (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (ConsoleBrowser, AdminTestLocation) async throws -> Void
    ) async throws {
        try await AdminTests.withFreshGateway(.sqlite, upstream: upstream, adjust) { admin, location in
            var browser = ConsoleBrowser(admin.client)
            try await browser.signInChangingDefault()
            try await body(browser, location)
        }
    }

    /// The header every console response carries.
    static func expectSecurityHeaders(_ response: TestResponse, sourceLocation: SourceLocation = #_sourceLocation) {
        let csp = response.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
        #expect(csp.contains("script-src 'self'"), sourceLocation: sourceLocation)
        #expect(csp.contains("frame-ancestors 'none'"), sourceLocation: sourceLocation)
        #expect(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"), sourceLocation: sourceLocation)
        #expect(response.headers[.xContentTypeOptions] == "nosniff", sourceLocation: sourceLocation)
        #expect(response.headers[HTTPField.Name("Referrer-Policy")!] == "same-origin", sourceLocation: sourceLocation)
        #expect(response.headers[.accessControlAllowOrigin] == nil, sourceLocation: sourceLocation)
        #expect(response.headers[.accessControlAllowCredentials] == nil, sourceLocation: sourceLocation)
    }

    /// The text between `<main` and `</main>`: what a page shows of its data.
    static func main(_ page: String) -> String {
        guard let start = page.range(of: "<main"), let end = page.range(of: "</main>") else { return page }
        return String(page[start.lowerBound..<end.upperBound])
    }
}
