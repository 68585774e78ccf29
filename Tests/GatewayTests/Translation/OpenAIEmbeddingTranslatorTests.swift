import Foundation
import GatewayAPI
import Testing

@testable import Gateway

@Suite("OpenAI embeddings ↔ Ollama /api/embed")
struct OpenAIEmbeddingTranslatorTests {
    static let fixtureNames = (try? Fixtures.names(in: "openai-embeddings", suffix: ".request.json")) ?? []

    func decode(_ json: String) throws -> EmbeddingRequest {
        try JSONDecoder().decode(EmbeddingRequest.self, from: Data(json.utf8))
    }

    func translate(
        _ json: String, capabilities: Set<ModelCapability>? = nil, defaults: ParameterLayer = .init(),
        overrides: ParameterLayer = .init()
    ) throws -> UpstreamEmbedPlan {
        let request = try decode(json)
        return try OpenAIEmbeddingRequestTranslator.translate(
            request,
            model: ResolvedModel(
                requestedName: request.model, upstreamName: request.model, overrides: overrides, capabilities: capabilities),
            defaults: defaults)
    }

    @Test("golden fixture: request → Ollama request → OpenAI response", arguments: fixtureNames)
    func golden(name: String) throws {
        let request = try JSONDecoder().decode(
            EmbeddingRequest.self, from: Fixtures.data("openai-embeddings/\(name).request.json"))
        let plan = try OpenAIEmbeddingRequestTranslator.translate(
            request, model: ResolvedModel(requestedName: request.model, upstreamName: request.model), defaults: .init())
        #expect(try jsonTree(plan.request) == Fixtures.json("openai-embeddings/\(name).ollama.json"))

        let answer = try JSONDecoder().decode(
            OllamaEmbedResponse.self, from: Fixtures.data("openai-embeddings/\(name).answer.json"))
        let response = OpenAIEmbeddingResponseTranslator.response(
            from: answer, model: request.model, format: plan.encodingFormat)
        #expect(try jsonTree(response) == Fixtures.json("openai-embeddings/\(name).response.json"))
    }

    @Test func fixturesArePresent() {
        #expect(Self.fixtureNames.count >= 3)
    }

    @Test func base64IsLittleEndianFloat32Bytes() throws {
        let values: [Double] = [1, -2, 0.5, 0.1, -0.33333334, 3.4028235e38, 1e-45, 0]
        let encoded = OpenAIEmbeddingResponseTranslator.base64Float32(values)
        let bytes = try #require(Data(base64Encoded: encoded))
        #expect(bytes.count == values.count * 4)
        // 1.0f is 0x3F800000: little-endian puts its low byte first.
        #expect(Array(bytes.prefix(4)) == [0x00, 0x00, 0x80, 0x3F])
        for (index, value) in values.enumerated() {
            let slice = bytes[bytes.startIndex + index * 4..<bytes.startIndex + index * 4 + 4]
            let bits = slice.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(bits == Float(value).bitPattern, "value \(index)")
        }
    }

    @Test func base64AndFloatCarryTheSameValues() throws {
        let answer = OllamaEmbedResponse(model: "m", embeddings: [[0.0123, -0.456, 0.789]], promptEvalCount: 3)
        let floats = OpenAIEmbeddingResponseTranslator.response(from: answer, model: "m", format: .float)
        let base64 = OpenAIEmbeddingResponseTranslator.response(from: answer, model: "m", format: .base64)
        guard case .floats(let numbers) = floats.data[0].embedding, case .base64(let text) = base64.data[0].embedding else {
            Issue.record("wrong encodings")
            return
        }
        let bytes = try #require(Data(base64Encoded: text))
        let decoded = stride(from: 0, to: bytes.count, by: 4).map { offset in
            Float(bitPattern: bytes[offset..<offset + 4].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
        }
        #expect(decoded == numbers.map { Float($0) })
        #expect(floats.usage == EmbeddingUsage(promptTokens: 3))
    }

    @Test func singleAndBatchInputGoInOneRequest() throws {
        #expect(try translate(#"{"model":"m","input":"one"}"#).request.input == .single("one"))
        #expect(try translate(#"{"model":"m","input":["a","b","c"]}"#).request.input == .batch(["a", "b", "c"]))
    }

    @Test func overridesAndDefaultsApply() throws {
        let defaults = try ParameterLayer(ollamaStyle: ["keep_alive": "5m", "truncate": true, "num_ctx": 2048])
        let overrides = try ParameterLayer(ollamaStyle: ["num_ctx": 512, "keep_alive": "1h"])
        let plan = try translate(#"{"model":"m","input":"x","keep_alive":"30s"}"#, defaults: defaults, overrides: overrides)
        #expect(plan.request.keepAlive == .string("30s"))
        #expect(plan.request.truncate == true)
        #expect(plan.request.options?["num_ctx"] == .int(512))
    }

    @Test func chatOnlyModelIsRefusedBeforeOllama() throws {
        #expect(throws: GatewayError.invalid("The model 'sim-chat' does not support embeddings.", param: "model")) {
            try translate(#"{"model":"sim-chat","input":"x"}"#, capabilities: [.completion, .tools])
        }
        // Known to embed, or not known at all: Ollama decides.
        _ = try translate(#"{"model":"sim-embed","input":"x"}"#, capabilities: [.embedding])
        _ = try translate(#"{"model":"anything","input":"x"}"#, capabilities: nil)
    }

    /// Each invalid request: the body's fields, the `param` the 400 must name.
    @Test("client mistakes are 400s naming the field", arguments: [
        (#""input":[1,2,3]"#, "input"),
        (#""input":[[1,2],[3]]"#, "input"),
        (#""input":"""#, "input"),
        (#""input":[]"#, "input"),
        (#""input":["a",""]"#, "input"),
        (#""input":"x","dimensions":0"#, "dimensions"),
        (#""input":"x","encoding_format":"int8""#, "encoding_format"),
        (#""input":"x","num_ctx":"big""#, "num_ctx"),
    ])
    func clientMistakes(fields: String, param: String) throws {
        let error = try #require(throws: GatewayError.self) { try translate(#"{"model":"m",\#(fields)}"#) }
        #expect(error.kind == .invalidRequest)
        #expect(error.param == param)
    }

    @Test("malformed input is a decoding error naming input", arguments: [#"{"a":1}"#, "42", #"["a",1]"#, "null"])
    func malformedInput(input: String) throws {
        let error = try #require(throws: DecodingError.self) { try decode(#"{"model":"m","input":\#(input)}"#) }
        #expect(GatewayError.decoding(error).param == "input")
    }
}
