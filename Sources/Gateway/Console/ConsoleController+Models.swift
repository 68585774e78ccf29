import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird
import AsyncHTTPClient
import NIOCore

extension ConsoleController {
    func addModelRoutes(to group: RouterGroup<Context>) {
        group.get("models", use: modelsPage)
        group.post("models/refresh", use: refreshModels)
        // The model is a query parameter: Ollama's names hold `/` and `:`.
        group.get("models/edit", use: modelPage)
        group.post("models/edit", use: updateModel)
        // Pulling and deleting models in Ollama: only with ALLOW_MODEL_MANAGEMENT=true.
        group.post("models/pull", use: pullModel)
        group.get("models/delete", use: deletePage)
        group.post("models/delete", use: deleteModel)
    }

    var modelManagement: Bool { services.configuration.allowModelManagement }

    static let managementDisabled = ConsoleRefusal(
        status: .forbidden, title: "Model management is off",
        message: "Pulling and deleting models through the gateway is disabled; start it with ALLOW_MODEL_MANAGEMENT=true to allow it.")

    /// Pulls a model into Ollama, streaming Ollama's progress lines (NDJSON) to the page, whose script
    /// draws them as a progress bar; then reads the model list again. Audited when it starts.
    @Sendable func pullModel(_ request: Request, context: Context) async throws -> Response {
        guard modelManagement else { throw Self.managementDisabled }
        var request = request
        let user = try ConsoleUser(context)
        let form = try await ConsoleForm.read(&request)
        guard let name = form.text("name"), name.count <= 300, !name.contains(where: \.isWhitespace) else {
            throw ConsoleFieldError(field: "name", message: "Name the model to pull, such as llama3.2 or qwen3:8b.")
        }
        try await store.auditLog.insert(AuditEvent(
            actor: user.actor, action: "model.pull", target: name, details: Self.backendDetail(form), clientAddress: context.remoteAddress,
            occurredAt: Date()))
        let body = ByteBuffer(string: Self.compactJSON(.object(["model": .string(name), "stream": .bool(true)])))
        let targets = try services.upstream.managementTargets(named: form.text("backend"))
        let registry = services.models
        let logger = context.logger
        // Each chosen backend's progress in turn, as the native /api/pull relays it.
        return try await OllamaNativeController.relayManagement(to: targets, .POST, "/api/pull", body: body) {
            do {
                try await registry.refresh()
            } catch {
                logger.notice("model list not refreshed after a pull", metadata: ["error": "\(error)"])
            }
        }
    }

    /// The backend a pull or delete was limited to, for the audit log.
    static func backendDetail(_ form: ConsoleForm) -> JSONValue? {
        form.text("backend").map { .object(["backend": .string($0)]) }
    }

    /// With several backends: which one a pull or a delete applies to (every enabled one by default).
    func backendChoice(_ label: String) -> HTML {
        let names = services.backends.backends.filter(\.enabled).map(\.name)
        guard names.count > 1 else { return .empty }
        return ConsoleLayout.select(
            "backend", label: label, options: [("", "Every enabled backend")] + names.map { ($0, $0) }, selected: "")
    }

    @Sendable func deletePage(_ request: Request, context: Context) async throws -> Response {
        guard modelManagement else { throw Self.managementDisabled }
        let user = try ConsoleUser(context)
        let (name, entry) = try await modelEntry(request)
        guard entry?.info.available == true else { throw AdminAPIError.notFound("Ollama has no model '\(name)'.") }
        return ConsoleLayout.confirmation(
            "Delete \(name)?", section: .models, user: user,
            message: "Ollama deletes the model's files; requests for it fail until it is pulled again. Its settings here stay.",
            action: ConsoleURL.with("/admin/models/delete", [("name", name)]), button: "Delete the model",
            cancel: ConsoleURL.model(name), fields: backendChoice("Delete it from"))
    }

    @Sendable func deleteModel(_ request: Request, context: Context) async throws -> Response {
        guard modelManagement else { throw Self.managementDisabled }
        let user = try ConsoleUser(context)
        let (name, entry) = try await modelEntry(request)
        guard entry?.info.available == true else { throw AdminAPIError.notFound("Ollama has no model '\(name)'.") }
        var request = request
        let form = try await ConsoleForm.read(&request)
        let body = ByteBuffer(string: Self.compactJSON(.object(["model": .string(name)])))
        let targets = try services.upstream.managementTargets(named: form.text("backend"))
        _ = try await OllamaNativeController.relayManagement(to: targets, .DELETE, "/api/delete", body: body)
        try await store.auditLog.insert(AuditEvent(
            actor: user.actor, action: "model.delete", target: name, details: Self.backendDetail(form), clientAddress: context.remoteAddress,
            occurredAt: Date()))
        try? await services.models.refresh()
        return ConsoleHTTP.redirect("/admin/models?notice=model-deleted")
    }

