import GatewayAPI
import Testing

@testable import Gateway

@Suite struct ThinkingRequestTests {
    @Test func agreeingSourcesCombine() throws {
        let think = try ThinkingRequest.combine([
            .init(think: .enabled(true), param: "think"), .init(think: .level("high"), param: "reasoning_effort"),
        ])
        #expect(think == .level("high"))
        #expect(try ThinkingRequest.combine([]) == nil)
    }

    @Test func budgetsMapToLevels() {
        #expect(ThinkingRequest.level(forBudget: 1024) == .level("low"))
        #expect(ThinkingRequest.level(forBudget: 8000) == .level("medium"))
        #expect(ThinkingRequest.level(forBudget: 32000) == .level("high"))
    }
}
