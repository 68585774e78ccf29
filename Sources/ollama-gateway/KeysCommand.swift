import ArgumentParser
import Foundation
import Gateway
import GatewayStore

/// `ollama-gateway keys …`: API keys on the gateway's database, with or without the server running.
struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Create, list, rotate and revoke API keys.",
        subcommands: [Create.self, List.self, Rotate.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key and print it (alone, on the last line); it is shown only this once.")

        @Option(help: "A name to recognise the key by.")
        var name: String

        @Option(help: "Comma-separated models or patterns (llama*) the key may use; default: all.")
        var models: String?

        @Option(help: "Requests per minute.")
        var rpm: Int?

        @Option(help: "Tokens per minute.")
        var tpm: Int?

        @Option(help: "Total tokens over the key's life.")
        var quota: Int?

        @Option(name: .customLong("max-concurrent"), help: "Requests in flight at once.")
        var maxConcurrent: Int?

        @Option(help: "Lifetime such as 30d, 12h, 2w, or an RFC 3339 time; default: never expires.")
        var expires: String?

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let now = Date()
            var settings = APIKeySettings(name: name)
            settings.allowedModels = models.map { $0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) } } ?? []
            settings.limits = APIKeyLimits(
                requestsPerMinute: rpm, tokensPerMinute: tpm, tokenQuota: quota, maxConcurrentRequests: maxConcurrent)
            if let expires {
                guard let date = LifetimeText.expiry(expires, now: now), date > now else {
                    throw ValidationError("--expires must be a lifetime such as 30d or a future RFC 3339 time, got '\(expires)'")
                }
                settings.expiresAt = date
            }
            let issued = try await store.withStore { store, _ in
                try await KeyAdministration(store: store).create(settings, by: commandLineActor, from: nil, now: now)
            }
            printSummary(of: issued.record, verb: "Created")
            printLine("The key is shown only now; store it safely:")
            printLine(issued.secret.value)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys (never their secrets).")

        @Flag(help: "Include revoked keys.")
        var all = false

        @Flag(help: "Print JSON instead of a table.")
        var json = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let records = try await store.withStore { store, _ in try await store.apiKeys.list(includeRevoked: all) }
            let now = Date()
            if json {
                let data = try AdminJSON.encoder().encode(records.map { AdminKeyView($0, now: now) })
                printLine(String(decoding: data, as: UTF8.self))
                return
            }
            let header = ["ID", "NAME", "PREFIX", "MODELS", "LIMITS", "STATUS", "LAST USED"]
            let rows = records.map { record in
                [
                    record.id, record.name, record.prefix,
                    record.allowedModels.isEmpty ? "all" : record.allowedModels.joined(separator: ","),
                    limitsText(record.limits), record.status(at: now).rawValue,
                    record.lastUsedAt.map(Timestamps.format) ?? "never",
                ]
            }
            printTable(header: header, rows: rows)
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue a new secret for a key (same id, limits and usage); the old one stops working at once.")

        @Argument(help: "The key's id (key_…).")
        var id: String

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let issued = try await store.withStore { store, _ in
                try await KeyAdministration(store: store).rotate(id: id, by: commandLineActor, from: nil)
            }
            printSummary(of: issued.record, verb: "Rotated")
            printLine("The new key is shown only now; store it safely:")
            printLine(issued.secret.value)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key for good (its history is kept).")

        @Argument(help: "The key's id (key_…).")
        var id: String

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let record = try await store.withStore { store, _ in
                try await KeyAdministration(store: store).revoke(id: id, by: commandLineActor, from: nil)
            }
            printLine("Revoked \(record.id) (\(record.name), \(record.prefix)…): status \(record.status().rawValue)")
        }
    }
}

func printSummary(of record: APIKeyRecord, verb: String) {
    printLine("\(verb) API key \(record.id) (\(record.name))")
    printLine("  prefix:  \(record.prefix)")
    printLine("  models:  \(record.allowedModels.isEmpty ? "all" : record.allowedModels.joined(separator: ", "))")
    printLine("  limits:  \(limitsText(record.limits))")
    printLine("  expires: \(record.expiresAt.map(Timestamps.format) ?? "never")")
}

func limitsText(_ limits: APIKeyLimits) -> String {
    let parts = [
        limits.requestsPerMinute.map { "rpm=\($0)" }, limits.tokensPerMinute.map { "tpm=\($0)" },
        limits.tokenQuota.map { "quota=\($0)" }, limits.maxConcurrentRequests.map { "concurrent=\($0)" },
    ].compactMap { $0 }
    return parts.isEmpty ? "none" : parts.joined(separator: " ")
}

func printTable(header: [String], rows: [[String]]) {
    let widths = header.indices.map { column in
        ([header[column]] + rows.map { $0[column] }).map(\.count).max() ?? 0
    }
    func line(_ cells: [String]) -> String {
        cells.enumerated().map { index, cell in
            index == cells.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }.joined(separator: "  ")
    }
    printLine(line(header))
    for row in rows { printLine(line(row)) }
    if rows.isEmpty { printLine("(no keys)") }
}
