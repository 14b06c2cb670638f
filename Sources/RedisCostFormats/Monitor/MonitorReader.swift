#if canImport(Glibc)
import Glibc
#endif
import RedisCostCore
import RedisCostKeyspace

/// Reads a `redis-cli monitor` capture: one line per call,
/// `1795566245.170983 [0 127.0.0.1:39822] "SET" "k" "v"`, the client being `ip:port`,
/// `[ipv6]:port`, `unix:/path` or `lua` (a script's call). Arguments are unescaped exactly as
/// the server escaped them (sdscatrepr: `\\ \" \n \r \t \a \b \xHH`), so keys are byte-exact.
/// A live MONITOR connection sends the same lines as RESP simple strings (`+…\r\n`):
/// `framing: .resp` reads those.
public final class MonitorReader {
    public enum Framing: Sendable {
        /// redis-cli's output: one line per call, `\n` or `\r\n`.
        case plain
        /// The MONITOR stream itself: `+line\r\n`.
        case resp
    }

    public enum Item {
        case call(MonitorLine)
        /// A line that is not a call (redis-cli's leading "OK", an empty line).
        case skipped
        case malformed(line: Int, reason: String)
        case end
    }

    public struct MonitorLine {
        /// Unix time in microseconds.
        public var microseconds: Int64
        public var database: Int
        /// Offsets of the client address in the file.
        public var clientStart: Int
        public var clientLength: Int
        public var isScript: Bool
        public var lineNumber: Int
        public var lineStart: Int
        public var lineEnd: Int
    }

    package private(set) var bytes: UnsafeRawBufferPointer
    package let framing: Framing
    public let file: String
    public private(set) var position = 0
    public private(set) var lineNumber = 0
    /// Unescaped arguments of the current line.
    private var scratch: UnsafeMutableRawBufferPointer

    /// The longest line read as a call: Redis's own limit on one argument
    /// (proto-max-bulk-len, 512 MB); a line beyond it is malformed, not a buffer as large.
    package static let maxLine = 512 << 20
    /// The most arguments of one call: each costs the argv 16 bytes, five times the shortest
    /// argument's `"" ` in the line, and the analysis more (key positions, sizes, the keys of
    /// the costliest calls), so a line of millions of empty arguments would cost gigabytes.
    /// A call of more is a malformed line, which the report counts.
    package static let maxArguments = 1 << 20

    public init(bytes: UnsafeRawBufferPointer, file: String, framing: Framing = .plain) {
        self.bytes = bytes
        self.file = file
        self.framing = framing
        scratch = .allocate(byteCount: 64 * 1024, alignment: 8)
    }

    /// Continues on a new buffer of whole lines (the next chunk of a live stream); line
    /// numbers go on counting.
    public func reset(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        position = 0
    }

    deinit { scratch.deallocate() }

