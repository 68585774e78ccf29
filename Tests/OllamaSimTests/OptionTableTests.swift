import GatewayAPI
import Testing

@testable import OllamaSim

/// The simulator's side of the one table of Ollama options: it checks what today's Ollama reads, and
/// ignores what Ollama no longer reads, as Ollama does.
@Suite("Ollama option table (simulator)")
struct OptionTableTests {
    static let wrongKind: [OllamaOption.Kind: JSONValue] = [
        .integer: .string("eight"), .float: .string("half"), .bool: .string("yes"), .stringArray: .string("END"),
    ]

    @Test("an option Ollama reads refuses the wrong kind with a 500", arguments: OllamaOption.all)
    func optionKinds(option: OllamaOption) throws {
        let wrong = try #require(Self.wrongKind[option.kind])
        if option.support == .retired {
            _ = try RequestOptions.parse([option.name: wrong])
        } else {
            do throws(OllamaAPIError) {
                _ = try RequestOptions.parse([option.name: wrong])
                Issue.record("\(option.name): \(wrong) was accepted")
            } catch {
                #expect(error.status == .internalServerError)
                #expect(error.message.hasPrefix("option \"\(option.name)\" must be of "))
            }
        }
    }
}
