import RedisCostCore
import RedisCostKeyspace

/// The latest Unix second an input's clock may show (an AOF's `#TS:`, which Redis writes
/// in seconds, aof.c genAofTimestampAnnotationIfNeeded; a capture's `seconds.micro`): the
/// analysis works in microseconds, which a later one would overflow.
package let latestUnixSecond: Int64 = (Int64.max - 999_999) / 1_000_000

/// Reads RESP commands (`*N\r\n$len\r\n…\r\n`) and `#TS:` annotations from AOF bytes, the
/// way Redis's loadSingleAppendOnlyFile does, one command at a time.
public struct AOFCommandReader {
    public enum Item: Equatable {
        case command
        /// A `#TS:<unix seconds>` annotation (aof-timestamp-enabled).
        case timestamp(Int64)
        /// The bytes from `offset` on are an incomplete command: a truncated tail.
        case truncated(offset: Int)
        case end
    }

    package let bytes: UnsafeRawBufferPointer
    package let file: String
    public private(set) var position: Int
    /// Offset of the command last returned.
    public private(set) var commandOffset = 0

    public init(bytes: UnsafeRawBufferPointer, file: String, startingAt position: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.position = position
    }

    package func fail(_ offset: Int, _ detail: String) -> InputError {
        InputError(file: file, offset: offset, detail: detail)
    }

    /// Index of the "\r" of the CRLF ending the line that starts at `from`; nil when the data
    /// ends first (a truncated tail). A header line longer than `limit` is malformed.
    @inline(__always)
    package func lineEnd(from: Int, limit: Int = 24) throws(InputError) -> Int? {
        var i = from
        let count = bytes.count
        while i + 1 < count {
            if bytes[i] == 13, bytes[i + 1] == 10 { return i }
            i += 1
            if i - from > limit { throw fail(from, "expected a line ending within \(limit) bytes") }
        }
        return nil
    }

    /// A decimal number between `from` and `to` (exclusive).
    @inline(__always)
    package func number(_ from: Int, _ to: Int, what: String) throws(InputError) -> Int {
        guard to > from, to - from <= 18 else { throw fail(from, "expected \(what)") }
        var value = 0
        for i in from..<to {
            let digit = bytes[i] &- 48
            guard digit < 10 else { throw fail(from, "expected \(what), found byte 0x\(String(bytes[i], radix: 16))") }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// The number of a header line (`*3`, `$16`) whose digits start at `from`, and the index
    /// of its CR; nil when the data ends first. Digits then CRLF are read in one pass; any
    /// other line is read again by `lineEnd` and `number`, which say what is wrong with it.
    @inline(__always)
    package func header(from: Int, what: String) throws(InputError) -> (value: Int, end: Int)? {
        var i = from
        var value = 0
        let count = bytes.count
        // At most 18 digits, as `number` reads: the value stays below 10^18, so it is counted
        // without overflow checks.
        let limit = min(count, from + 18)
        while i < limit {
            let digit = bytes[i] &- 48
            guard digit < 10 else { break }
            value = value &* 10 &+ Int(digit)
            i += 1
        }
        if i > from, i + 1 < count, bytes[i] == 13, bytes[i + 1] == 10 { return (value, i) }
        guard let end = try lineEnd(from: from) else { return nil }
        return (try number(from, end, what: what), end)
    }

    public mutating func next(into argv: inout Argv) throws(InputError) -> Item {
        let count = bytes.count
        // Annotations are whole lines that Redis skips when it loads the file
        // (loadSingleAppendOnlyFile); a loop, not a call per line: a file of nothing but
        // annotations must not grow the stack.
        while position < count, bytes[position] == UInt8(ascii: "#") {
            let start = position
            // An unfinished annotation at the very end is a truncated tail.
            guard let end = try lineEnd(from: start, limit: 4096) else { return .truncated(offset: start) }
            position = end + 2
            let ts = Array("#TS:".utf8)
            if end - start > 4, (0..<4).allSatisfy({ bytes[start + $0] == ts[$0] }) {
                let seconds = try number(start + 4, end, what: "a #TS: timestamp")
                guard seconds <= latestUnixSecond else {
                    throw fail(start + 4, "expected a #TS: timestamp in Unix seconds, found \(seconds), beyond what a clock in microseconds holds")
                }
                return .timestamp(Int64(seconds))
            }
        }
        guard position < count else { return .end }
        let start = position
        let first = bytes[start]
        guard first == UInt8(ascii: "*") else {
            if start == 0 { throw fail(0, Self.unrecognised(bytes)) }
            throw fail(start, "expected '*' (a RESP array) or '#' (an annotation), found byte 0x\(String(first, radix: 16))")
        }
        guard let (argc, headerEnd) = try header(from: start + 1, what: "an argument count") else { return .truncated(offset: start) }
        guard argc >= 1 else { throw fail(start, "a command needs at least one argument") }
        argv.reset(base: bytes.baseAddress)
        var cursor = headerEnd + 2
        for _ in 0..<argc {
            guard cursor < count else { return .truncated(offset: start) }
            guard bytes[cursor] == UInt8(ascii: "$") else {
                throw fail(cursor, "expected '$' (a bulk string), found byte 0x\(String(bytes[cursor], radix: 16))")
            }
            guard let (length, lengthEnd) = try header(from: cursor + 1, what: "a bulk length") else { return .truncated(offset: start) }
            let dataStart = lengthEnd + 2
            // Both are below 10^18 (`header`): the sum cannot overflow.
            guard dataStart &+ length &+ 2 <= count else { return .truncated(offset: start) }
            guard bytes[dataStart + length] == 13, bytes[dataStart + length + 1] == 10 else {
                throw fail(dataStart + length, "expected CRLF after a bulk string of \(length) bytes")
            }
            argv.append(start: dataStart, length: length)
            cursor = dataStart + length + 2
        }
        commandOffset = start
        position = cursor
        return .command
    }

    /// What to say of a file that none of the readers recognises: it is read as an AOF
    /// because it is neither an RDB file nor a capture, so "expected '*'" alone would
    /// mislead (a damaged RDB magic, a capture whose first line is garbage).
    package static func unrecognised(_ bytes: UnsafeRawBufferPointer) -> String {
        let head = bytes.prefix(32).prefix { $0 != 10 && $0 != 13 }
        return "not an AOF, RDB file or MONITOR capture: it starts with \"\(InputError.excerpt(head, limit: 32))\""
            + " (an AOF starts with '*', an RDB file with \"REDIS\" or \"VALKEY\", a capture with \"<seconds>.<microseconds> [\")"
    }
}