    @Sendable func modelsPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let entries = await services.models.entries()
        let rows = entries.map { entry -> HTML in
            let info = entry.info
            let settings = entry.settings
            let state: HTML = !info.available
                ? ConsoleLayout.badge("not in Ollama", tone: "bad")
                : settings.enabled ? ConsoleLayout.badge("enabled", tone: "ok") : ConsoleLayout.badge("disabled", tone: "warn")
            return """
                <tr><th scope="row"><a href="\(ConsoleURL.model(info.name))">\(info.name)</a></th>\
                <td>\(settings.displayName ?? "–")</td>\
                <td>\(settings.aliases.isEmpty ? "–" : settings.aliases.joined(separator: ", "))</td>\
                <td>\(info.capabilities.map(\.rawValue).sorted().joined(separator: ", "))</td>\
                <td class="num">\(info.contextLength.map(ConsoleFormat.number) ?? "–")</td>\
                <td class="num">\(ConsoleFormat.bytes(info.size))</td>\
                <td>\(info.quantization ?? "–")</td>\
                <td>\(state)</td></tr>
                """
        }
        return ConsoleLayout.page(
            "Models", section: .models, user: user, notice: Self.notice(request),
            """
            <form method="post" action="/admin/models/refresh" class="toolbar">\(ConsoleLayout.csrfField(user))\
            <button type="submit">Refresh from Ollama</button></form>
            \(modelManagement ? pullForm(user) : HTML.empty)
            \(ConsoleLayout.table(
                caption: "Models", headers: ["Name", "Display name", "Aliases", "Capabilities", "Context", "Size", "Quantization", "State"],
                rows: rows, empty: "No models yet: Ollama was not reachable, or has none. Refresh once it is."))
            """)
    }

    func pullForm(_ user: ConsoleUser) -> HTML {
        """
        <section class="card" aria-labelledby="pull-title"><h2 id="pull-title">Pull a model into Ollama</h2>
        <form method="post" action="/admin/models/pull" id="pull-form" class="pull">
        \(ConsoleLayout.csrfField(user))
        \(ConsoleLayout.field("name", label: "Model", hint: "A name from the Ollama library, such as llama3.2 or qwen3:8b.", required: true))
        \(backendChoice("Pull it into"))
        <div class="actions"><button type="submit" class="primary">Pull</button></div>
        </form>
        <div id="pull-progress" class="pull-progress" hidden>
        <progress id="pull-bar" max="100" value="0" aria-label="Download progress"></progress>
        <p id="pull-status" role="status" aria-live="polite"></p>
        </div>
        </section>
        """
    }

    @Sendable func refreshModels(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        _ = try await models.refresh(by: user.actor, from: context.remoteAddress, logger: context.logger)
        return ConsoleHTTP.redirect("/admin/models?notice=models-refreshed")
    }

    func modelEntry(_ request: Request) async throws -> (name: String, entry: ModelEntry?) {
        guard let requested = request.uri.queryParameters.get("name"), !requested.isEmpty, requested.count <= 300 else {
            throw AdminAPIError.invalid("The page needs a model name (?name=…).")
        }
        let name = await models.registryName(requested)
        return (name, await services.models.entries().first { $0.info.name == name })
    }

    @Sendable func modelPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let (name, entry) = try await modelEntry(request)
        guard let entry else { throw AdminAPIError.notFound("There is no model '\(name)'; refresh the list from Ollama.") }
        return try await renderModel(user: user, entry: entry, notice: Self.notice(request), context: context)
    }

    struct ModelForm {
        var displayName = ""
        var aliases = ""
        var enabled = true
        var overrides = "{}"
    }

    func renderModel(
        user: ConsoleUser, entry: ModelEntry, form: ModelForm? = nil, errors: [String: String] = [:], warnings: [String] = [],
        notice: HTML? = nil, status: HTTPResponse.Status = .ok, context: Context
    ) async throws -> Response {
        let settings = entry.settings
        let form = form ?? ModelForm(
            displayName: settings.displayName ?? "", aliases: settings.aliases.joined(separator: ", "), enabled: settings.enabled,
            overrides: Self.prettyJSON(.object(settings.overrides)))
        let defaults = try await runtimeSettings.reload(logger: context.logger).defaults
        let names = Set(defaults.keys).union(settings.overrides.keys).sorted()
        let effective = names.map { name -> HTML in
            let (value, source) = settings.overrides[name].map { ($0, "model override") } ?? (defaults[name] ?? .null, "gateway default")
            return "<tr><th scope=\"row\"><code>\(name)</code></th><td><code>\(Self.compactJSON(value))</code></td><td>\(source)</td></tr>"
        }
        let info = entry.info
        let path = ConsoleURL.model(info.name)
        return ConsoleLayout.page(
            "Model \(info.name)", section: .models, user: user, notice: notice, status: status,
            """
            <dl class="facts">
            <dt>Available</dt><dd>\(info.available ? "yes" : "no (Ollama does not have it)")</dd>
            <dt>Family</dt><dd>\(info.family ?? "–")</dd>
            <dt>Parameters</dt><dd>\(info.parameterSize ?? "–")</dd>
            <dt>Quantization</dt><dd>\(info.quantization ?? "–")</dd>
            <dt>Context</dt><dd>\(info.contextLength.map(ConsoleFormat.number) ?? "–")</dd>
            <dt>Size</dt><dd>\(ConsoleFormat.bytes(info.size))</dd>
            <dt>Public names</dt><dd>\(entry.publicNames.joined(separator: ", "))</dd>
            </dl>
            <div class="columns">
            <section class="card" aria-labelledby="model-settings"><h2 id="model-settings">Settings</h2>
            \(ConsoleLayout.errorSummary(errors["form"]))
            <form method="post" action="\(path)" class="stack">
            \(ConsoleLayout.csrfField(user))
            \(ConsoleLayout.field("display_name", label: "Display name", value: form.displayName, error: errors["display_name"], hint: "The name clients see and call; empty for Ollama's name.", extra: " maxlength=\"200\""))
            \(ConsoleLayout.field("aliases", label: "Aliases", value: form.aliases, error: errors["aliases"], hint: "Comma-separated further names clients may call the model by."))
            \(ConsoleLayout.checkbox("enabled", label: "Enabled (callable by clients)", checked: form.enabled))
            \(ConsoleLayout.textarea("overrides", label: "Parameter overrides (JSON, Ollama's format)", value: form.overrides, error: errors["overrides"], hint: "Applied unless the request sets them, e.g. {\"num_ctx\": 8192, \"think\": true, \"options\": {\"temperature\": 0.7}}.", warnings: warnings))
            <div class="actions"><button type="submit" class="primary">Save</button> <a href="/admin/models">Back to the models</a></div>
            </form>
            \(modelManagement && info.available ? "<div class=\"danger-zone\"><a class=\"button danger\" href=\"\(ConsoleURL.with("/admin/models/delete", [("name", info.name)]))\">Delete from Ollama…</a></div>" as HTML : HTML.empty)
            </section>
            <section class="card" aria-labelledby="effective"><h2 id="effective">Effective parameters</h2>
            <p class="hint">A request's own value wins; then the model override; then the gateway default (Settings).</p>
            \(ConsoleLayout.table(caption: "Effective parameters", headers: ["Parameter", "Value", "From"], rows: effective, empty: "No overrides or defaults: Ollama's own defaults apply."))
            </section>
            </div>
            """)
    }

    @Sendable func updateModel(_ request: Request, context: Context) async throws -> Response {
        var request = request
        let user = try ConsoleUser(context)
        let (name, found) = try await modelEntry(request)
        let entry = found ?? ModelEntry(info: ModelInfo(name: name, available: false), settings: ModelSettings())
        let form = try await ConsoleForm.read(&request)
        let submitted = ModelForm(
            displayName: form["display_name"] ?? "", aliases: form["aliases"] ?? "", enabled: form["enabled"] == "on",
            overrides: form["overrides"] ?? "")
        func refuse(_ field: String, _ message: String) async throws -> Response {
            try await renderModel(
                user: user, entry: entry, form: submitted, errors: [field: message], status: .badRequest, context: context)
        }
        let overridesText = submitted.overrides.trimmingCharacters(in: .whitespacesAndNewlines)
        var overrides: [String: JSONValue] = [:]
        if !overridesText.isEmpty {
            let parsed: JSONValue
            do {
                parsed = try JSONDecoder().decode(JSONValue.self, from: Data(overridesText.utf8))
            } catch {
                return try await refuse("overrides", "This is not valid JSON: \(Self.jsonProblem(error))")
            }
            guard case .object(let object) = parsed else {
                return try await refuse("overrides", "The overrides must be a JSON object, like {\"num_ctx\": 8192}.")
            }
            overrides = object
        }
        let aliases = submitted.aliases.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        let displayName = submitted.displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        let settings = ModelSettings(
            displayName: displayName.isEmpty ? nil : displayName, aliases: aliases, enabled: submitted.enabled, overrides: overrides)
        let saved: (entry: ModelEntry, warnings: [String])
        do {
            saved = try await models.update(settings, requested: name, by: user.actor, from: context.remoteAddress)
        } catch let error as GatewayError where error.kind == .invalidRequest {
            let field = error.param?.hasPrefix("overrides") == true ? "overrides" : error.param == "aliases" ? "aliases" : "form"
            return try await refuse(field, error.message)
        } catch let error as AdminAPIError where error.status == .badRequest || error.status == .conflict {
            let field = error.message.contains("'display_name'") ? "display_name" : error.message.contains("'aliases'") ? "aliases" : "form"
            return try await refuse(field, error.message)
        }
        guard saved.warnings.isEmpty else {
            // Saved, but the unknown names deserve a look: the page stays, with the warnings beside the field.
            return try await renderModel(
                user: user, entry: saved.entry, warnings: saved.warnings,
                notice: "The model settings have been saved, with warnings.", context: context)
        }
        return ConsoleHTTP.redirect(ConsoleURL.model(saved.entry.info.name) + "&notice=model-saved")
    }

    static func prettyJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
    }

    static func compactJSON(_ value: JSONValue) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "null"
    }

    /// Where a JSON text went wrong, in words.
    static func jsonProblem(_ error: any Error) -> String {
        guard case DecodingError.dataCorrupted(let context) = error else { return "it cannot be read." }
        return context.underlyingError.map { String(describing: $0) } ?? context.debugDescription
    }
}
