import NIOCore

/// Cuts an NDJSON body into lines, whatever the chunk boundaries: a line may arrive in several
/// pieces, split anywhere (even inside a UTF-8 character, which is why it works on bytes).
struct NDJSONLineSplitter {
    private var buffer = ByteBuffer()

    mutating func append(_ chunk: ByteBuffer) {
        if buffer.readableBytes == 0 {
            buffer = chunk
        } else {
            var chunk = chunk
            buffer.writeBuffer(&chunk)
        }
    }

    /// The next complete line without its newline; blank lines are skipped.
    mutating func nextLine() -> ByteBuffer? {
        while let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
            let length = newline - buffer.readerIndex
            guard var line = buffer.readSlice(length: length) else { return nil }
            buffer.moveReaderIndex(forwardBy: 1)
            if line.readableBytesView.last == UInt8(ascii: "\r") { line.moveWriterIndex(to: line.writerIndex - 1) }
            if line.readableBytes > 0 { return line }
        }
        if buffer.readableBytes == 0 { buffer.clear() }
        return nil
    }

    /// What is left at the end of the body: a last line without a trailing newline.
    mutating func finish() -> ByteBuffer? {
        defer { buffer.clear() }
        let rest = buffer.readableBytesView.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }
        return rest.isEmpty ? nil : buffer
    }
}
