import GatewayAPI
import HTTPTypes

/// What routing needs to know of the API request being served: bound by the access middleware for
/// the handler, and again for a stream's body (written after the handler returned), so that the
/// upstream client finds it wherever the route calls Ollama from.
struct RequestRouting: Sendable {
    @TaskLocal static var current: RequestRouting?

    /// The header that names a conversation: its requests go to the same backend while it is
    /// available, because its prompt cache lives there (see docs/backends.md).
    static let sessionHeader = HTTPField.Name("X-Session-Id")!
    /// The query parameter of the native model management routes that names one backend.
    static let backendParameter = "backend"

    /// The client's session id, when it sent one.
    var sessionID: String?
    /// The backend the client named, on routes that address one.
    var backend: String?
    /// The request's accounting: it learns the serving backend, and frees its in-flight count at the end.
    var ticket: RequestTicket?

    init(sessionID: String? = nil, backend: String? = nil, ticket: RequestTicket? = nil) {
        self.sessionID = sessionID.flatMap { $0.isEmpty ? nil : String($0.prefix(256)) }
        self.backend = backend
        self.ticket = ticket
    }

    init(headers: HTTPFields, ticket: RequestTicket?) {
        self.init(sessionID: headers[Self.sessionHeader], ticket: ticket)
    }

    /// The session a request belongs to, hashed: the client's id, else the conversation's start.
    static func session(explicit: String?, conversationStart: () -> UInt64?) -> UInt64? {
        if let explicit { return StableHash.mix(StableHash.of(explicit)) }
        return conversationStart()
    }
}

extension RequestRouting {
    /// The conversation's start of a native request body (as it goes to Ollama): chat messages, or a
    /// generate request's system prompt and prompt.
    static func conversationStart(of body: [String: JSONValue]) -> UInt64? {
        let model = body["model"]?.stringValue ?? ""
        if let messages = body["messages"]?.arrayValue {
            func first(_ role: String) -> String? {
                messages.first { $0["role"]?.stringValue == role }.map { $0["content"]?.stringValue ?? "" }
            }
            guard let user = first("user") else { return nil }
            return conversationHash(model: model, system: first("system"), start: user.utf8)
        }
        guard let prompt = body["prompt"]?.stringValue, !prompt.isEmpty else { return nil }
        return conversationHash(model: model, system: body["system"]?.stringValue, start: prompt.utf8.prefix(512))
    }

    /// One hash for a conversation's model, system prompt and first user input, whichever API it came by.
    static func conversationHash(model: String, system: String?, start: some Sequence<UInt8>) -> UInt64 {
        var hash = StableHash.of(model)
        if let system { hash = StableHash.of(system, into: hash ^ 0x53) }
        hash = StableHash.of(bytes: start, into: hash ^ 0x55)
        return StableHash.mix(hash)
    }
}

extension OllamaChatRequest {
    /// A conversation is known by its model, its first system message and its first user message:
    /// what every later request of the same conversation repeats unchanged.
    var conversationStart: UInt64? {
        guard let firstUser = messages.first(where: { $0.role == "user" }) else { return nil }
        return RequestRouting.conversationHash(
            model: model, system: messages.first { $0.role == "system" }?.content, start: firstUser.content.utf8)
    }
}

extension OllamaGenerateRequest {
    /// A raw prompt grows at its end as its conversation goes on: its beginning (and the system
    /// prompt) names the conversation.
    var conversationStart: UInt64? {
        guard let prompt, !prompt.isEmpty else { return nil }
        return RequestRouting.conversationHash(model: model, system: system, start: prompt.utf8.prefix(512))
    }
}
