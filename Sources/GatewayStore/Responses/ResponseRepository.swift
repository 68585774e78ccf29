import Foundation
import GatewayAPI
import SQLKit

/// One stored response of the Responses API.
public struct StoredResponse: Sendable, Hashable {
    /// The API key's id that made it; '' when keys are not required.
    public var owner: String
    /// The response as it was returned (its id, `previous_response_id`, output, usage…).
    public var response: ResponseObject
    /// The items the request gave in `input` (each with an id), without the earlier turns.
    public var inputItems: [ResponseItem]

    public init(owner: String, response: ResponseObject, inputItems: [ResponseItem]) {
        self.owner = owner
        self.response = response
        self.inputItems = inputItems
    }

    public var id: String { response.id }
}

/// Stored responses, each readable only by the key that made it. A conversation is a chain of
/// responses linked by `previous_response_id`; the chain is read in one recursive query.
public struct ResponseRepository: Sendable {
    let database: GatewayDatabase
    var sql: any SQLDatabase { database.sql }

    /// The longest chain `conversation(endingAt:)` follows: a loop or an endless chain cannot make
    /// one request read without bound.
    public static let maxConversationLength = 10_000

    public init(database: GatewayDatabase) {
        self.database = database
    }

    /// Inserts or replaces a response.
    public func save(_ stored: StoredResponse) async throws {
        let inputText = try JSONText.encode(stored.inputItems)
        let responseText = try JSONText.encode(stored.response)
        let response = stored.response
        try await sql.raw(
            """
            INSERT INTO responses (id, owner, previous_response_id, model, status, created_at, input_items, response)
            VALUES (
                \(bind: response.id), \(bind: stored.owner), \(bind: response.previousResponseID), \(bind: response.model),
                \(bind: response.status), \(bind: Int64(response.createdAt) * 1000), \(bind: inputText), \(bind: responseText)
            )
            ON CONFLICT (id) DO UPDATE SET
                status = excluded.status, input_items = excluded.input_items, response = excluded.response
            """
        ).run()
    }

    public func get(id: String, owner: String) async throws -> StoredResponse? {
        try await sql.raw(
            "SELECT owner, input_items, response FROM responses WHERE id = \(bind: id) AND owner = \(bind: owner)"
        ).all().first.map(Self.stored(from:))
    }

    /// The responses of a conversation up to and including `id`, oldest first; nil when `id` is not
    /// one of the owner's. A link to a response deleted since ends the chain there.
    public func conversation(endingAt id: String, owner: String) async throws -> [StoredResponse]? {
        let rows = try await sql.raw(
            """
            WITH RECURSIVE chain (id, previous_response_id, depth) AS (
                SELECT id, previous_response_id, 0 FROM responses WHERE id = \(bind: id) AND owner = \(bind: owner)
                UNION ALL
                SELECT r.id, r.previous_response_id, chain.depth + 1
                FROM responses r JOIN chain ON r.id = chain.previous_response_id
                WHERE r.owner = \(bind: owner) AND chain.depth < \(bind: Self.maxConversationLength)
            )
            SELECT r.owner, r.input_items, r.response FROM responses r JOIN chain ON r.id = chain.id
            ORDER BY chain.depth DESC
            """
        ).all()
        guard !rows.isEmpty else { return nil }
        return try rows.map(Self.stored(from:))
    }

    @discardableResult
    public func delete(id: String, owner: String) async throws -> Bool {
        try await !sql.raw(
            "DELETE FROM responses WHERE id = \(bind: id) AND owner = \(bind: owner) RETURNING id"
        ).all().isEmpty
    }

    /// Removes the responses created before `date`; returns how many.
    @discardableResult
    public func prune(before date: Date) async throws -> Int {
        try await sql.raw(
            "DELETE FROM responses WHERE created_at < \(bind: Timestamp.milliseconds(date)) RETURNING id"
        ).all().count
    }

    static func stored(from row: any SQLRow) throws -> StoredResponse {
        StoredResponse(
            owner: try row.string("owner"),
            response: try row.json("response", as: ResponseObject.self),
            inputItems: try row.json("input_items", as: [ResponseItem].self))
    }
}
