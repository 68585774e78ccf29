import Foundation
import GatewayAPI
import PropertyBased
import Testing

@testable import Gateway

/// Random values at every field of a Responses request, through the route's decoding and translation:
/// each either succeeds or is a client error naming what is wrong, never a trap or an internal error.
@Suite("Hostile input: the Responses API")
struct ResponsesHostileInputTests {
    static let base = #"{"model":"m","input":"hi"}"#
    static let templates = [
        #"{"model":$V,"input":"hi"}"#,
        #"{"model":"m","input":$V}"#,
        #"{"model":"m","input":[$V]}"#,
        #"{"model":"m","input":[{"role":$V,"content":"hi"}]}"#,
        #"{"model":"m","input":[{"role":"user","content":$V}]}"#,
        #"{"model":"m","input":[{"role":"user","content":[$V]}]}"#,
        #"{"model":"m","input":[{"role":"user","content":[{"type":"input_text","text":$V}]}]}"#,
        #"{"model":"m","input":[{"role":"user","content":[{"type":"input_image","image_url":$V}]}]}"#,
        #"{"model":"m","input":[{"type":$V,"role":"user","content":"hi"}]}"#,
        #"{"model":"m","input":[{"type":"function_call","call_id":"c","name":"f","arguments":$V}]}"#,
        #"{"model":"m","input":[{"type":"function_call","call_id":$V,"name":$V,"arguments":"{}"}]}"#,
        #"{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":$V}]}"#,
        #"{"model":"m","input":[{"type":"reasoning","summary":$V},{"role":"user","content":"hi"}]}"#,
        #"{"model":"m","input":[{"type":"reasoning","summary":[$V]},{"role":"user","content":"hi"}]}"#,
        #"{"model":"m","input":"hi","tools":[$V]}"#,
        #"{"model":"m","input":"hi","tools":[{"type":"function","name":"f","parameters":$V}]}"#,
        #"{"model":"m","input":"hi","text":{"format":$V}}"#,
        #"{"model":"m","input":"hi","text":{"format":{"type":"json_schema","name":"n","schema":$V}}}"#,
        #"{"model":"m","input":"hi","reasoning":{"effort":$V}}"#,
        #"{"model":"m","input":"hi","reasoning":{"summary":$V}}"#,
        #"{"model":"m","input":"hi","options":{"num_ctx":$V}}"#,
    ] + HostileJSON.topLevel(base, fields: [
        "instructions", "tools", "tool_choice", "parallel_tool_calls", "temperature", "top_p", "max_output_tokens",
        "reasoning", "text", "metadata", "user", "truncation", "store", "include", "stream", "previous_response_id",
        "background", "conversation",
    ] + HostileInputPropertyTests.controls)

    @Test func responsesRequests() async {
        await propertyCheck(count: 600, input: HostileJSON.bodies(Self.templates)) { body in
            do {
                let request = try HostileInputPropertyTests.decode(ResponsesRequest.self, body)
                let remote = ResponsesRequestTranslator.remoteImages(in: request.inputItems)
                _ = try ResponsesRequestTranslator.translate(
                    request, model: HostileInputPropertyTests.model, defaults: .init(),
                    images: HostileInputPropertyTests.fetched(remote.urls))
                // The response echoes what was sent: it must encode whatever it holds.
                _ = JSONWire.encode(ResponsesRequestTranslator.response(for: request, id: "resp_x", createdAt: 0, model: "m"))
            } catch {
                HostileInputPropertyTests.expectClientError(error, body)
            }
        }
    }
}
