import Foundation
import GatewayAPI
import Testing

@testable import Gateway

/// The gateway's side of the one table of Ollama options: every name it knows is checked by its kind,
/// and the top-level names of an OpenAI body are the table's.
@Suite("Ollama option table (gateway)")
struct OllamaOptionTableTests {
    /// A value of the option's kind, and one of another kind.
    static func values(for kind: OllamaOption.Kind) -> (right: JSONValue, wrong: JSONValue) {
        switch kind {
        case .integer: (.int(8), .string("eight"))
        case .float: (.double(0.5), .string("half"))
        case .bool: (.bool(true), .string("yes"))
        case .stringArray: (.array([.string("END")]), .int(3))
        }
    }

    @Test("a known option is checked by its kind", arguments: OllamaOption.all.filter { $0.support != .ollamaOnly })
    func knownOptionIsChecked(option: OllamaOption) throws {
        let (right, wrong) = Self.values(for: option.kind)
        let layer = try ParameterLayer(ollamaStyle: ["options": .object([option.name: right])])
        #expect(layer.options[option.name] == right)
        #expect(throws: GatewayError.self) { try ParameterLayer(ollamaStyle: [option.name: wrong]) }
        do throws(GatewayError) {
            _ = try ParameterLayer(ollamaStyle: ["options": .object([option.name: wrong])])
            Issue.record("\(option.name): \(wrong) was accepted")
        } catch {
            #expect(error.param == "options.\(option.name)")
        }
    }

    @Test func anOptionOnlyOllamaReadsIsForwardedUnchecked() throws {
        let names = OllamaOption.all.filter { $0.support == .ollamaOnly }.map(\.name)
        #expect(!names.isEmpty)
        for name in names {
            let layer = try ParameterLayer(ollamaStyle: [name: .string("any")])
            #expect(layer.options[name] == .string("any"))
        }
    }

    @Test func rangesComeFromTheTable() throws {
        #expect(throws: GatewayError.self) { try ParameterLayer(ollamaStyle: ["num_ctx": .int(0)]) }
        #expect(throws: GatewayError.self) { try ParameterLayer(ollamaStyle: ["num_predict": .int(-3)]) }
        let huge = try ParameterLayer(ollamaStyle: ["num_predict": .int(Int.max)])
        #expect(huge.options["num_predict"] == .int(OllamaOption.maxTokens))
    }

    @Test func topLevelNamesOfAnOpenAIBodyAreTheTables() throws {
        let json = #"{"model":"m","messages":[],"mirostat":1,"num_ctx":4096,"raw":true,"draft_num_predict":2,"nonsense":1}"#
        let request = try JSONDecoder().decode(ChatCompletionRequest.self, from: Data(json.utf8))
        #expect(Set(request.ollamaControls.keys) == ["mirostat", "num_ctx", "raw"])
    }
}
