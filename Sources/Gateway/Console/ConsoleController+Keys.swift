import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird

extension KeyFields {
    /// The key fields of a console form, checked the way the admin API checks them afterwards.
    /// - Parameter editing: an edit form sends every field: a blank limit clears it (no limit);
    ///   creating, a blank field is just not given. `currentExpiry` is the expiry the edit form showed:
    ///   sent back unchanged, it is left alone.
    init(form: ConsoleForm, editing: Bool, currentExpiry: String? = nil) throws(ConsoleFieldError) {
        func limit(_ name: String, _ label: String) throws(ConsoleFieldError) -> PatchField<Int> {
            guard let text = form.text(name) else { return editing ? .null : .absent }
            guard let value = Int(text), value > 0 else {
                throw ConsoleFieldError(field: name, message: "\(label) must be a positive whole number, or empty for no limit.")
            }
            return .value(value)
        }
        if let text = form.text("name") { name = .value(text) } else { name = editing ? .null : .absent }
        let patterns = (form["models"] ?? "").split(whereSeparator: { $0 == "," || $0.isNewline })
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        models = patterns.isEmpty ? (editing ? .null : .absent) : .value(patterns)
        rpm = try limit("rpm", "Requests per minute")
        tpm = try limit("tpm", "Tokens per minute")
        quota = try limit("quota", "The token quota")
        maxConcurrent = try limit("max_concurrent", "Concurrent requests")
        expiresAt = .absent
        expiresIn = .absent
        let expiry = form.text("expires")
        if expiry != currentExpiry {
            if let expiry {
                if LifetimeText.parse(expiry) != nil { expiresIn = .value(expiry) } else { expiresAt = .value(expiry) }
            } else if editing {
                expiresAt = .null
            }
        }
        enabled = editing ? .value(form["enabled"] == "on") : .absent
    }
}

/// A form field's error, shown beside the field.
struct ConsoleFieldError: Error, Sendable {
    var field: String
    var message: String

    /// The admin API's message, placed beside the field it names (`'rpm' must be…`).
    init(_ error: AdminAPIError, fields: [String], fallback: String = "form") {
        let named = fields.first { error.message.contains("'\($0)'") }
        field = named.map { $0 == "expires_at" || $0 == "expires_in" ? "expires" : $0 } ?? fallback
        message = error.message
    }

    init(field: String, message: String) {
        self.field = field
        self.message = message
    }
}

extension ConsoleController {
    func addKeyRoutes(to group: RouterGroup<Context>) {
        group.get("keys", use: keysPage)
        group.post("keys", use: createKey)
        group.get("keys/{id}", use: keyPage)
        group.post("keys/{id}", use: updateKey)
        group.post("keys/{id}/rotate", use: rotateKey)
        group.get("keys/{id}/revoke", use: revokePage)
        group.post("keys/{id}/revoke", use: revokeKey)
    }

    static let keyFieldNames = ["name", "models", "rpm", "tpm", "quota", "max_concurrent", "expires_at", "expires_in", "enabled"]

    // MARK: - The list and the creation form

