import AsyncHTTPClient
import Foundation
import GatewayAPI
import OllamaSim
import Testing

@Suite("Chat and generate")
struct ChatTests {
    @Test func streamsOneTokenPerLineThenADoneLine() async throws {
        try await withSim { _, http in
            let response = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("Hello, world!")])
            #expect(response.status == 200)
            #expect(response.contentType == "application/x-ndjson")
            let lines = try response.lines()
            let chunks = try lines.map { try JSONDecoder().decode(OllamaChatChunk.self, from: JSONEncoder().encode($0)) }
            // "You said: Hello, world!" → You | said | : | Hello | , | world | !
            #expect(chunks.dropLast().map { $0.message?.content } == ["You", " said", ":", " Hello", ",", " world", "!"])
            #expect(chunks.dropLast().allSatisfy { !$0.done && $0.message?.role == "assistant" })
            let last = try #require(chunks.last)
            #expect(last.done)
            #expect(last.doneReason == "stop")
            #expect(last.message?.content == "")
            #expect(last.metrics.evalCount == 7)
            #expect(last.metrics.promptEvalCount == 4 + 4)  // 4 overhead + "Hello, world!"
            #expect((last.metrics.totalDuration ?? 0) > 0)
            #expect((last.metrics.evalDuration ?? 0) > 0)
            #expect(chunks.allSatisfy { $0.model == "sim-chat" })
            let created = try #require(chunks.first?.createdAt)
            #expect(created.hasSuffix("Z"))
            #expect(created.contains("T"))
            // Raw line shape: no thinking/tool_calls keys when empty.
            #expect(lines[0]["message"]?.objectValue?.keys.sorted() == ["content", "role"])
        }
    }

    @Test func nonStreamingAggregates() async throws {
        try await withSim { _, http in
            let response = try await http.post("/api/chat", json: ["model": "sim-think:latest", "messages": userMessages("hi"), "stream": false])
            #expect(response.contentType == "application/json; charset=utf-8")
            let chunk = try JSONDecoder().decode(OllamaChatChunk.self, from: Data(response.body.utf8))
            #expect(chunk.done)
            #expect(chunk.model == "sim-think:latest")
            #expect(chunk.message?.content == "You said: hi")
            #expect(chunk.message?.thinking == "The user said: hi. I should answer by repeating it.")
            #expect(chunk.metrics.evalCount == SimTokenCount.of("You said: hi") + SimTokenCount.of("The user said: hi. I should answer by repeating it."))
        }
    }

    @Test func thinkingLinesComeFirstAndShareALineAtTheSwitch() async throws {
        try await withSim { _, http in
            let lines = try await http.post("/api/chat", json: ["model": "sim-think", "messages": userMessages("hi")]).lines()
            let thinking = lines.compactMap { $0["message"]?["thinking"]?.stringValue }
            #expect(thinking.joined() == "The user said: hi. I should answer by repeating it.")
            #expect(lines[0]["message"]?["content"] == "")
            let switchLine = try #require(lines.first { $0["message"]?["thinking"] != nil && $0["message"]?["content"] != "" })
            #expect(switchLine["message"]?["thinking"] == ".")
            #expect(switchLine["message"]?["content"] == "You")
            #expect(JSONValue.joined(lines) { $0["message"]?["content"]?.stringValue } == "You said: hi")

            let off = try await http.post("/api/chat", json: ["model": "sim-think", "messages": userMessages("hi"), "think": false, "stream": false])
            #expect(off.json?["message"]?["thinking"] == nil)
            #expect(off.json?["message"]?["content"] == "You said: hi")

            var lengths: [Int] = []
            for level in ["low", "medium", "high", "max"] {
                let response = try await http.post("/api/chat", json: ["model": "sim-think", "messages": userMessages("hi"), "think": .string(level), "stream": false])
                lengths.append(response.json?["message"]?["thinking"]?.stringValue?.count ?? 0)
            }
            #expect(lengths == lengths.sorted() && Set(lengths).count == 4)
        }
    }

    @Test func r1WritesThinkTagsInContent() async throws {
        try await withSim { _, http in
            let response = try await http.post("/api/chat", json: ["model": "sim-r1", "messages": userMessages("hi"), "stream": false])
            #expect(response.json?["message"]?["content"] == "<think>\nThe user said: hi. I will repeat it.\n</think>\n\nYou said: hi")
            #expect(response.body.contains("\\u003cthink\\u003e"))  // escaped as Go does
            let think = try await http.post("/api/chat", json: ["model": "sim-r1", "messages": userMessages("hi"), "think": true])
            #expect(think.status == 400)
            #expect(think.errorMessage == "\"sim-r1\" does not support thinking")
        }
    }

    @Test("scripted calls are made round by round, then their results reported", arguments: ["sim-tools", "sim-agent"])
    func scriptedCallsForAgents(model: String) async throws {
        try await withSim { _, http in
            let tools: JSONValue = [
                ["type": "function", "function": ["name": "Read", "parameters": ["type": "object", "properties": ["file_path": ["type": "string"]]]]],
                ["type": "function", "function": ["name": "add", "parameters": ["type": "object", "properties": ["a": ["type": "number"]]]]],
            ]
            let script = "Please do this.\n[[call Read {\"file_path\":\"/tmp/a.txt\"}]]\n[[call add {\"a\":2,\"b\":3}]]\n[[next]]\n[[call later {}]]"
            let first = try await http.post("/api/chat", json: [
                "model": .string(model), "messages": [["role": "user", "content": .string(script)]], "tools": tools, "stream": false,
            ])
            let calls = try #require(first.json?["message"]?["tool_calls"]?.arrayValue)
            #expect(calls.map { $0["function"]?["name"] } == ["Read", "add"])
            #expect(calls[0]["function"]?["arguments"] == ["file_path": "/tmp/a.txt"])
            #expect(calls[1]["function"]?["arguments"] == ["a": 2, "b": 3])
            #expect((first.json?["message"]?["thinking"] != nil) == (model == "sim-agent"))
            // Text after the tool results (an agent's reminders) does not repeat the calls.
            let second: JSONValue = [
                ["role": "user", "content": .string(script)],
                ["role": "assistant", "content": "", "tool_calls": .array(calls)],
                ["role": "tool", "content": "hello", "tool_name": "Read"],
                ["role": "tool", "content": "5", "tool_name": "add"],
                ["role": "user", "content": "<system-reminder>Read and add are available</system-reminder>"],
            ]
            let round2 = try await http.post("/api/chat", json: [
                "model": .string(model), "messages": second, "tools": tools, "stream": false, "think": false,
            ])
            // The second round names a tool that is not offered: an agent may offer it only after a search.
            let later = try #require(round2.json?["message"]?["tool_calls"]?.arrayValue)
            #expect(later.map { $0["function"]?["name"] } == ["later"])
            guard case .array(var third) = second else { return }
            third += [["role": "assistant", "content": "", "tool_calls": .array(later)], ["role": "tool", "content": "done", "tool_name": "later"]]
            let answer = try await http.post("/api/chat", json: [
                "model": .string(model), "messages": .array(third), "tools": tools, "stream": false, "think": false,
            ])
            #expect(answer.json?["message"]?["content"] == "The tool Read returned: hello\nThe tool add returned: 5\nThe tool later returned: done")
            #expect(answer.json?["message"]?["tool_calls"] == nil)
        }
    }

    @Test func toolsModelCallsTheFirstToolWithSchemaArguments() async throws {
        try await withSim { _, http in
            let tools: JSONValue = [
                ["type": "function", "function": ["name": "get_weather", "description": "Weather", "parameters": [
                    "type": "object", "required": ["city", "days", "metric"],
                    "properties": ["city": ["type": "string"], "days": ["type": "integer"], "metric": ["type": "boolean"], "unit": ["type": "string", "enum": ["c", "f"]]],
                ]]],
                ["type": "function", "function": ["name": "get_time", "parameters": ["type": "object", "properties": ["zone": ["type": "string", "enum": ["UTC", "CET"]]]]]],
            ]
            let lines = try await http.post("/api/chat", json: ["model": "sim-tools", "messages": userMessages("Paris"), "tools": tools]).lines()
            #expect(lines.count == 2)
            let callLine = lines[0]
            #expect(callLine["done"] == false)
            #expect(callLine["message"]?["content"] == "")
            let call = try #require(callLine["message"]?["tool_calls"]?.arrayValue?.first)
            #expect(call["function"]?["name"] == "get_weather")
            #expect(call["function"]?["index"] == 0)
            #expect(call["function"]?["arguments"] == ["city": "Paris", "days": 1, "metric": true])
            let id = try #require(call["id"]?.stringValue)
            #expect(id.hasPrefix("call_") && id.count == 13)
            #expect(lines[1]["done"] == true)
            #expect((lines[1]["eval_count"]?.intValue ?? 0) > 0)

            // Naming several tools calls each of them, in one line.
            let both = try await http.post("/api/chat", json: ["model": "sim-tools", "messages": userMessages("use get_time and get_weather"), "tools": tools, "stream": false])
            let calls = try #require(both.json?["message"]?["tool_calls"]?.arrayValue)
            #expect(calls.map { $0["function"]?["name"] } == ["get_weather", "get_time"])
            #expect(calls.map { $0["function"]?["index"] } == [0, 1])
            #expect(calls[1]["function"]?["arguments"] == ["zone": "UTC"])

            // Second turn: the answer quotes the tool result, found by tool_call_id or by position.
            let secondTurn: JSONValue = [
                ["role": "user", "content": "Paris"],
                ["role": "assistant", "content": "", "tool_calls": [call]],
                ["role": "tool", "content": "22 degrees", "tool_call_id": .string(id)],
            ]
            let answer = try await http.post("/api/chat", json: ["model": "sim-tools", "messages": secondTurn, "tools": tools, "stream": false])
            #expect(answer.json?["message"]?["content"] == "The tool get_weather returned: 22 degrees")
            let named: JSONValue = [["role": "user", "content": "x"], ["role": "tool", "content": "ok", "tool_name": "get_time"]]
            let byName = try await http.post("/api/chat", json: ["model": "sim-tools", "messages": named, "stream": false])
            #expect(byName.json?["message"]?["content"] == "The tool get_time returned: ok")

            let plain = try await http.post("/api/chat", json: ["model": "sim-tools", "messages": userMessages("hi"), "stream": false])
            #expect(plain.json?["message"]?["content"] == "You said: hi")
        }
    }

    @Test func visionDescribesTheExactImageBytes() async throws {
        try await withSim { _, http in
            let bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3]
            let image = Data(bytes).base64EncodedString()
            let messages: JSONValue = [["role": "user", "content": "what is it?", "images": [.string(image)]]]
            let response = try await http.post("/api/chat", json: ["model": "sim-vision", "messages": messages, "stream": false])
            let content = try #require(response.json?["message"]?["content"]?.stringValue)
            #expect(content.hasPrefix("Image 1: 11 bytes, fnv1a64 "))
            #expect(content.hasSuffix("You said: what is it?"))

            let dataURL: JSONValue = [["role": "user", "content": "x", "images": [.string("data:image/png;base64,\(image)")]]]
            let bad = try await http.post("/api/chat", json: ["model": "sim-vision", "messages": dataURL])
            #expect(bad.status == 400)
            #expect(bad.errorMessage == "illegal base64 data at input byte 4")

            let noVision = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": messages])
            #expect(noVision.status == 500)
            #expect(noVision.errorMessage == "Failed to create new sequence: this model is missing data required for image input")
        }
    }

    @Test func numPredictCutsWithLengthAndStopStopsBeforeTheSequence() async throws {
        try await withSim { _, http in
            let cut = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("one two three four"), "options": ["num_predict": 3], "stream": false])
            #expect(cut.json?["message"]?["content"] == "You said:")
            #expect(cut.json?["done_reason"] == "length")
            #expect(cut.json?["eval_count"] == 3)

            let stopped = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("one two three four"), "options": ["stop": ["three"]]])
            let lines = try stopped.lines()
            #expect(JSONValue.joined(lines) { $0["message"]?["content"]?.stringValue } == "You said: one two ")
            #expect(lines.last?["done_reason"] == "stop")
            #expect(lines.last?["eval_count"] == .int(lines.count - 1))
        }
    }

    @Test func loadProbe() async throws {
        try await withSim { _, http in
            let chat = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": []])
            #expect(chat.json?["done"] == true)
            #expect(chat.json?["done_reason"] == "load")
            #expect(chat.json?["message"] == ["role": "assistant", "content": ""])
            let generate = try await http.post("/api/generate", json: ["model": "sim-chat"])
            #expect(generate.json?["done_reason"] == "load")
            #expect(generate.json?["response"] == "")
            let unload = try await http.post("/api/generate", json: ["model": "sim-chat", "keep_alive": "0s"])
            #expect(unload.json?["done_reason"] == "unload")
        }
    }

    @Test func generateStreamsResponseAndContext() async throws {
        try await withSim { _, http in
            let lines = try await http.post("/api/generate", json: ["model": "sim-chat", "prompt": "Why is the sky blue?"]).lines()
            #expect(JSONValue.joined(lines) { $0["response"]?.stringValue } == "You said: Why is the sky blue?")
            let last = try #require(lines.last)
            #expect(last["done"] == true)
            #expect(last["response"] == "")
            let context = try #require(last["context"]?.arrayValue)
            #expect(context.count == SimTokenCount.of("Why is the sky blue?") + SimTokenCount.of("You said: Why is the sky blue?"))
            #expect(last["eval_count"] == .int(lines.count - 1))
            #expect(last["prompt_eval_count"] == .int(4 + SimTokenCount.of("Why is the sky blue?")))

            let think = try await http.post("/api/generate", json: ["model": "sim-think", "prompt": "hi", "stream": false])
            #expect(think.json?["thinking"] == "The user said: hi. I should answer by repeating it.")
            #expect(think.json?["response"] == "You said: hi")

            let infill = try await http.post("/api/generate", json: ["model": "sim-code", "prompt": "def f(", "suffix": "return x", "stream": false])
            #expect(infill.json?["response"] == "/* infill: 3 tokens before, 2 tokens after */")
            let noInsert = try await http.post("/api/generate", json: ["model": "sim-chat", "prompt": "a", "suffix": "b"])
            #expect(noInsert.status == 400)
            #expect(noInsert.errorMessage == "registry.ollama.ai/library/sim-chat:latest does not support insert")
        }
    }

    @Test func formatProducesJSON() async throws {
        try await withSim { _, http in
            let json = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("hi"), "format": "json", "stream": false])
            let content = try #require(json.json?["message"]?["content"]?.stringValue)
            #expect(try JSONDecoder().decode(JSONValue.self, from: Data(content.utf8)) == ["response": "You said: hi"])
            let schema: JSONValue = ["type": "object", "properties": ["name": ["type": "string"], "age": ["type": "integer"]], "required": ["name", "age"]]
            let structured = try await http.post("/api/chat", json: ["model": "sim-chat", "messages": userMessages("hi"), "format": schema, "stream": false])
            let object = try JSONDecoder().decode(JSONValue.self, from: Data((structured.json?["message"]?["content"]?.stringValue ?? "").utf8))
            #expect(object == ["name": "You said: hi", "age": 1])
        }
    }

    @Test func tokenCountsEqualEmittedTokens() async throws {
        try await withSim { _, http in
            for model in ["sim-chat", "sim-think", "sim-r1", "sim-vision"] {
                let lines = try await http.post("/api/chat", json: ["model": .string(model), "messages": userMessages("Count me, please: 1 2 3!")]).lines()
                let pieces = lines.dropLast().flatMap { line -> [String] in
                    [line["message"]?["thinking"]?.stringValue, line["message"]?["content"]?.stringValue].compactMap { $0 }.filter { !$0.isEmpty }
                }
                #expect(lines.last?["eval_count"] == .int(pieces.count), "\(model)")
            }
        }
    }
}

/// The documented tokenizer, restated for expectations: whitespace + word run, or one other character.
enum SimTokenCount {
    static func of(_ text: String) -> Int {
        var count = 0
        var inWord = false
        var pendingSpace = false
        for scalar in text.unicodeScalars {
            if scalar.properties.isWhitespace {
                inWord = false
                pendingSpace = true
            } else if scalar.properties.isAlphabetic || scalar.properties.numericType != nil || scalar == "_" {
                if !inWord { count += 1 }
                inWord = true
                pendingSpace = false
            } else {
                count += 1
                inWord = false
                pendingSpace = false
            }
        }
        return count + (pendingSpace ? 1 : 0)
    }
}
