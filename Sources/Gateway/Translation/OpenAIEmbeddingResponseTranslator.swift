import Foundation
import GatewayAPI

/// Ollama's `/api/embed` answer → an OpenAI embeddings response.
enum OpenAIEmbeddingResponseTranslator {
    /// - Parameter model: the name the client asked for, which the response echoes.
    static func response(from answer: OllamaEmbedResponse, model: String, format: EmbeddingEncodingFormat)
        -> EmbeddingResponse
    {
        let data = answer.embeddings.enumerated().map { index, vector in
            EmbeddingResponse.Item(index: index, embedding: encode(vector, format: format))
        }
        return EmbeddingResponse(data: data, model: model, usage: EmbeddingUsage(promptTokens: answer.promptEvalCount ?? 0))
    }

    static func encode(_ vector: [Double], format: EmbeddingEncodingFormat) -> EmbeddingVector {
        switch format {
        case .base64: .base64(base64Float32(vector))
        case .float, .unknown: .floats(vector)
        }
    }

    /// The base64 of the vector as little-endian IEEE 754 float32 values, which is what OpenAI sends and
    /// its SDKs decode (`np.frombuffer(…, dtype="float32")`). Ollama computes in float32 and prints the
    /// shortest decimal of each value, so converting back to `Float` gives its exact bits.
    static func base64Float32(_ vector: [Double]) -> String {
        var bytes = [UInt8]()
        bytes.reserveCapacity(vector.count * 4)
        for value in vector {
            let bits = Float(value).bitPattern.littleEndian
            withUnsafeBytes(of: bits) { bytes.append(contentsOf: $0) }
        }
        return Data(bytes).base64EncodedString()
    }
}
