import Foundation
import GatewayAPI
import OllamaSim
import Testing

@Suite("Errors as Ollama reports them")
struct ErrorTests {
    @Test func requestErrors() async throws {
        try await withSim { _, http in
            func expectError(_ path: String, _ body: String, _ status: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let response = try await http.post(path, body)
                #expect(response.status == status, "\(body)", sourceLocation: sourceLocation)
                #expect(response.errorMessage == message, "\(body)", sourceLocation: sourceLocation)
                #expect(response.contentType == "application/json; charset=utf-8", sourceLocation: sourceLocation)
            }
            try await expectError("/api/chat", "", 400, "missing request body")
            try await expectError("/api/generate", "", 400, "missing request body")
            try await expectError("/api/chat", #"{"messages":[]}"#, 400, "model is required")
            try await expectError("/api/generate", #"{"prompt":"x"}"#, 404, "model '' not found")
            try await expectError("/api/chat", #"{"model":"nope","messages":[]}"#, 404, "model 'nope' not found")
            try await expectError("/api/generate", #"{"model":"nope","prompt":"x"}"#, 404, "model 'nope' not found")
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"think":true}"#, 400, #""sim-chat" does not support thinking"#)
            try await expectError("/api/chat", #"{"model":"sim-think","messages":[],"think":"extreme"}"#, 400, #"invalid think value: "extreme" (must be "high", "medium", "low", "max", true, or false)"#)
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#, 400, "registry.ollama.ai/library/sim-chat:latest does not support tools")
            try await expectError("/api/chat", #"{"model":"sim-embed","messages":[{"role":"user","content":"x"}]}"#, 400, #""sim-embed" does not support chat"#)
            try await expectError("/api/generate", #"{"model":"sim-embed","prompt":"x"}"#, 400, #""sim-embed" does not support generate"#)
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"format":"yaml"}"#, 500, #"invalid format: "\"yaml\""; expected "json" or a valid JSON Schema object"#)
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"options":{"num_ctx":"abc"}}"#, 500, #"option "num_ctx" must be of type integer"#)
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"options":{"temperature":"hot"}}"#, 500, #"option "temperature" must be of type float32"#)
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"assistant","content":"","tool_calls":[{"function":{"name":"f","arguments":"{\"a\":1}"}}]}]}"#, 400, "Value looks like object, but can't find closing '}' symbol")
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":[{"type":"text","text":"x"}]}]}"#, 400, "json: cannot unmarshal array into Go struct field Message.messages.content of type string")
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[],"keep_alive":"soon"}"#, 400, #"time: invalid duration "soon""#)
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"x"}],"top_logprobs":21}"#, 400, "top_logprobs must be between 0 and 20")
            try await expectError("/api/generate", #"{"model":"sim-vision","prompt":"x","images":["abc$"]}"#, 400, "illegal base64 data at input byte 3")
            let long = String(repeating: "word ", count: 40)
            try await expectError("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"\#(long)"}],"options":{"num_ctx":16},"shift":false}"#, 400, "the prompt is longer than the context length currently available to the model; shorten the prompt, adjust the context length in settings, or use a model with a longer context length")
            try await expectError("/api/generate", #"{"model":"sim-chat","prompt":"\#(long)","options":{"num_ctx":16},"truncate":false}"#, 400, "the prompt is longer than the context length currently available to the model; shorten the prompt, adjust the context length in settings, or use a model with a longer context length")
            // Truncation (the default) answers anyway.
            let truncated = try await http.post("/api/chat", #"{"model":"sim-chat","messages":[{"role":"user","content":"\#(long)"}],"options":{"num_ctx":16},"stream":false}"#)
            #expect(truncated.status == 200)
            #expect(truncated.json?["prompt_eval_count"] == 15)
        }
    }

    @Test func namesAreNormalizedAndEchoedAsRequested() async throws {
        try await withSim { _, http in
            for name in ["sim-chat", "sim-chat:latest", "SIM-CHAT", "library/sim-chat", "registry.ollama.ai/library/sim-chat:latest"] {
                let response = try await http.post("/api/chat", json: ["model": .string(name), "messages": userMessages("x"), "stream": false])
                #expect(response.status == 200, "\(name)")
                #expect(response.json?["model"] == .string(name))
            }
            let otherTag = try await http.post("/api/chat", json: ["model": "sim-chat:7b", "messages": userMessages("x")])
            #expect(otherTag.status == 404)
        }
    }

    @Test func unknownOptionsAreIgnoredAndSeedTemperatureAccepted() async throws {
        try await withSim { _, http in
            let a = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("x"), "stream": false, "options": ["seed": 42, "temperature": 0.2, "whatever": "x"]])
            let b = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("x"), "stream": false, "options": ["seed": 7, "temperature": 1.5]])
            #expect(a.status == 200)
            #expect(a.json?["message"] == b.json?["message"])
        }
    }
}