    public func client(of line: MonitorLine) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: bytes[line.clientStart..<(line.clientStart + line.clientLength)])
    }

    /// The next line; a call's arguments are placed in `argv` (valid until the next call).
    public func next(into argv: inout Argv) -> Item {
        let count = bytes.count
        guard position < count else { return .end }
        var start = position
        // memchr: most of a line is its arguments, scanned once more below.
        var end = count
        if let base = bytes.baseAddress, let newline = memchr(base + start, 10, count - start) {
            end = base.distance(to: UnsafeRawPointer(newline))
        }
        position = min(end + 1, count)
        lineNumber += 1
        var lineEnd = end
        if lineEnd > start, bytes[lineEnd - 1] == 13 { lineEnd -= 1 }
        if framing == .resp {
            guard lineEnd > start, bytes[start] == UInt8(ascii: "+") else {
                return .malformed(line: lineNumber, reason: "expected a '+' status line from MONITOR")
            }
            start += 1
        }
        if lineEnd == start { return .skipped }
        guard lineEnd - start <= Self.maxLine else {
            return .malformed(line: lineNumber, reason: "a line of \(lineEnd - start) bytes, longer than the \(Self.maxLine >> 20) MiB a call may take")
        }
        if lineEnd - start == 2, bytes[start] == UInt8(ascii: "O"), bytes[start + 1] == UInt8(ascii: "K") { return .skipped }
        return parse(start, lineEnd, into: &argv)
    }

    private func parse(_ start: Int, _ end: Int, into argv: inout Argv) -> Item {
        var i = start
        func malformed(_ reason: String) -> Item { .malformed(line: lineNumber, reason: reason) }
        // Seconds '.' microseconds (six digits). The digits are counted from where they end
        // (an index below `end`), so each costs its test and its multiply-add; more than 15
        // are refused, so a value used has never wrapped.
        var seconds: Int64 = 0
        while i < end, bytes[i] &- 48 < 10 {
            seconds = seconds &* 10 &+ Int64(bytes[i] &- 48)
            i &+= 1
        }
        var digits = i - start
        guard digits > 0, digits < 16, i < end, bytes[i] == UInt8(ascii: ".") else { return malformed("expected a timestamp") }
        guard seconds <= latestUnixSecond else { return malformed("a timestamp beyond what a clock in microseconds holds") }
        i += 1
        var micros: Int64 = 0
        let fractionStart = i
        let fractionLimit = min(end, i + 6)
        while i < fractionLimit, bytes[i] &- 48 < 10 {
            micros = micros &* 10 &+ Int64(bytes[i] &- 48)
            i &+= 1
        }
        var fraction = i - fractionStart
        while fraction < 6 { micros *= 10; fraction += 1 }
        guard i + 2 < end, bytes[i] == UInt8(ascii: " "), bytes[i + 1] == UInt8(ascii: "[") else { return malformed("expected \" [db client]\"") }
        i += 2
        var database = 0
        digits = 0
        while i < end, bytes[i] &- 48 < 10, digits < 10 {
            database = database * 10 + Int(bytes[i] &- 48)
            digits += 1
            i += 1
        }
        guard digits > 0, i < end, bytes[i] == UInt8(ascii: " ") else { return malformed("expected a database number") }
        guard database < Keyspace.databaseLimit else { return malformed("database \(database), beyond the last a server may have (\(Keyspace.databaseLimit - 1))") }
        i += 1
        // The client runs to the first `] "` (a unix socket path may hold spaces or brackets).
        let clientStart = i
        let base = bytes.baseAddress!
        while i + 2 < end {
            guard let bracket = memchr(base + i, Int32(UInt8(ascii: "]")), end - 2 - i) else { i = end; break }
            i = base.distance(to: UnsafeRawPointer(bracket))
            if bytes[i + 1] == UInt8(ascii: " "), bytes[i + 2] == UInt8(ascii: "\"") { break }
            i += 1
        }
        guard i + 2 < end else { return malformed("expected '] \"' after the client") }
        let clientLength = i - clientStart
        i += 2
        // Arguments: "…" separated by single spaces. Most lines escape nothing (sdscatrepr
        // escapes only quotes, backslashes and bytes that are not printable): their
        // arguments are the bytes between the quotes, where they are.
        let hasEscapes = memchr(base + i, Int32(UInt8(ascii: "\\")), end - i) != nil
        if let reason = hasEscapes ? unescapeArguments(from: i, to: end, line: start, into: &argv)
                                   : plainArguments(from: i, to: end, line: start, into: &argv) {
            return malformed(reason)
        }
        guard argv.count > 0 else { return malformed("no command") }
        let client = UnsafeRawBufferPointer(rebasing: bytes[clientStart..<(clientStart + clientLength)])
        let isScript = client.count == 3 && client.elementsEqual("lua".utf8)
        return .call(MonitorLine(microseconds: seconds * 1_000_000 + micros, database: database, clientStart: clientStart,
                                 clientLength: clientLength, isScript: isScript, lineNumber: lineNumber, lineStart: start, lineEnd: end))
    }

    /// The arguments of a line without a backslash: each runs from its quote to the next one,
    /// and `argv` points into the line. Returns why the line is malformed, or nil.
    private func plainArguments(from first: Int, to end: Int, line start: Int, into argv: inout Argv) -> String? {
        let base = bytes.baseAddress!
        argv.reset(base: base)
        var i = first
        while i < end {
            guard bytes[i] == UInt8(ascii: "\"") else { return "expected '\"' at column \(i - start + 1)" }
            let argumentStart = i + 1
            guard let quote = memchr(base + argumentStart, Int32(UInt8(ascii: "\"")), end - argumentStart) else {
                return "an unterminated argument"
            }
            let argumentEnd = base.distance(to: UnsafeRawPointer(quote))
            guard argv.count < Self.maxArguments else { return "more than \(Self.maxArguments) arguments" }
            argv.append(start: argumentStart, length: argumentEnd - argumentStart)
            i = argumentEnd + 1
            if i < end {
                guard bytes[i] == UInt8(ascii: " ") else { return "expected a space between arguments at column \(i - start + 1)" }
                i += 1
            }
        }
        return nil
    }

    /// The arguments of a line with escapes, unescaped into the scratch buffer, which `argv`
    /// points into (the unescaped text is never longer than the line). A buffer a huge line
    /// grew is given back at the next line that needs far less. Returns why the line is
    /// malformed, or nil.
    private func unescapeArguments(from first: Int, to end: Int, line start: Int, into argv: inout Argv) -> String? {
        var i = first
        let needed = end - i
        if needed > scratch.count || (scratch.count > 1 << 20 && needed < scratch.count / 4) {
            scratch.deallocate()
            scratch = .allocate(byteCount: max(needed, 64 * 1024), alignment: 8)
        }
        argv.reset(base: UnsafeRawPointer(scratch.baseAddress))
        var out = 0
        while i < end {
            guard bytes[i] == UInt8(ascii: "\"") else { return "expected '\"' at column \(i - start + 1)" }
            i += 1
            let argStart = out
            var closed = false
            while i < end {
                // A run of plain bytes is copied at once; only a quote or a backslash stops it.
                var run = i
                while run < end, bytes[run] != UInt8(ascii: "\""), bytes[run] != UInt8(ascii: "\\") { run += 1 }
                if run > i {
                    (scratch.baseAddress! + out).copyMemory(from: bytes.baseAddress! + i, byteCount: run - i)
                    out += run - i
                    i = run
                    if i == end { break }
                }
                let b = bytes[i]
                if b == UInt8(ascii: "\"") { closed = true; i += 1; break }
                if b == UInt8(ascii: "\\") {
                    guard i + 1 < end else { return "a backslash at the end of the line" }
                    let e = bytes[i + 1]
                    switch e {
                    case UInt8(ascii: "n"): scratch[out] = 10; i += 2
                    case UInt8(ascii: "r"): scratch[out] = 13; i += 2
                    case UInt8(ascii: "t"): scratch[out] = 9; i += 2
                    case UInt8(ascii: "a"): scratch[out] = 7; i += 2
                    case UInt8(ascii: "b"): scratch[out] = 8; i += 2
                    case UInt8(ascii: "x"):
                        guard i + 3 < end, let high = hexValue(bytes[i + 2]), let low = hexValue(bytes[i + 3]) else {
                            return "a bad \\x escape at column \(i - start + 1)"
                        }
                        scratch[out] = high << 4 | low
                        i += 4
                    default: scratch[out] = e; i += 2  // \\ and \"
                    }
                    out += 1
                    continue
                }
                scratch[out] = b
                out += 1
                i += 1
            }
            guard closed else { return "an unterminated argument" }
            guard argv.count < Self.maxArguments else { return "more than \(Self.maxArguments) arguments" }
            argv.append(start: argStart, length: out - argStart)
            if i < end {
                guard bytes[i] == UInt8(ascii: " ") else { return "expected a space between arguments at column \(i - start + 1)" }
                i += 1
            }
        }
        return nil
    }
}

@inline(__always)
package func hexValue(_ byte: UInt8) -> UInt8? {
    switch byte {
    case 48...57: byte - 48
    case 97...102: byte - 87
    case 65...70: byte - 55
    default: nil
    }
}
