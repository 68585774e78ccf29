import NIOCore
import Testing

@testable import Gateway

@Suite struct NDJSONLineSplitterTests {
    func lines(_ pieces: [[UInt8]]) -> [String] {
        var splitter = NDJSONLineSplitter()
        var result: [String] = []
        for piece in pieces {
            splitter.append(ByteBuffer(bytes: piece))
            while let line = splitter.nextLine() { result.append(String(buffer: line)) }
        }
        if let rest = splitter.finish() { result.append(String(buffer: rest)) }
        return result
    }

    @Test func linesSplitAnywhere() {
        let text = Array("{\"a\":\"é€😀\"}\n\n{\"b\":2}\r\n{\"c\":3}".utf8)
        let expected = ["{\"a\":\"é€😀\"}", "{\"b\":2}", "{\"c\":3}"]
        // Every split point, including inside multi-byte characters.
        for cut in 0...text.count {
            #expect(lines([Array(text[..<cut]), Array(text[cut...])]) == expected)
        }
        #expect(lines(text.map { [$0] }) == expected)
    }

    @Test func trailingNewlineLeavesNothing() {
        #expect(lines([Array("x\n".utf8)]) == ["x"])
    }
}
