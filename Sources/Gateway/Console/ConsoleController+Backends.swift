import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird

/// The Backends page: every Ollama server behind the gateway with what this instance knows of it
/// (state, version, loaded models, requests in flight) and what it served in the last hour; and the
/// forms that add, change and remove the backends defined at run time (those of `OLLAMA_URL` are
/// read-only). The same checks and audit as the admin API (`BackendAdministration`).
extension ConsoleController {
    func addBackendRoutes(to group: RouterGroup<Context>) {
        group.get("backends", use: backendsPage)
        group.post("backends", use: createBackend)
        // The name is a query parameter, as a model's is.
        group.get("backends/edit", use: backendPage)
        group.post("backends/edit", use: updateBackend)
        group.get("backends/delete", use: deleteBackendPage)
        group.post("backends/delete", use: deleteBackend)
    }

    static let backendFieldNames = ["name", "url", "auth_header", "priority", "weight", "models"]

    /// Reads the backend form into the admin API's change. An unticked `enabled` box is sent as
    /// nothing, so the form's absence of it means "disabled".
    static func backendChange(_ form: ConsoleForm, editing: Bool) throws(ConsoleFieldError) -> BackendChange {
        func number(_ field: String, _ label: String) throws(ConsoleFieldError) -> PatchField<Int> {
            guard let text = form.text(field) else { return .absent }
            guard let value = Int(text) else {
                throw ConsoleFieldError(field: field, message: "\(label) must be a whole number.")
            }
            return .value(value)
        }
        var change = BackendChange(
            url: form.text("url").map(PatchField.value) ?? .absent,
            priority: try number("priority", "The priority"), weight: try number("weight", "The weight"),
            enabled: .value(form["enabled"] == "on"),
            models: .value((form.text("models") ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
                .filter { !$0.isEmpty }))
        if !editing {
            change.name = form.text("name").map(PatchField.value) ?? .absent
            guard case .value = change.name else { throw ConsoleFieldError(field: "name", message: "A backend needs a name.") }
            guard case .value = change.url else {
                throw ConsoleFieldError(field: "url", message: "Give the Ollama server's URL, such as http://gpu1:11434.")
            }
        }
        // The header's value is never shown again: left empty, an edit keeps it.
        if form["remove_auth_header"] == "on" {
            change.authHeader = .null
        } else if let header = form.text("auth_header") {
            change.authHeader = .value(header)
        }
        return change
    }

    /// Runs a change through `BackendAdministration`, turning the admin API's refusal into a field error.
    func administered<Value>(_ body: () async throws -> Value) async throws -> Value {
        do {
            return try await body()
        } catch let error as AdminAPIError where error.status == .badRequest || error.status == .conflict {
            throw ConsoleFieldError(error, fields: Self.backendFieldNames)
        }
    }

    @Sendable func backendsPage(_ request: Request, context: Context) async throws -> Response {
        try await renderBackends(user: try ConsoleUser(context), notice: Self.notice(request))
    }

    func renderBackends(
        user: ConsoleUser, form: ConsoleForm? = nil, error: ConsoleFieldError? = nil, notice: HTML? = nil,
        status: HTTPResponse.Status = .ok
    ) async throws -> Response {
        let now = Date()
        let statuses = services.backends.statuses()
        let activity = Dictionary(
            try await store.usage.backendActivity(from: now.addingTimeInterval(-3600), to: now).map { ($0.backend, $0) },
            uniquingKeysWith: { first, _ in first })
        let rows = statuses.map { status -> HTML in
            let backend = status.backend
            let hour = activity[backend.name]
            let name: HTML = backend.source == .database
                ? "<a href=\"\(ConsoleURL.backend(backend.name))\">\(backend.name)</a>"
                : "\(backend.name)"
            let source: HTML = backend.source == .database ? "added here" : "configuration"
            let allowed: HTML = backend.models.isEmpty
                ? .empty : "<br><small>may serve: \(backend.models.joined(separator: ", "))</small>"
            return """
                <tr><th scope="row">\(name)<br><small><code>\(backend.url)</code> · \(source)</small></th>\
                <td>\(Self.backendBadge(status))\(status.version.map { v -> HTML in " <small>\(v)</small>" })\
                \(status.lastError.map { e -> HTML in "<br><small>\(e)</small>" })</td>\
                <td class="num">\(backend.priority) / \(backend.weight)</td>\
                <td>\(status.models.map { ConsoleFormat.number($0.count) } ?? "–")\(allowed)</td>\
                <td>\(Self.loadedModels(status.running))</td>\
                <td class="num">\(status.inFlight)</td>\
                <td class="num">\(ConsoleFormat.number(status.requests)) / \(ConsoleFormat.number(status.failures))</td>\
                <td class="num">\(ConsoleFormat.number(hour?.requests ?? 0)) / \(ConsoleFormat.number(hour?.errors ?? 0))</td>\
                <td class="num">\(ConsoleFormat.milliseconds(hour?.averageLatencyMs)) / \(ConsoleFormat.milliseconds(hour?.averageTimeToFirstTokenMs))</td></tr>
                """
        }
        let errors = error.map { [$0.field: $0.message] } ?? [:]
        return ConsoleLayout.page(
            "Backends", section: .backends, user: user, notice: notice, status: status,
            """
            <p>The Ollama servers behind the gateway. Requests go to one that has the model, preferring one where \
            it is loaded, then the least busy, within the best (lowest) priority; see docs/backends.md. \
            State, requests in flight and "Req / failed" are this instance's since it started; the last hour \
            (1 h: requests, errors, average latency and time to first token) comes from the usage log.</p>
            \(ConsoleLayout.table(
                caption: "Backends",
                headers: ["Backend", "State", "Priority / weight", "Models", "Loaded now", "In flight",
                    "Req / failed", "1 h req / errors", "1 h latency / TTFT"],
                rows: rows, empty: "No backend."))
            <section class="card" aria-labelledby="add-backend">
            <h2 id="add-backend">Add a backend</h2>
            \(ConsoleLayout.errorSummary(errors["form"]))
            <form method="post" action="/admin/backends" class="grid-form">
            \(ConsoleLayout.csrfField(user))
            \(ConsoleLayout.field("name", label: "Name", value: form?["name"], error: errors["name"], hint: "1–64 letters, digits, '-', '_' or '.'; it cannot change.", required: true, extra: " maxlength=\"64\""))
            \(backendFields(form: form, errors: errors, backend: nil))
            <div class="actions"><button type="submit" class="primary">Add backend</button></div>
            </form>
            </section>
            """)
    }

    /// The fields a new backend and an edit share.
    func backendFields(form: ConsoleForm?, errors: [String: String], backend: Backend?) -> HTML {
        let enabled = form.map { $0["enabled"] == "on" } ?? backend?.enabled ?? true
        let headerHint = backend?.authHeader.map { "Sent now: \($0.name): … Leave empty to keep it." }
            ?? "Optional, such as 'Authorization: Bearer …', for an Ollama behind its own authentication."
        return """
            \(ConsoleLayout.field("url", label: "URL", value: form?["url"] ?? backend?.url, error: errors["url"], hint: "http(s)://host[:port]", required: backend == nil, extra: " inputmode=\"url\" autocomplete=\"off\""))
            \(ConsoleLayout.field("auth_header", label: "Header sent to it", value: form?["auth_header"], error: errors["auth_header"], hint: headerHint, extra: " autocomplete=\"off\""))
            \(backend?.authHeader != nil ? ConsoleLayout.checkbox("remove_auth_header", label: "Remove the header", checked: false) : HTML.empty)
            \(ConsoleLayout.field("priority", label: "Priority", value: form?["priority"] ?? backend.map { String($0.priority) } ?? "0", type: "number", error: errors["priority"], hint: "Lower is preferred.", extra: " inputmode=\"numeric\""))
            \(ConsoleLayout.field("weight", label: "Weight", value: form?["weight"] ?? backend.map { String($0.weight) } ?? "1", type: "number", error: errors["weight"], hint: "Its share among equal backends, 1–1000.", extra: " min=\"1\" max=\"1000\" inputmode=\"numeric\""))
            \(ConsoleLayout.field("models", label: "Models it may serve", value: form?["models"] ?? backend?.models.joined(separator: ", "), error: errors["models"], hint: "Comma-separated; empty: every model it has."))
            \(ConsoleLayout.checkbox("enabled", label: "Enabled", checked: enabled))
            """
    }

    static func backendBadge(_ status: BackendStatus) -> HTML {
        switch status.state {
        case "ok": ConsoleLayout.badge("up", tone: "ok")
        case "cooling_down": ConsoleLayout.badge("cooling down", tone: "bad")
        case "unavailable": ConsoleLayout.badge("unreachable", tone: "bad")
        case "disabled": ConsoleLayout.badge("disabled", tone: "warn")
        default: ConsoleLayout.badge("not probed yet", tone: "warn")
        }
    }

    /// Each loaded model with the minutes before Ollama unloads it.
    static func loadedModels(_ running: [OllamaRunningModel], now: Date = Date()) -> HTML {
        guard !running.isEmpty else { return "–" }
        let items = running.map { model -> HTML in
            let minutes = model.expiresAt.flatMap(BackendPool.parseTime).map { Int(($0.timeIntervalSince(now) / 60).rounded(.up)) }
            return "<li>\(model.name)\(minutes.map { m -> HTML in " <small>for \(max(m, 0)) min</small>" })</li>"
        }
        return "<ul class=\"plain\">\(items)</ul>"
    }

    @Sendable func createBackend(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let form = try await ConsoleForm.read(&request)
        do {
            let change = try Self.backendChange(form, editing: false)
            _ = try await administered {
                try await backendAdministration.create(change, by: user.actor, from: context.remoteAddress, logger: context.logger)
            }
        } catch let error as ConsoleFieldError {
            return try await renderBackends(user: user, form: form, error: error, status: .badRequest)
        }
        return ConsoleHTTP.redirect("/admin/backends?notice=backend-saved")
    }

    /// A backend the console may change (defined at run time), by the `name` query parameter.
    func editableBackend(_ request: Request) throws -> Backend {
        guard let name = request.uri.queryParameters.get("name") else {
            throw AdminAPIError.notFound("Name the backend.")
        }
        return try backendAdministration.stored(name)
    }

    @Sendable func backendPage(_ request: Request, context: Context) async throws -> Response {
        renderBackend(user: try ConsoleUser(context), backend: try editableBackend(request))
    }

    func renderBackend(
        user: ConsoleUser, backend: Backend, form: ConsoleForm? = nil, error: ConsoleFieldError? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let errors = error.map { [$0.field: $0.message] } ?? [:]
        return ConsoleLayout.page(
            "Backend \(backend.name)", section: .backends, user: user, status: status,
            """
            <p><a href="/admin/backends">All backends</a></p>
            <section class="card" aria-labelledby="edit-backend">
            <h2 id="edit-backend">Edit \(backend.name)</h2>
            \(ConsoleLayout.errorSummary(errors["form"] ?? errors["name"]))
            <form method="post" action="\(ConsoleURL.backend(backend.name))" class="grid-form">
            \(ConsoleLayout.csrfField(user))
            \(backendFields(form: form, errors: errors, backend: backend))
            <div class="actions"><button type="submit" class="primary">Save</button></div>
            </form>
            <div class="danger-zone"><a class="button danger" href="\(ConsoleURL.with("/admin/backends/delete", [("name", backend.name)]))">Remove this backend…</a></div>
            </section>
            """)
    }

    @Sendable func updateBackend(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let backend = try editableBackend(request)
        let form = try await ConsoleForm.read(&request)
        do {
            let change = try Self.backendChange(form, editing: true)
            try await administered {
                try await backendAdministration.update(
                    backend.name, change, by: user.actor, from: context.remoteAddress, logger: context.logger)
            }
        } catch let error as ConsoleFieldError {
            return renderBackend(user: user, backend: backend, form: form, error: error, status: .badRequest)
        }
        return ConsoleHTTP.redirect("/admin/backends?notice=backend-saved")
    }

    @Sendable func deleteBackendPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let backend = try editableBackend(request)
        return ConsoleLayout.confirmation(
            "Remove \(backend.name)?", section: .backends, user: user,
            message: "The gateway stops sending requests to it at once (streams it is serving run to their end). The Ollama server itself is not touched.",
            action: ConsoleURL.with("/admin/backends/delete", [("name", backend.name)]), button: "Remove the backend",
            cancel: ConsoleURL.backend(backend.name))
    }

    @Sendable func deleteBackend(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let backend = try editableBackend(request)
        try await backendAdministration.delete(backend.name, by: user.actor, from: context.remoteAddress, logger: context.logger)
        return ConsoleHTTP.redirect("/admin/backends?notice=backend-removed")
    }
}
