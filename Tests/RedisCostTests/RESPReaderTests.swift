import Testing
@testable import RedisCost

@Suite struct RESPReaderTests {
    let stream = Array("+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nhe\r\no\r\n$-1\r\n*2\r\n$1\r\na\r\n*1\r\n:1\r\n%1\r\n+k\r\n:2\r\n_\r\n,1.5\r\n#t\r\n".utf8)
    let expected: [RESPValue] = [
        .simple("OK"), .error("ERR bad"), .integer(-42), .bulk(Array("he\r\no".utf8)), .null,
        .array([.bulk([97]), .array([.integer(1)])]), .map([(.simple("k"), .integer(2))]), .null, .double(1.5), .boolean(true),
    ]

    @Test func wholeStream() throws {
        var reader = RESPReader()
        reader.append(stream)
        var values: [RESPValue] = []
        while let value = try reader.next() { values.append(value) }
        #expect(values == expected)
    }

    @Test func everySplitPointGivesTheSameValues() throws {
        for split in 0...stream.count {
            var reader = RESPReader()
            var values: [RESPValue] = []
            reader.append(Array(stream[..<split]))
            while let value = try reader.next() { values.append(value) }
            reader.append(Array(stream[split...]))
            while let value = try reader.next() { values.append(value) }
            #expect(values == expected, "split at \(split)")
        }
    }

    @Test func malformedInputIsAnErrorWithItsOffset() {
        var reader = RESPReader()
        reader.append(Array("+OK\r\n?what\r\n".utf8))
        #expect(throws: Never.self) { _ = try reader.next() }
        #expect(throws: RESPReader.ProtocolError(offset: 5, detail: "unexpected type byte 0x3f")) { _ = try reader.next() }
    }
}
