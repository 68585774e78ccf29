import Foundation
import Gateway
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import OllamaSim
import Testing

/// The database engines admin tests run on: SQLite always, PostgreSQL when `TEST_DATABASE_URL` is set
/// (`REQUIRE_POSTGRES=1` makes a missing URL a failure instead of a skip).
enum AdminEngine: String, Sendable, CustomTestStringConvertible {
    case sqlite
    case postgres

    static var available: [AdminEngine] {
        let environment = ProcessInfo.processInfo.environment
        let hasURL = !(environment["TEST_DATABASE_URL"] ?? "").isEmpty
        return hasURL || environment["REQUIRE_POSTGRES"] == "1" ? [.sqlite, .postgres] : [.sqlite]
    }

    var testDescription: String { rawValue }
}

/// A fresh database location for one test: a temporary directory, or a new PostgreSQL schema dropped
/// afterwards. Several applications (a restart) and a direct store may open it.
struct AdminTestLocation: Sendable {
    let dataDirectory: String
    let databaseURL: String?
    let schema: String?

    static func make(_ engine: AdminEngine) throws -> AdminTestLocation {
        let directory = FileManagerTemp.directory()
        switch engine {
        case .sqlite:
            return AdminTestLocation(dataDirectory: directory, databaseURL: nil, schema: nil)
        case .postgres:
            let url = try #require(
                ProcessInfo.processInfo.environment["TEST_DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 },
                "REQUIRE_POSTGRES=1 but TEST_DATABASE_URL is not set; run scripts/postgres-test-server.sh start")
            let schema = "gwadmin_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
            let separator = url.contains("?") ? "&" : "?"
            return AdminTestLocation(dataDirectory: directory, databaseURL: url + separator + "schema=" + schema, schema: schema)
        }
    }

    func configure(_ configuration: inout GatewayConfiguration) {
        configuration.dataDirectory = dataDirectory
        configuration.databaseURL = databaseURL
    }

    /// The store as another process (the command line, another instance) sees it.
    func withStore<Result: Sendable>(_ body: (GatewayStore) async throws -> Result) async throws -> Result {
        let database = try await GatewayDatabase.open(
            StoreConfiguration(dataDirectory: dataDirectory, databaseURL: databaseURL), logger: TestGateway.logger)
        do {
            let result = try await body(GatewayStore(database: database, passwordHasher: PasswordHasher(cost: 4)))
            try await database.shutdown()
            return result
        } catch {
            try? await database.shutdown()
            throw error
        }
    }

    func remove() async throws {
        try? FileManager.default.removeItem(atPath: dataDirectory)
        guard let schema, let databaseURL else { return }
        let plain = String(databaseURL[..<databaseURL.range(of: "schema=")!.lowerBound].dropLast())
        let database = try await GatewayDatabase.open(try StoreConfiguration.postgres(url: plain), migrate: false)
        try await database.sql.raw("DROP SCHEMA IF EXISTS \(ident: schema) CASCADE").run()
        try await database.shutdown()
    }
}

/// A client of the admin API that keeps its session cookie and CSRF token, like the web UI.
struct AdminClient: Sendable {
    let client: any TestClientProtocol
    var cookieName = "gateway_session"
    var sessionToken: String?
    var csrfToken: String?
    /// Sent as `Authorization: Bearer …` instead of the session.
    var bearer: String?

    init(_ client: any TestClientProtocol) {
        self.client = client
    }

    var headers: HTTPFields {
        var headers = HTTPFields()
        if let sessionToken { headers[.cookie] = "\(cookieName)=\(sessionToken)" }
        if let csrfToken { headers[HTTPField.Name("X-CSRF-Token")!] = csrfToken }
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        return headers
    }

    func send(
        _ method: HTTPRequest.Method, _ path: String, json: String? = nil, headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = self.headers
        if json != nil { headers[.contentType] = "application/json" }
        for field in extra { headers[field.name] = field.value }
        return try await client.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
    }