    @Sendable func keysPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let all = request.uri.queryParameters.get("all") == "1"
        return try await renderKeys(user: user, includeRevoked: all, notice: Self.notice(request))
    }

    func renderKeys(
        user: ConsoleUser, includeRevoked: Bool, form: ConsoleForm? = nil, error: ConsoleFieldError? = nil,
        notice: HTML? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let now = Date()
        let records = try await store.apiKeys.list(includeRevoked: includeRevoked)
        async let today = store.usage.totals(from: now.addingTimeInterval(-86_400), to: now, filter: UsageFilter(), groupBy: .key)
        async let month = store.usage.totals(from: now.addingTimeInterval(-30 * 86_400), to: now, filter: UsageFilter(), groupBy: .key)
        let day = Dictionary((try await today).compactMap { row in row.group.map { ($0, row.metrics) } }, uniquingKeysWith: { a, _ in a })
        let days30 = Dictionary((try await month).compactMap { row in row.group.map { ($0, row.metrics) } }, uniquingKeysWith: { a, _ in a })
        let rows = records.map { record -> HTML in
            let status = record.status(at: now)
            let d = day[record.id]
            let m = days30[record.id]
            return """
                <tr><th scope="row"><a href="\(ConsoleURL.key(record.id))">\(record.name)</a></th>\
                <td><code>\(record.prefix)…</code></td>\
                <td>\(Self.modelList(record.allowedModels))</td>\
                <td>\(Self.limits(record.limits))</td>\
                <td>\(Self.statusBadge(status))</td>\
                <td>\(ConsoleFormat.time(record.expiresAt))</td>\
                <td>\(ConsoleFormat.time(record.lastUsedAt))</td>\
                <td class="num">\(ConsoleFormat.number(d?.requests ?? 0)) / \(ConsoleFormat.compact(d?.totalTokens ?? 0))</td>\
                <td class="num">\(ConsoleFormat.number(m?.requests ?? 0)) / \(ConsoleFormat.compact(m?.totalTokens ?? 0))</td></tr>
                """
        }
        let table = ConsoleLayout.table(
            caption: "API keys",
            headers: ["Name", "Prefix", "Models", "Limits", "State", "Expires", "Last used", "24 h req / tok", "30 d req / tok"],
            rows: rows, empty: "No API keys yet. Create the first one below.")
        let toggle: HTML = includeRevoked
            ? "<a href=\"/admin/keys\">Hide revoked keys</a>"
            : "<a href=\"/admin/keys?all=1\">Show revoked keys</a>"
        let errors = error.map { [$0.field: $0.message] } ?? [:]
        return ConsoleLayout.page(
            "API keys", section: .keys, user: user, notice: notice, status: status,
            """
            <p class="toolbar">\(toggle)</p>
            \(table)
            <section class="card" aria-labelledby="create-key">
            <h2 id="create-key">Create a key</h2>
            \(ConsoleLayout.errorSummary(errors["form"]))
            <form method="post" action="/admin/keys" class="grid-form">
            \(ConsoleLayout.csrfField(user))
            \(ConsoleLayout.field("name", label: "Name", value: form?["name"], error: errors["name"], required: true, extra: " maxlength=\"100\""))
            \(ConsoleLayout.field("models", label: "Allowed models", value: form?["models"], error: errors["models"], hint: "Comma-separated names or patterns (llama*); empty allows every model."))
            \(ConsoleLayout.field("rpm", label: "Requests per minute", value: form?["rpm"], type: "number", error: errors["rpm"], extra: " min=\"1\" inputmode=\"numeric\""))
            \(ConsoleLayout.field("tpm", label: "Tokens per minute", value: form?["tpm"], type: "number", error: errors["tpm"], extra: " min=\"1\" inputmode=\"numeric\""))
            \(ConsoleLayout.field("quota", label: "Token quota", value: form?["quota"], type: "number", error: errors["quota"], extra: " min=\"1\" inputmode=\"numeric\""))
            \(ConsoleLayout.field("max_concurrent", label: "Concurrent requests", value: form?["max_concurrent"], type: "number", error: errors["max_concurrent"], extra: " min=\"1\" inputmode=\"numeric\""))
            \(ConsoleLayout.field("expires", label: "Expires", value: form?["expires"], error: errors["expires"], hint: "A lifetime such as 30d or 12h, or a time such as 2030-01-31T00:00:00Z; empty for never."))
            <div class="actions"><button type="submit" class="primary">Create key</button></div>
            </form>
            </section>
            """)
    }

    @Sendable func createKey(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let form = try await ConsoleForm.read(&request)
        let now = Date()
        let issued: IssuedAPIKey
        do {
            let fields = try KeyFields(form: form, editing: false)
            guard case .value = fields.name else { throw ConsoleFieldError(field: "name", message: "A key needs a name.") }
            let (settings, _) = try Self.checked { () throws(AdminAPIError) in try fields.applied(to: APIKeySettings(name: ""), now: now) }
            issued = try await keys.create(settings, by: user.actor, from: context.remoteAddress, now: now)
        } catch let error as ConsoleFieldError {
            return try await renderKeys(user: user, includeRevoked: false, form: form, error: error, status: .badRequest)
        }
        return renderSecret(user: user, issued: issued, request: request, rotated: false)
    }

    /// Runs a check of the admin API and turns its refusal into a field error.
    static func checked<Value>(_ body: () throws(AdminAPIError) -> Value) throws(ConsoleFieldError) -> Value {
        do {
            return try body()
        } catch {
            throw ConsoleFieldError(error, fields: keyFieldNames)
        }
    }

    /// The page that shows a new secret, once: it is in this response only (never stored, never in a
    /// URL), with a copy button and ready-made snippets.
    func renderSecret(user: ConsoleUser, issued: IssuedAPIKey, request: Request, rotated: Bool) -> Response {
        let secret = issued.secret.value
        let scheme = cookies.secure ? "https" : "http"
        let base = "\(scheme)://\(request.head.authority ?? "localhost:3000")/v1"
        let curl = """
            curl \(base)/chat/completions \\
              -H "Authorization: Bearer \(secret)" \\
              -H "Content-Type: application/json" \\
              -d '{"model": "MODEL", "messages": [{"role": "user", "content": "Hello"}]}'
            """
        let python = """
            from openai import OpenAI

            client = OpenAI(base_url="\(base)", api_key="\(secret)")
            reply = client.chat.completions.create(
                model="MODEL", messages=[{"role": "user", "content": "Hello"}])
            print(reply.choices[0].message.content)
            """
        let title = rotated ? "Key rotated" : "Key created"
        return ConsoleLayout.page(
            title, section: .keys, user: user, status: rotated ? .ok : .created,
            """
            <section class="card secret" aria-labelledby="secret-label">
            <h2 id="secret-label">The secret of “\(issued.record.name)”</h2>
            <p class="warning" role="alert"><strong>Copy it now: it is shown this once.</strong> The gateway keeps only a \
            hash and cannot show it again\(rotated ? ". The previous secret of this key has stopped working." : ".")</p>
            <div class="copy-row"><code id="new-secret" class="secret-value">\(secret)</code>\
            <button type="button" class="primary" data-copy="new-secret">Copy</button>\
            <span class="copied" role="status" aria-live="polite"></span></div>
            <h3>curl</h3>
            <div class="copy-row"><pre id="snippet-curl"><code>\(curl)</code></pre><button type="button" data-copy="snippet-curl">Copy</button></div>
            <h3>Python (openai)</h3>
            <div class="copy-row"><pre id="snippet-python"><code>\(python)</code></pre><button type="button" data-copy="snippet-python">Copy</button></div>
            <p><a class="button" href="\(ConsoleURL.key(issued.record.id))">Go to the key</a> <a href="/admin/keys">All keys</a></p>
            </section>
            """)
    }

    // MARK: - One key

    func record(_ context: Context) async throws -> APIKeyRecord {
        let id = try AdminController.keyID(context)
        guard let record = try await store.apiKeys.get(id: id) else { throw AdminController.unknownKey(id) }
        return record
    }

    @Sendable func keyPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        return try await renderKey(user: user, record: try await record(context), notice: Self.notice(request))
    }

    func renderKey(
        user: ConsoleUser, record: APIKeyRecord, form: ConsoleForm? = nil, error: ConsoleFieldError? = nil,
        notice: HTML? = nil, status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let now = Date()
        let since = now.addingTimeInterval(-30 * 86_400)
        let filter = UsageFilter(keyID: record.id)
        async let byModel = store.usage.totals(from: since, to: now, filter: filter, groupBy: .model)
        async let byDay = store.usage.series(from: since, to: now, granularity: .day, filter: filter, groupBy: nil)
        let modelRows = try await byModel.sorted { $0.metrics.requests > $1.metrics.requests }.map { row -> HTML in
            """
            <tr><th scope="row">\(row.group ?? "–")</th><td class="num">\(ConsoleFormat.number(row.metrics.requests))</td>\
            <td class="num">\(ConsoleFormat.compact(row.metrics.promptTokens)) / \(ConsoleFormat.compact(row.metrics.completionTokens))</td>\
            <td class="num">\(ConsoleFormat.number(row.metrics.errors))</td><td class="num">\(ConsoleFormat.milliseconds(row.metrics.averageLatencyMs))</td></tr>
            """
        }
        let days = try await byDay
        let chart = ConsoleCharts.bars(
            title: "Requests per day, last 30 days", unit: "requests",
            points: ConsoleCharts.filled(days, from: since, to: now, step: 86_400).map { ($0.0, Double($0.1?.requests ?? 0)) },
            labelFormat: .day)
        let revoked = record.revokedAt != nil
        let errors = error.map { [$0.field: $0.message] } ?? [:]
        let expiry = record.expiresAt.map(Timestamps.format)
        let value = { (name: String, current: String?) -> String? in form.map { $0[name] } ?? current }
        let editForm: HTML = revoked
            ? "<p>This key was revoked on \(ConsoleFormat.time(record.revokedAt)); it can no longer be changed.</p>"
            : """
            <form method="post" action="\(ConsoleURL.key(record.id))" class="grid-form">
            \(ConsoleLayout.csrfField(user))
            <input type="hidden" name="current_expires" value="\(expiry ?? "")">
            \(ConsoleLayout.field("name", label: "Name", value: value("name", record.name), error: errors["name"], required: true, extra: " maxlength=\"100\""))
            \(ConsoleLayout.field("models", label: "Allowed models", value: value("models", record.allowedModels.joined(separator: ", ")), error: errors["models"], hint: "Comma-separated names or patterns (llama*); empty allows every model."))
            \(ConsoleLayout.field("rpm", label: "Requests per minute", value: value("rpm", record.limits.requestsPerMinute.map(String.init)), type: "number", error: errors["rpm"], extra: " min=\"1\""))
            \(ConsoleLayout.field("tpm", label: "Tokens per minute", value: value("tpm", record.limits.tokensPerMinute.map(String.init)), type: "number", error: errors["tpm"], extra: " min=\"1\""))
            \(ConsoleLayout.field("quota", label: "Token quota", value: value("quota", record.limits.tokenQuota.map(String.init)), type: "number", error: errors["quota"], extra: " min=\"1\""))
            \(ConsoleLayout.field("max_concurrent", label: "Concurrent requests", value: value("max_concurrent", record.limits.maxConcurrentRequests.map(String.init)), type: "number", error: errors["max_concurrent"], extra: " min=\"1\""))
            \(ConsoleLayout.field("expires", label: "Expires", value: value("expires", expiry), error: errors["expires"], hint: "A lifetime such as 30d, or a time such as 2030-01-31T00:00:00Z; empty for never."))
            \(ConsoleLayout.checkbox("enabled", label: "Enabled", checked: form.map { $0["enabled"] == "on" } ?? record.enabled))
            \(ConsoleLayout.errorSummary(errors["form"]))
            <div class="actions"><button type="submit" class="primary">Save</button></div>
            </form>
            <div class="danger-zone">
            <form method="post" action="\(ConsoleURL.key(record.id))/rotate" data-confirm="Rotate this key? Its current secret stops working at once.">\
            \(ConsoleLayout.csrfField(user))<button type="submit">Rotate secret</button></form>
            <a class="button danger" href="\(ConsoleURL.key(record.id))/revoke">Revoke…</a>
            </div>
            """
        let tokensUsed = record.limits.tokenQuota.map { "\(ConsoleFormat.number(record.tokensUsed)) of \(ConsoleFormat.number($0))" }
            ?? ConsoleFormat.number(record.tokensUsed)
        return ConsoleLayout.page(
            "Key “\(record.name)”", section: .keys, user: user, notice: notice, status: status,
            """
            <dl class="facts">
            <dt>Prefix</dt><dd><code>\(record.prefix)…</code></dd>
            <dt>State</dt><dd>\(Self.statusBadge(record.status(at: now)))</dd>
            <dt>Tokens used</dt><dd>\(tokensUsed)</dd>
            <dt>Created</dt><dd>\(ConsoleFormat.time(record.createdAt))</dd>
            <dt>Last used</dt><dd>\(ConsoleFormat.time(record.lastUsedAt))</dd>
            <dt>Rotated</dt><dd>\(ConsoleFormat.time(record.rotatedAt))</dd>
            <dt>Id</dt><dd><code>\(record.id)</code></dd>
            </dl>
            <div class="columns">
            <section class="card" aria-labelledby="edit-key"><h2 id="edit-key">Settings</h2>\(editForm)</section>
            <section class="card" aria-labelledby="key-usage"><h2 id="key-usage">Usage, last 30 days</h2>
            \(chart)
            <h3>By model</h3>
            \(ConsoleLayout.table(caption: "Usage by model", headers: ["Model", "Requests", "Tokens in / out", "Errors", "Avg latency"], rows: modelRows, empty: "No requests in the last 30 days."))
            <p><a href="\(ConsoleURL.with("/admin/requests", [("key", record.id)]))">This key’s requests</a></p>
            </section>
            </div>
            """)
    }

    @Sendable func updateKey(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let record = try await record(context)
        let form = try await ConsoleForm.read(&request)
        guard record.revokedAt == nil else {
            throw AdminAPIError(.conflict, type: "conflict", "The key \(record.id) is revoked and can no longer be changed.")
        }
        let now = Date()
        do {
            let fields = try KeyFields(form: form, editing: true, currentExpiry: form.text("current_expires"))
            let (settings, changed) = try Self.checked { () throws(AdminAPIError) in try fields.applied(to: record.settings, now: now) }
            if settings != record.settings {
                _ = try await keys.update(
                    id: record.id, settings: settings, changed: changed, by: user.actor, from: context.remoteAddress, now: now)
            }
        } catch let error as ConsoleFieldError {
            return try await renderKey(user: user, record: record, form: form, error: error, status: .badRequest)
        }
        return ConsoleHTTP.redirect(ConsoleURL.key(record.id) + "?notice=key-updated")
    }

    @Sendable func rotateKey(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let record = try await record(context)
        let issued = try await keys.rotate(id: record.id, by: user.actor, from: context.remoteAddress)
        return renderSecret(user: user, issued: issued, request: request, rotated: true)
    }

    @Sendable func revokePage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let record = try await record(context)
        return ConsoleLayout.confirmation(
            "Revoke “\(record.name)”?", section: .keys, user: user,
            message: "Requests with the key <code>\(record.prefix)…</code> will be refused at once. This cannot be undone; its usage history stays.",
            action: "\(ConsoleURL.key(record.id))/revoke", button: "Revoke the key", cancel: ConsoleURL.key(record.id))
    }

    @Sendable func revokeKey(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let record = try await record(context)
        _ = try await keys.revoke(id: record.id, by: user.actor, from: context.remoteAddress)
        return ConsoleHTTP.redirect("/admin/keys?notice=key-revoked")
    }

    // MARK: - Pieces

    static func modelList(_ patterns: [String]) -> HTML {
        patterns.isEmpty ? "<span class=\"muted\">all</span>" : "\(patterns.joined(separator: ", "))"
    }

    static func limits(_ limits: APIKeyLimits) -> HTML {
        var parts: [String] = []
        if let rpm = limits.requestsPerMinute { parts.append("\(rpm) rpm") }
        if let tpm = limits.tokensPerMinute { parts.append("\(ConsoleFormat.compact(tpm)) tpm") }
        if let quota = limits.tokenQuota { parts.append("quota \(ConsoleFormat.compact(quota))") }
        if let concurrent = limits.maxConcurrentRequests { parts.append("\(concurrent) at once") }
        return parts.isEmpty ? "<span class=\"muted\">none</span>" : "\(parts.joined(separator: ", "))"
    }

    static func statusBadge(_ status: APIKeyStatus) -> HTML {
        let tone = switch status {
        case .active: "ok"
        case .disabled, .expired, .quotaExhausted: "warn"
        case .revoked: "bad"
        }
        return ConsoleLayout.badge(status.rawValue.replacingOccurrences(of: "_", with: " "), tone: tone)
    }
}
