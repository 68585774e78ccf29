import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird

extension ConsoleController {
    func addSettingsRoutes(to group: RouterGroup<Context>) {
        group.get("settings", use: settingsPage)
        group.post("settings", use: updateSettings)
        group.post("settings/reset", use: resetSetting)
        group.post("settings/test", use: testConnection)
        group.get("audit", use: auditPage)
    }

    struct SettingsForm {
        var ollamaURL: String
        var defaults: String
        var reasoningFormat: String

        init(ollamaURL: String, defaults: String, reasoningFormat: String) {
            self.ollamaURL = ollamaURL
            self.defaults = defaults
            self.reasoningFormat = reasoningFormat
        }

        /// The values as submitted, kept to show the form again beside its errors.
        init(_ form: ConsoleForm) {
            self.init(
                ollamaURL: form["ollama_url"] ?? "", defaults: form["defaults"] ?? "", reasoningFormat: form["reasoning_format"] ?? "")
        }
    }

    @Sendable func settingsPage(_ request: Request, context: Context) async throws -> Response {
        try await renderSettings(user: try ConsoleUser(context), notice: Self.notice(request), context: context)
    }

    func renderSettings(
        user: ConsoleUser, form: SettingsForm? = nil, errors: [String: String] = [:], warnings: [String] = [],
        test: HTML? = nil, notice: HTML? = nil, status: HTTPResponse.Status = .ok, context: Context
    ) async throws -> Response {
        let effective = try await runtimeSettings.reload(logger: context.logger)
        let form = form ?? SettingsForm(
            ollamaURL: effective.values.ollamaURL, defaults: Self.prettyJSON(.object(effective.defaults)),
            reasoningFormat: effective.values.reasoningFormat.rawValue)
        func source(_ name: String) -> HTML {
            let from = effective.sources[name] ?? "configuration"
            guard from == "database" else { return "<p class=\"source\">From the configuration (flags, environment, .env).</p>" }
            return """
                <p class="source">Saved here (wins over the configuration). \
                <button type="submit" form="reset-\(name)" class="link">Return to the configured value</button></p>
                """
        }
        let resets = ["ollama_url", "defaults", "reasoning_format"].map { name -> HTML in
            "<form id=\"reset-\(name)\" method=\"post\" action=\"/admin/settings/reset\" hidden>\(ConsoleLayout.csrfField(user))<input type=\"hidden\" name=\"name\" value=\"\(name)\"></form>"
        }
        let problems = effective.problems.map { p -> HTML in "<li>\(p)</li>" }
        return ConsoleLayout.page(
            "Settings", section: .settings, user: user, notice: notice, status: status,
            """
            \(problems.isEmpty ? HTML.empty : "<ul class=\"error\" role=\"alert\">\(problems)</ul>" as HTML)
            \(ConsoleLayout.errorSummary(errors["form"]))
            \(resets)
            <form method="post" action="/admin/settings" class="stack card">
            \(ConsoleLayout.csrfField(user))
            <fieldset><legend>Ollama</legend>
            \(ConsoleLayout.field("ollama_url", label: "Ollama URL", value: form.ollamaURL, type: "url", error: errors["ollama_url"], required: true))
            <button type="submit" formaction="/admin/settings/test">Test connection</button>
            \(test.map { t -> HTML in "<p class=\"test-result\" role=\"status\">\(t)</p>" })
            \(source("ollama_url"))
            </fieldset>
            <fieldset><legend>Defaults for every model</legend>
            \(ConsoleLayout.textarea("defaults", label: "Default parameters (JSON, Ollama's format)", value: form.defaults, error: errors["defaults"], hint: "Applied unless a request or a model override sets them, e.g. {\"num_ctx\": 8192, \"keep_alive\": \"10m\"}.", rows: 6, warnings: warnings))
            \(source("defaults"))
            </fieldset>
            <fieldset><legend>Reasoning</legend>
            \(ConsoleLayout.select("reasoning_format", label: "How OpenAI-format answers carry reasoning", options: ReasoningFormat.allCases.map { (value: $0.rawValue, label: $0.rawValue) }, selected: form.reasoningFormat))
            \(source("reasoning_format"))
            </fieldset>
            <div class="actions"><button type="submit" class="primary">Save settings</button></div>
            </form>
            """)
    }

    @Sendable func updateSettings(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let form = try await ConsoleForm.read(&request)
        let submitted = SettingsForm(form)
        func refuse(_ field: String, _ message: String) async throws -> Response {
            try await renderSettings(user: user, form: submitted, errors: [field: message], status: .badRequest, context: context)
        }
        let current = try await runtimeSettings.reload(logger: context.logger)
        var change = PersistedRuntimeSettings.Change()
        // Only what changed is saved: a value left as the configuration gave it stays the configuration's.
        let url = submitted.ollamaURL.trimmingCharacters(in: .whitespaces)
        if url != current.values.ollamaURL { change.ollamaURL = .some(url) }
        let defaultsText = submitted.defaults.trimmingCharacters(in: .whitespacesAndNewlines)
        let defaults: [String: JSONValue]
        if defaultsText.isEmpty {
            defaults = [:]
        } else {
            guard let parsed = try? JSONDecoder().decode(JSONValue.self, from: Data(defaultsText.utf8)) else {
                return try await refuse("defaults", "This is not valid JSON.")
            }
            guard case .object(let object) = parsed else {
                return try await refuse("defaults", "The defaults must be a JSON object, like {\"num_ctx\": 8192}.")
            }
            defaults = object
        }
        if defaults != current.defaults { change.defaults = .some(defaults) }
        if submitted.reasoningFormat != current.values.reasoningFormat.rawValue { change.reasoningFormat = .some(submitted.reasoningFormat) }
        let warnings: [String]
        do {
            warnings = try await runtimeSettings.apply(
                change, by: user.actor, from: context.remoteAddress, audit: store.auditLog, logger: context.logger
            ).warnings
        } catch let error as AdminAPIError where error.status == .badRequest {
            let field = ["ollama_url", "defaults", "reasoning_format"].first { error.message.contains("'\($0)'") || error.message.contains("\($0).") } ?? "form"
            return try await refuse(field, error.message)
        }
        guard warnings.isEmpty else {
            return try await renderSettings(
                user: user, warnings: warnings, notice: "The settings have been saved, with warnings.", context: context)
        }
        return ConsoleHTTP.redirect("/admin/settings?notice=settings-saved")
    }