    func get(_ path: String) async throws -> TestResponse { try await send(.get, path) }

    /// Signs in; keeps the cookie and the CSRF token.
    @discardableResult
    mutating func login(_ username: String = "admin", _ password: String) async throws -> TestResponse {
        let response = try await send(
            .post, "/admin/api/login", json: #"{"username":"\#(username)","password":"\#(password)"}"#)
        if response.status == .ok {
            sessionToken = try #require(Self.cookie(named: cookieName, in: response)).value
            csrfToken = try response.json()["csrf_token"]?.stringValue
        }
        return response
    }

    /// Signs in with the default `admin`/`admin` and changes the password to `password`.
    mutating func loginChangingDefault(to password: String = AdminTests.password) async throws {
        try #require(try await login("admin", "admin").status == .ok)
        let changed = try await send(
            .post, "/admin/api/password", json: #"{"current_password":"admin","new_password":"\#(password)"}"#)
        try #require(changed.status == .ok, "\(String(buffer: changed.body))")
    }

    static func cookie(named name: String, in response: TestResponse) -> (value: String, attributes: [String])? {
        for header in response.headers[values: .setCookie] {
            let parts = header.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let first = parts.first, first.hasPrefix(name + "=") else { continue }
            return (String(first.dropFirst(name.count + 1)), Array(parts.dropFirst()))
        }
        return nil
    }
}

extension TestResponse {
    func json() throws -> JSONValue {
        try JSONDecoder().decode(JSONValue.self, from: Data(buffer: body))
    }

    var errorType: String? { (try? json())?["error"]?["type"]?.stringValue }
    var errorMessage: String? { (try? json())?["error"]?["message"]?.stringValue }
    var text: String { String(buffer: body) }
}

enum AdminTests {
    static let password = "correct horse battery"

    /// A gateway on `location` (fast bcrypt, no Ollama unless `upstream` is given), live on a free port.
    static func withGateway(
        _ location: AdminTestLocation, upstream: String = TestGateway.deadUpstream,
        _ adjust: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (AdminClient) async throws -> Void
    ) async throws {
        let configuration = TestGateway.configuration(upstream: upstream) {
            location.configure(&$0)
            $0.admin.passwordHashCost = 4
            adjust(&$0)
        }
        let app = try await buildApplication(configuration: configuration, logger: TestGateway.logger)
        try await app.test(.live) { client in
            var admin = AdminClient(client)
            admin.cookieName = configuration.admin.sessionCookieName
            try await body(admin)
        }
    }

    /// A fresh location, one gateway on it, removed afterwards.
    static func withFreshGateway(
        _ engine: AdminEngine, upstream: String = TestGateway.deadUpstream,
        _ adjust: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (AdminClient, AdminTestLocation) async throws -> Void
    ) async throws {
        let location = try AdminTestLocation.make(engine)
        do {
            try await withGateway(location, upstream: upstream, adjust) { try await body($0, location) }
        } catch {
            try? await location.remove()
            throw error
        }
        try await location.remove()
    }

    /// A gateway whose admin has signed in and left the default password behind.
    static func withSignedIn(
        _ engine: AdminEngine, upstream: String = TestGateway.deadUpstream,
        _ adjust: @Sendable (inout GatewayConfiguration) -> Void = { _ in },
        _ body: @Sendable (AdminClient, AdminTestLocation) async throws -> Void
    ) async throws {
        try await withFreshGateway(engine, upstream: upstream, adjust) { client, location in
            var admin = client
            try await admin.loginChangingDefault()
            try await body(admin, location)
        }
    }

    /// The audit entries, newest first, as the API returns them.
    static func auditEntries(_ client: AdminClient, query: String = "") async throws -> [JSONValue] {
        let response = try await client.get("/admin/api/audit?limit=500" + query)
        try #require(response.status == .ok, "\(response.text)")
        return try response.json()["entries"]?.arrayValue ?? []
    }
}
