import Foundation
import GatewayAPI
import GatewayStore
import HTTPTypes
import Hummingbird

extension ConsoleController {
    func addPlaygroundRoutes(to group: RouterGroup<Context>) {
        group.get("playground", use: playgroundPage)
        group.post("playground/chat", use: playgroundChat)
    }

    @Sendable func playgroundPage(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        let callable = await services.models.entries().filter(\.isCallable)
        let options = callable.flatMap { entry in entry.publicNames.prefix(1).map { (value: $0, label: $0) } }
        return ConsoleLayout.page(
            "Playground", section: .playground, user: user,
            """
            <p class="hint">Try a model through the gateway's own OpenAI translation. Requests are accounted in the usage \
            log without an API key.</p>
            \(options.isEmpty ? "<p class=\"empty\">No callable model: refresh the models once Ollama is reachable.</p>" as HTML : HTML.empty)
            <form id="playground" class="stack card" method="post" action="/admin/playground/chat">
            \(ConsoleLayout.select("model", label: "Model", options: options, selected: nil))
            \(ConsoleLayout.textarea("system", label: "System message", value: "", rows: 2))
            \(ConsoleLayout.textarea("prompt", label: "Your message", value: "", rows: 4))
            <div class="actions"><button type="submit" class="primary">Send</button></div>
            </form>
            <section class="card" aria-labelledby="answer-title"><h2 id="answer-title">Answer</h2>
            <details id="reasoning-box" hidden><summary>Reasoning</summary><pre id="reasoning" class="reasoning"></pre></details>
            <pre id="answer" class="answer" aria-live="polite"></pre>
            <p id="answer-stats" class="muted" role="status"></p>
            </section>
            """)
    }

    /// A chat request of the playground: the body is an OpenAI chat request, answered by the same
    /// controller as `/v1/chat/completions` (the same translation, errors in the OpenAI format), and
    /// accounted in usage without a key, under this route. The browser holds no API key: whatever
    /// credential the request carries is removed, the session is what authorised it.
    @Sendable func playgroundChat(_ request: Request, context: Context) async throws -> Response {
        let user = try ConsoleUser(context)
        var head = request.head
        head.headerFields[.authorization] = nil
        head.headerFields[HTTPField.Name("x-api-key")!] = nil
        head.headerFields[.userAgent] = "ollama-gateway console (\(user.account.username))"
        let request = Request(head: head, body: request.body)
        let access = APIAccess(
            authenticator: services.access.authenticator, limiter: services.access.limiter, sink: services.access.sink,
            requireKey: false)
        var api = APIRouteServices(services)
        api.access = access
        let openAI = OpenAIController(api)
        return try await APIErrorMiddleware<Context>(renderer: openAI.renderer).handle(request, context: context) {
            request, context in
            try await APIAccessMiddleware(access: access).handle(request, context: context, next: openAI.chatCompletions)
        }
    }
}
