import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

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

/// Frames a hostile server could send: each is an error with its reason, never a trap, a
/// recursion, or a wait for bytes that no reply could hold.
@Suite struct HostileRESPTests {
    func parse(_ text: String, limits: RESPReader.Limits = .init()) throws(RESPReader.ProtocolError) -> RESPValue? {
        var reader = RESPReader(limits: limits)
        reader.append(Array(text.utf8))
        return try reader.next()
    }

    func expectError(_ text: String, limits: RESPReader.Limits = .init(), _ detail: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let value = try parse(text, limits: limits)
            Issue.record("parsed \(String(describing: value))", sourceLocation: sourceLocation)
        } catch {
            #expect(error.detail == detail, sourceLocation: sourceLocation)
        }
    }

    @Test func countsBeyondAnyReplyAreRefusedBeforeAnyArithmetic() {
        expectError("%9223372036854775807\r\n", "9223372036854775807 pairs, more than a reply may hold (4194304 values)")
        expectError("|9223372036854775807\r\n", "9223372036854775807 pairs, more than a reply may hold (4194304 values)")
        expectError("*9223372036854775807\r\n", "9223372036854775807 elements, more than a reply may hold (4194304 values)")
        var small = RESPReader.Limits()
        small.replyBytes = 100
        // 50 elements take 150 bytes at least.
        expectError("*50\r\n", limits: small, "50 elements cannot fit in a reply of at most 100 bytes")
        small.values = 10
        expectError("*2\r\n*9\r\n", limits: small, "9 elements, more than a reply may hold (10 values)")
    }

    @Test func nestingIsBoundedAndNeverRecurses() throws {
        expectError(String(repeating: "*1\r\n", count: 100_000) + ":1\r\n", "aggregates nested more than 128 deep")
        var value = try #require(try parse(String(repeating: "*1\r\n", count: 128) + ":1\r\n"))
        for _ in 0..<128 {
            guard case .array(let items) = value, items.count == 1 else { Issue.record("not nested: \(value)"); return }
            value = items[0]
        }
        #expect(value == .integer(1))
    }

    @Test func lengthsAreCheckedBeforeUse() throws {
        expectError("!-5\r\nERR x\r\n", "negative length -5")
        expectError("!-1\r\n", "negative length -1")
        expectError("=-2\r\n", "negative length -2")
        expectError("$-5\r\n", "negative length -5")
        expectError("!9223372036854775800\r\n", "a string of 9223372036854775800 bytes, more than proto-max-bulk-len (536870912 bytes)")
        expectError("$536870913\r\n", "a string of 536870913 bytes, more than proto-max-bulk-len (536870912 bytes)")
        expectError("*-2\r\n", "negative count -2")
        expectError("%-1\r\n", "negative count -1")
        #expect(try parse("$-1\r\n") == .null)
        #expect(try parse("*-1\r\n") == .null)
        #expect(try parse("!3\r\nERR\r\n") == .error("ERR"))
    }

    @Test func integersNeverOverflow() throws {
        expectError(":99999999999999999999\r\n", "an integer of 20 characters overflows 64 bits")
        expectError(":9223372036854775808\r\n", "an integer of 19 characters overflows 64 bits")
        expectError(":-9223372036854775809\r\n", "an integer of 20 characters overflows 64 bits")
        expectError(":-\r\n", "expected an integer")
        expectError(":1x\r\n", "expected a digit")
        #expect(try parse(":9223372036854775807\r\n") == .integer(.max))
        #expect(try parse(":-9223372036854775808\r\n") == .integer(.min))
        #expect(try parse(":+5\r\n") == .integer(5))
    }

    @Test func anEndlessLineIsAnErrorNotAWait() throws {
        var limits = RESPReader.Limits()
        limits.lineBytes = 16
        var reader = RESPReader(limits: limits)
        reader.append(Array("+0123456789".utf8))
        #expect(try reader.next() == nil)
        reader.append(Array("0123456789".utf8))
        #expect(throws: RESPReader.ProtocolError(offset: 1, detail: "a line longer than 16 bytes")) { _ = try reader.next() }
        // Exactly the limit is a line.
        #expect(try parse("+0123456789abcdef\r\n", limits: limits) == .simple("0123456789abcdef"))
    }

    @Test func aReplyIsBoundedInBytes() throws {
        var limits = RESPReader.Limits()
        limits.replyBytes = 64
        let bulk = "$20\r\n" + String(repeating: "x", count: 20) + "\r\n"
        expectError("*3\r\n" + bulk + bulk + bulk, limits: limits, "a reply longer than 64 bytes")
        // The limit is per reply: two replies of 31 bytes each fit.
        var reader = RESPReader(limits: limits)
        reader.append(Array(("*1\r\n" + bulk + "*1\r\n" + bulk).utf8))
        #expect(try reader.next() != nil)
        #expect(try reader.next() != nil)
    }

    @Test func attributesAreSkippedWhereverTheyAre() throws {
        #expect(try parse("|1\r\n+ttl\r\n:3\r\n:5\r\n") == .integer(5))
        #expect(try parse("|0\r\n:5\r\n") == .integer(5))
        #expect(try parse("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n") == .array([.integer(1), .integer(2)]))
        #expect(try parse("%0\r\n") == .map([]))
        #expect(try parse("*0\r\n") == .array([]))
    }

    @Test func aReplyArrivingByteByByteIsParsedOnceToTheSameValue() throws {
        let text = "*3\r\n%1\r\n+k\r\n*2\r\n$3\r\nabc\r\n:-7\r\n~1\r\n_\r\n,2.5\r\n+next\r\n"
        var reader = RESPReader()
        var values: [RESPValue] = []
        for byte in text.utf8 {
            reader.append([byte])
            while let value = try reader.next() { values.append(value) }
        }
        #expect(values == [.array([.map([(.simple("k"), .array([.bulk(Array("abc".utf8)), .integer(-7)]))]), .array([.null]), .double(2.5)]),
                           .simple("next")])
    }
}
