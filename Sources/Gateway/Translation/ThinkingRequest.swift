import GatewayAPI

/// Reconciles the ways a client can ask for thinking into Ollama's single `think`.
///
/// Sources agree or the request is refused: `think:false` with `reasoning_effort:"high"` is a 400,
/// never a silent choice. A bare "on" (`think:true`, `reasoning.enabled:true`) combines with a level.
enum ThinkingRequest {
    /// One source's wish, with the parameter it came from (for the error message).
    struct Wish {
        var think: OllamaThink
        var param: String
    }

    /// OpenAI `reasoning_effort` / OpenRouter `reasoning.effort` → Ollama level.
    static func level(forEffort effort: String, param: String) throws(GatewayError) -> OllamaThink {
        switch effort {
        case "none": return .enabled(false)
        case "minimal", "low": return .level("low")
        case "medium": return .level("medium")
        case "high": return .level("high")
        case "xhigh", "max": return .level("max")
        default:
            throw .invalid(
                "'\(param)' must be one of none, minimal, low, medium, high, xhigh; got '\(effort)'.", param: param)
        }
    }

    /// A thinking budget in tokens → Ollama level (documented in the mapping table).
    static func level(forBudget tokens: Int) -> OllamaThink {
        switch tokens {
        case ..<1: .enabled(false)
        case ..<4096: .level("low")
        case ..<16384: .level("medium")
        default: .level("high")
        }
    }

    /// Combines wishes; nil when nobody asked.
    static func combine(_ wishes: [Wish]) throws(GatewayError) -> OllamaThink? {
        guard let first = wishes.first else { return nil }
        var result = first
        for wish in wishes.dropFirst() {
            switch (result.think, wish.think) {
            case (.enabled(let a), .enabled(let b)) where a == b:
                continue
            case (.enabled(true), .level):
                result = wish
            case (.level, .enabled(true)):
                continue
            case (.level(let a), .level(let b)) where a == b:
                continue
            default:
                throw .invalid(
                    "'\(wish.param)' contradicts '\(result.param)': ask for thinking one way, or make them agree.",
                    param: wish.param)
            }
        }
        return result.think
    }

    /// The Responses API's `reasoning.effort`, beside the Ollama `think` a client may send with it.
    static func responses(_ request: ResponsesRequest, controlsThink: OllamaThink?) throws(GatewayError) -> OllamaThink? {
        var wishes: [Wish] = []
        if let think = request.think {
            wishes.append(Wish(think: try ParameterLayer.think(from: think, param: "think"), param: "think"))
        } else if let controlsThink {
            wishes.append(Wish(think: controlsThink, param: "think"))
        }
        if let effort = request.reasoning?.effort {
            wishes.append(Wish(think: try level(forEffort: effort, param: "reasoning.effort"), param: "reasoning.effort"))
        }
        return try combine(wishes)
    }

    static func openAI(_ request: ChatCompletionRequest, controlsThink: OllamaThink?) throws(GatewayError)
        -> (think: OllamaThink?, exclude: Bool?)
    {
        var wishes: [Wish] = []
        if let think = request.think {
            wishes.append(Wish(think: try ParameterLayer.think(from: think, param: "think"), param: "think"))
        } else if let controlsThink {
            wishes.append(Wish(think: controlsThink, param: "think"))
        }
        if let effort = request.reasoningEffort {
            wishes.append(Wish(think: try level(forEffort: effort, param: "reasoning_effort"), param: "reasoning_effort"))
        }
        if let reasoning = request.reasoning {
            if let enabled = reasoning.enabled {
                wishes.append(Wish(think: .enabled(enabled), param: "reasoning.enabled"))
            }
            if let effort = reasoning.effort {
                wishes.append(Wish(think: try level(forEffort: effort, param: "reasoning.effort"), param: "reasoning.effort"))
            }
            if let budget = reasoning.maxTokens {
                wishes.append(Wish(think: level(forBudget: budget), param: "reasoning.max_tokens"))
            }
        }
        let exclude: Bool? =
            switch (request.excludeReasoning, request.reasoning?.exclude) {
            case (nil, nil): nil
            case (let a, let b): (a ?? false) || (b ?? false)
            }
        return (try combine(wishes), exclude)
    }
}