    @Sendable func resetSetting(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let form = try await ConsoleForm.read(&request)
        var change = PersistedRuntimeSettings.Change()
        switch form["name"] {
        case "ollama_url": change.ollamaURL = .some(nil)
        case "defaults": change.defaults = .some(nil)
        case "reasoning_format": change.reasoningFormat = .some(nil)
        default: throw AdminAPIError.invalid("There is no setting '\((form["name"] ?? "").prefix(100))'.")
        }
        _ = try await runtimeSettings.apply(change, by: user.actor, from: context.remoteAddress, audit: store.auditLog, logger: context.logger)
        return ConsoleHTTP.redirect("/admin/settings?notice=settings-saved")
    }

    /// Tries the URL in the form (saved or not) and shows the answer on the settings page.
    @Sendable func testConnection(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let form = try await ConsoleForm.read(&request)
        let submitted = SettingsForm(form)
        let url: String
        do {
            url = try PersistedRuntimeSettings.validatedOllamaURL(.string(submitted.ollamaURL))
        } catch let error as AdminAPIError {
            return try await renderSettings(
                user: user, form: submitted, errors: ["ollama_url": error.message], status: .badRequest, context: context)
        }
        let clock = ContinuousClock()
        let start = clock.now
        let result: HTML
        do {
            let version = try await services.upstream.probeVersion(at: url)
            let elapsed = clock.now - start
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            result = "\(ConsoleLayout.badge("reachable", tone: "ok")) Ollama \(version) answered in \(ConsoleFormat.milliseconds(ms))."
        } catch {
            result = "\(ConsoleLayout.badge("unreachable", tone: "bad")) \((error as? GatewayError)?.message ?? "No answer.")"
        }
        return try await renderSettings(user: user, form: submitted, test: result, context: context)
    }

    // MARK: - Audit log

    @Sendable func auditPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let parameters = request.uri.queryParameters
        func value(_ name: String) -> String? {
            parameters.get(name).map { $0.trimmingCharacters(in: .whitespaces) }.flatMap { $0.isEmpty ? nil : $0 }
        }
        var query = AuditQuery()
        query.actor = value("actor")
        query.action = value("action")
        query.actorKind = value("actor_kind").flatMap(AuditActor.Kind.init(rawValue:))
        query.limit = 50
        var error: String?
        if let cursor = value("cursor") {
            if let parsed = AuditCursor(token: cursor) { query.after = parsed } else { error = "The page link is not valid; start from the first page." }
        }
        let page = try await store.auditLog.query(query)
        let rows = page.entries.map { entry -> HTML in
            let event = entry.event
            return """
                <tr><td>\(ConsoleFormat.time(event.occurredAt))</td><td>\(event.actor.name) <span class="muted">(\(event.actor.kind.rawValue))</span></td>\
                <td><code>\(event.action)</code></td><td>\(event.target ?? "–")</td>\
                <td class="details"><code>\(event.details.map(Self.compactJSON) ?? "")</code></td><td>\(event.clientAddress ?? "–")</td></tr>
                """
        }
        let items: [(String, String?)] = [("actor", query.actor), ("action", query.action), ("actor_kind", query.actorKind?.rawValue)]
        let next: HTML = page.next.map { cursor -> HTML in
            "<a class=\"button\" href=\"\(ConsoleURL.with("/admin/audit", items + [("cursor", cursor.token)]))\">Older entries →</a>"
        } ?? .empty
        return ConsoleLayout.page(
            "Audit log", section: .audit, user: user,
            """
            <form method="get" action="/admin/audit" class="filters">
            \(ConsoleLayout.field("actor", label: "Who", value: query.actor))
            \(ConsoleLayout.field("action", label: "Action", value: query.action, hint: "e.g. key.create, login.failure"))
            \(ConsoleLayout.select("actor_kind", label: "Kind", options: [(value: "", label: "Any"), (value: "account", label: "account"), (value: "token", label: "token"), (value: "system", label: "system")], selected: query.actorKind?.rawValue))
            <div class="actions"><button type="submit" class="primary">Filter</button> <a href="/admin/audit">Reset</a></div>
            </form>
            \(ConsoleLayout.errorSummary(error))
            \(ConsoleLayout.table(caption: "Audit log, newest first", headers: ["When", "Who", "Action", "Target", "Details", "From"], rows: rows, empty: "Nothing recorded yet."))
            <p class="pager">\(next)</p>
            """)
    }
}
