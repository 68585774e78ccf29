import GatewayAPI

/// A tokenizer-free estimate of a prompt's tokens, used where Ollama's exact count cannot be had:
/// `message_start` (Ollama reports the count only at the end), an answer cut by a stop sequence,
/// and `count_tokens` when Ollama cannot count (see docs/anthropic-mapping.md).
///
/// One token per 4 UTF-8 bytes of text (rounded up), 4 tokens of framing per message, the same
/// 4-byte rule over each tool definition's JSON, and a flat 256 tokens per image.
enum AnthropicTokenEstimate {
    static let bytesPerToken = 4
    static let perMessage = 4
    static let perImage = 256

    static func inputTokens(of request: OllamaChatRequest) -> Int {
        var total = 0
        for message in request.messages {
            total += perMessage + tokens(message.content) + tokens(message.thinking ?? "")
            total += (message.images?.count ?? 0) * perImage
            for call in message.toolCalls ?? [] {
                total += tokens(call.function.name) + tokens(JSONWire.text(call.function.arguments))
            }
        }
        for tool in request.tools ?? [] {
            total += tokens(JSONWire.text([
                "name": .string(tool.function.name), "description": tool.function.description.map(JSONValue.string) ?? .null,
                "parameters": tool.function.parameters ?? .null,
            ]))
        }
        return total
    }

    static func tokens(_ text: String) -> Int {
        (text.utf8.count + bytesPerToken - 1) / bytesPerToken
    }
}
