import HTTPTypes
import Testing

@testable import Gateway

@Suite struct PresentedKeyTests {
    func key(_ fields: [(String, String)]) -> String? {
        var headers = HTTPFields()
        for (name, value) in fields { headers.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
        return APIKeyAuthenticator.presentedKey(in: headers)
    }

    @Test func bearerInAnyCase() {
        #expect(key([("Authorization", "Bearer sk-abc")]) == "sk-abc")
        #expect(key([("Authorization", "bearer sk-abc")]) == "sk-abc")
        #expect(key([("Authorization", "BEARER  sk-abc\t")]) == "sk-abc")
    }

    @Test func otherSchemesAreNotKeys() {
        #expect(key([("Authorization", "Basic dXNlcjpwYXNz")]) == nil)
        #expect(key([("Authorization", "Bearer")]) == nil)
        #expect(key([("Authorization", "Bearers sk-abc")]) == nil)
        #expect(key([("Authorization", "Bearer ")]) == nil)  // header values arrive trimmed
    }

    @Test func anthropicAndAzureHeaders() {
        #expect(key([("x-api-key", " sk-x ")]) == "sk-x")
        #expect(key([("api-key", "sk-y")]) == "sk-y")
        // Authorization wins when it carries a bearer token; otherwise the other headers count.
        #expect(key([("Authorization", "Bearer sk-a"), ("x-api-key", "sk-x")]) == "sk-a")
        #expect(key([("Authorization", "Basic Zm9v"), ("x-api-key", "sk-x")]) == "sk-x")
        #expect(key([]) == nil)
    }
}

@Suite struct IdentifierTests {
    @Test func prefixLengthAndAlphabet() {
        for length in [1, 7, 8, 24, 40] {
            let id = Identifiers.make("chatcmpl-", length: length)
            #expect(id.hasPrefix("chatcmpl-"))
            let random = id.dropFirst("chatcmpl-".count)
            #expect(random.count == length)
            #expect(random.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber) })
        }
    }

    @Test func everyCharacterOccursAndIdsDiffer() {
        let ids = (0..<2000).map { _ in Identifiers.make("", length: 24) }
        #expect(Set(ids).count == ids.count)
        #expect(Set(ids.joined()).count == 62)
    }
}
