import Foundation
import GatewayAPI
import PropertyBased
import Testing

@testable import OllamaSim

/// Numbers no model can honour and shapes that cost more to decode than to send: the simulator runs
/// inside the gateway's demo process, so each must be an error answer, never a trap.
@Suite("Hostile input to the simulator")
struct HostileInputTests {
    static let chatPrefix = #"{"model":"sim-chat","stream":false,"messages":[{"role":"user","content":"Hi"}]"#

    @Test func outOfRangeKeepAliveIsRefusedNotTrapped() async throws {
        try await withSim { _, http in
            for keepAlive in ["1e19", "9223372037", "1.7976931348623157e308"] {
                let response = try await http.post("/api/chat", Self.chatPrefix + #","keep_alive":\#(keepAlive)}"#)
                #expect(response.status == 400, "\(keepAlive)")
                #expect(response.errorMessage?.contains("out of range") == true, "\(keepAlive)")
            }
            // 2^63 ns is one past what a Go duration holds: Go refuses it, and converting it would trap.
            let overflow = try await http.post("/api/chat", Self.chatPrefix + #","keep_alive":"9223372036854775808ns"}"#)
            #expect(overflow.status == 400)
            #expect(overflow.errorMessage == #"time: invalid duration "9223372036854775808ns""#)
            let largest = try await http.post("/api/chat", Self.chatPrefix + #","keep_alive":9223372036}"#)
            #expect(largest.status == 200)
            let forever = try await http.post("/api/chat", Self.chatPrefix + #","keep_alive":-1e300}"#)
            #expect(forever.status == 200)
        }
    }

    @Test func hugeAndNegativeOptionsAnswerAsOllama() async throws {
        try await withSim { _, http in
            // A generation length beyond Int is as unbounded as -1.
            for numPredict in ["9223372036854775807", "1e19", "-1e30", "-1", "-2"] {
                let response = try await http.post(
                    "/api/chat", Self.chatPrefix + #","options":{"num_predict":\#(numPredict)}}"#)
                #expect(response.status == 200, "\(numPredict): \(response.body)")
                #expect(response.json?["done_reason"] == "stop", "\(numPredict)")
            }
            // A context below 4 tokens is raised to 4, as Ollama's scheduler does: never a negative prefix.
            for numCtx in ["-1", "0", "-1e300", "1e300"] {
                let embed = try await http.post(
                    "/api/embed", #"{"model":"sim-embed","input":"one two three four five six","options":{"num_ctx":\#(numCtx)}}"#)
                #expect(embed.status == 200, "\(numCtx): \(embed.body)")
                let chat = try await http.post("/api/chat", Self.chatPrefix + #","options":{"num_ctx":\#(numCtx)}}"#)
                #expect(chat.status == 200, "\(numCtx): \(chat.body)")
            }
            let truncated = try await http.post(
                "/api/embed", #"{"model":"sim-embed","input":"one two three four five six","options":{"num_ctx":-1}}"#)
            #expect(truncated.json?["prompt_eval_count"] == 4)
        }
    }

    @Test func simulatorKnobsAreBounded() async throws {
        try await withSim { _, http in
            let delay = try await http.post("/api/chat", Self.chatPrefix + #","options":{"sim_delay_ms":1e300}}"#)
            #expect(delay.status == 400)
            #expect(delay.errorMessage == "sim_delay_ms must be at most 86400000 milliseconds (one day)")
            let tokens = try await http.post("/api/chat", Self.chatPrefix + #","options":{"sim_tokens":1e15}}"#)
            #expect(tokens.status == 400)
            #expect(tokens.errorMessage == "sim_tokens must be at most 1000000")
        }
    }

    @Test func deepOrWideBodiesAreRefusedBeforeDecoding() async throws {
        try await withSim { _, http in
            let deep = String(repeating: #"{"a":"#, count: 500) + "1" + String(repeating: "}", count: 500)
            let nested = try await http.post(
                "/api/chat",
                #"{"model":"sim-tools","messages":[{"role":"user","content":"x"}],"tools":[{"type":"function","function":{"name":"f","parameters":\#(deep)}}]}"#)
            #expect(nested.status == 400)
            #expect(nested.errorMessage == "The request body nests arrays and objects more than 64 levels deep.")
            let wide = #"{"model":"sim-chat","messages":["# + Array(repeating: #"{"role":"user","content":"x"}"#, count: 10_001).joined(separator: ",") + "]}"
            let many = try await http.post("/api/chat", wide)
            #expect(many.status == 400)
            #expect(many.errorMessage == "The request body has an array or object with more than 10000 elements.")
        }
    }

    // MARK: - Random values at every option and control

    static let numberTexts = [
        "0", "-0", "1", "-1", "-2", "4", "0.5", "-0.5", "1e19", "-1e19", "1e300", "-1e300", "1.7976931348623157e308",
        "9223372036854775807", "-9223372036854775808", "9223372036854775808", "18446744073709551616", "2147483648",
        "4.9e-324", "123456789.987654321", "1e-7",
    ]

    static let otherTexts = [
        #""5m""#, #""-1s""#, #""1e19s""#, #""9999999999h""#, #""NaN""#, #""Infinity""#, #""""#, "null", "true",
        "[]", "{}", #"["x"]"#, #""2562047h47m16.854775808s""#,
    ]

    /// A JSON value text: numbers at the edges of every type, random integers and doubles over their
    /// whole range, strings that look like numbers or durations, and the other kinds.
    static let hostileValue = Generator<String, Shrink.None<String>> { rng in
        switch Int.random(in: 0..<4, using: &rng) {
        case 0: numberTexts.randomElement(using: &rng) ?? "0"
        case 1: String(Int.random(in: Int.min...Int.max, using: &rng))
        case 2: "\(Double(sign: Bool.random(using: &rng) ? .minus : .plus, exponent: Int.random(in: -1074...1023, using: &rng), significand: Double.random(in: 1..<2, using: &rng)))"
        default: otherTexts.randomElement(using: &rng) ?? "null"
        }
    }

    static let optionName = Generator<String, Shrink.None<String>> { rng in optionNames.randomElement(using: &rng) ?? "num_ctx" }
    static let optionNames = [
        "num_ctx", "num_predict", "temperature", "top_p", "top_k", "seed", "stop", "sim_delay_ms", "sim_tokens",
        "sim_fault_after", "sim_token_interval_ms", "num_batch", "repeat_last_n", "use_mmap",
    ]

    @Test func randomOptionsNeverTrap() async {
        await propertyCheck(count: 400, input: Self.optionName, Self.hostileValue) {
            name, value in
            for body in [#"{"model":"m","options":{"\#(name)":\#(value)}}"#, #"{"model":"m","keep_alive":\#(value)}"#] {
                do throws(OllamaAPIError) {
                    let object = try RequestDecoding.parse(Array(body.utf8), as: RequestDecoding.chatRequest)
                    _ = try RequestOptions.parse(object["options"]?.objectValue)
                } catch {
                    #expect(error.status.code == 400 || error.status.code == 500, "\(body)")
                    #expect(!error.message.isEmpty)
                }
            }
        }
    }

    @Test func randomValuesThroughTheEndpoints() async throws {
        try await withSim { _, http in
            await propertyCheck(count: 40, input: Self.optionName, Self.hostileValue) {
                name, value in
                let bodies = [
                    ("/api/chat", Self.chatPrefix + #","options":{"\#(name)":\#(value)}}"#),
                    ("/api/chat", Self.chatPrefix + #","keep_alive":\#(value)}"#),
                    ("/api/embed", #"{"model":"sim-embed","input":"a b c","options":{"\#(name)":\#(value)},"dimensions":\#(value)}"#),
                    ("/api/generate", #"{"model":"sim-chat","prompt":"a","stream":false,"options":{"\#(name)":\#(value)}}"#),
                ]
                for (path, body) in bodies {
                    let skipsDelay = name == "sim_delay_ms" || name == "sim_token_interval_ms"
                    if skipsDelay, Double(value).map({ $0 > 10 }) ?? false { continue }
                    do {
                        let response = try await http.post(path, body, timeout: .seconds(20))
                        #expect([200, 400, 500].contains(response.status), "\(path) \(body): \(response.body)")
                        if response.status != 200 { #expect(response.errorMessage != nil, "\(path) \(body)") }
                    } catch {
                        Issue.record("\(path) \(body): \(error)")
                    }
                }
            }
        }
    }
}
