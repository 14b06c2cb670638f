import RedisCostCore
import RedisCostKeyspace

/// Parses RESP values out of a growing byte buffer. A reply may arrive in any number of
/// reads; `next()` returns nil until a whole value is buffered, and the next call resumes
/// where it stopped (aggregates under construction wait on a stack), so a reply that arrives
/// in many reads is parsed once. Parsing is iterative: no depth of nesting recurses.
///
/// The server is not trusted: every length and count is checked against `Limits` before any
/// arithmetic or allocation, so a hostile reply is a `ProtocolError`, never a trap, a
/// recursion, or memory that grows without bound.
public struct RESPReader: Sendable {
    public struct ProtocolError: Error, CustomStringConvertible, Equatable {
        package init(offset: Int, detail: String) {
            self.offset = offset
            self.detail = detail
        }
        public var offset: Int
        public var detail: String
        public var description: String { "protocol error at byte \(offset) of the reply stream: \(detail)" }
    }

    /// What one reply may be. A real server's replies to the commands this tool sends stay far
    /// below them; beyond them the server is broken or hostile.
    public struct Limits: Sendable {
        /// Aggregates inside aggregates.
        public var depth = 128
        /// A line: a simple string, an error, a number, or the header of a bulk or an aggregate.
        public var lineBytes = 64 * 1024
        /// A bulk string, blob error or verbatim string: the servers' proto-max-bulk-len default.
        public var bulkBytes = 512 * 1024 * 1024
        /// One reply, framing included.
        public var replyBytes = 512 * 1024 * 1024
        /// Values in one reply, nested ones included: each costs memory once parsed.
        public var values = 1 << 22
        public init() {}
    }

    /// An aggregate waiting for its elements.
    package struct Frame: Sendable {
        /// The type byte: `*` `~` `>` array-like, `%` map, `|` attribute.
        package var type: UInt8
        /// Elements still to come (a map's keys and values count apart).
        package var remaining: Int
        package var items: [RESPValue]
    }

    public let limits: Limits
    package var buffer: [UInt8] = []
    /// Where parsing resumes: everything before it has been parsed into `stack` or returned.
    package var start = 0
    /// Bytes consumed before `buffer[0]`, for error offsets.
    package var consumedBefore = 0
    package var stack: [Frame] = []
    /// Stream offset where the reply being parsed began, and the values it holds so far.
    package var replyStart = 0
    package var replyValues = 0

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if start > 0, start * 2 >= buffer.count {
            consumedBefore += start
            buffer.removeFirst(start)
            start = 0
        }
        buffer.append(contentsOf: bytes)
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    /// Hands over the bytes not parsed yet (a connection that switches to reading raw bytes,
    /// between replies).
    public mutating func takeBuffered() -> [UInt8] {
        let rest = Array(buffer[start...])
        consumedBefore += buffer.count
        buffer.removeAll()
        start = 0
        return rest
    }

    /// The next whole value, or nil until more bytes arrive.
    public mutating func next() throws(ProtocolError) -> RESPValue? {
        if stack.isEmpty {
            replyStart = consumedBefore + start
            replyValues = 0
        }
        while true {
            var value: RESPValue
            if let top = stack.last, top.remaining == 0 {
                let frame = stack.removeLast()
                // RESP3 attributes describe the value after them: dropped, the value is awaited.
                if frame.type == UInt8(ascii: "|") { continue }
                value = Self.aggregate(frame)
            } else {
                switch try element() {
                case .incomplete: return nil
                case .opened(let frame):
                    stack.append(frame)
                    continue
                case .value(let v): value = v
                }
            }
            guard !stack.isEmpty else { return value }
            stack[stack.count - 1].items.append(value)
            stack[stack.count - 1].remaining -= 1
        }
    }

    package static func aggregate(_ frame: Frame) -> RESPValue {
        guard frame.type == UInt8(ascii: "%") else { return .array(frame.items) }
        return .map(stride(from: 0, to: frame.items.count, by: 2).map { (frame.items[$0], frame.items[$0 + 1]) })
    }

    package enum Element {
        case incomplete
        case value(RESPValue)
        case opened(Frame)
    }

    /// Parses the value or aggregate header at `start`; consumes it only when it is whole.
    package mutating func element() throws(ProtocolError) -> Element {
        guard start < buffer.count else { return .incomplete }
        let type = buffer[start]
        let lineStart = start + 1
        guard let end = try lineEnd(from: lineStart) else { return .incomplete }
        let afterLine = end + 2
        func text() -> String { String(decoding: buffer[lineStart..<end], as: UTF8.self) }
        let value: RESPValue
        switch type {
        case UInt8(ascii: "+"): value = .simple(text())
        case UInt8(ascii: "-"): value = .error(text())
        case UInt8(ascii: ":"): value = .integer(try integer(lineStart, end))
        case UInt8(ascii: ","): value = .double(Double(text()) ?? .nan)
        case UInt8(ascii: "#"): value = .boolean(text() == "t")
        case UInt8(ascii: "_"): value = .null
        case UInt8(ascii: "("): value = .bulk(Array(buffer[lineStart..<end]))
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            let length = try integer(lineStart, end)
            // RESP2's null bulk string; a blob error or a verbatim string has no null.
            if length == -1, type == UInt8(ascii: "$") {
                value = .null
                break
            }
            guard length >= 0 else { throw fail(lineStart, "negative length \(length)") }
            guard length <= limits.bulkBytes else {
                throw fail(lineStart, "a string of \(length) bytes, more than proto-max-bulk-len (\(limits.bulkBytes) bytes)")
            }
            let payload = Int(length)
            try checkReplySize(upTo: afterLine + payload + 2)
            guard afterLine + payload + 2 <= buffer.count else { return .incomplete }
            guard buffer[afterLine + payload] == 13, buffer[afterLine + payload + 1] == 10 else {
                throw fail(afterLine + payload, "string not followed by CRLF")
            }
            try count(values: 1)
            start = afterLine + payload + 2
            let bytes = buffer[afterLine..<(afterLine + payload)]
            return .value(type == UInt8(ascii: "!") ? .error(String(decoding: bytes, as: UTF8.self)) : .bulk(Array(bytes)))
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let count = try integer(lineStart, end)
            // RESP2's null array; RESP3's aggregates have no null.
            if count == -1, type == UInt8(ascii: "*") {
                value = .null
                break
            }
            guard count >= 0 else { throw fail(lineStart, "negative count \(count)") }
            guard stack.count < limits.depth else { throw fail(start, "aggregates nested more than \(limits.depth) deep") }
            let isMap = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            // Compared before multiplying: a map of Int64.max pairs must not overflow.
            let room = limits.values - replyValues - 1
            guard count <= (isMap ? room / 2 : room) else {
                throw fail(lineStart, "\(count) \(isMap ? "pairs" : "elements"), more than a reply may hold (\(limits.values) values)")
            }
            let elements = Int(count) * (isMap ? 2 : 1)
            // Each element takes 3 bytes at least (`_\r\n`): a count the reply's bytes could not hold is a lie.
            guard consumedBefore + afterLine + elements * 3 - replyStart <= limits.replyBytes else {
                throw fail(lineStart, "\(count) \(isMap ? "pairs" : "elements") cannot fit in a reply of at most \(limits.replyBytes) bytes")
            }
            try self.count(values: 1)
            start = afterLine
            var items: [RESPValue] = []
            // Reserved up to a bound: the elements may never come.
            items.reserveCapacity(min(elements, 1024))
            return .opened(Frame(type: type, remaining: elements, items: items))
        default:
            throw fail(start, "unexpected type byte 0x\(String(type, radix: 16))")
        }
        try count(values: 1)
        start = afterLine
        return .value(value)
    }

    /// Index of the CRLF ending the line that starts at `position`, or nil while it has not
    /// arrived; a line longer than `limits.lineBytes` is an error, not a wait.
    package func lineEnd(from position: Int) throws(ProtocolError) -> Int? {
        let limit = min(buffer.count, position + limits.lineBytes + 2)
        var i = position
        while i + 1 < limit {
            if buffer[i] == 13, buffer[i + 1] == 10 {
                try checkReplySize(upTo: i + 2)
                return i
            }
            i += 1
        }
        guard limit < position + limits.lineBytes + 2 else {
            throw fail(position, "a line longer than \(limits.lineBytes) bytes")
        }
        try checkReplySize(upTo: buffer.count)
        return nil
    }

    package func checkReplySize(upTo position: Int) throws(ProtocolError) {
        guard consumedBefore + position - replyStart <= limits.replyBytes else {
            throw fail(start, "a reply longer than \(limits.replyBytes) bytes")
        }
    }

    package mutating func count(values: Int) throws(ProtocolError) {
        replyValues += values
        guard replyValues <= limits.values else { throw fail(start, "more than \(limits.values) values in one reply") }
    }

    package func fail(_ position: Int, _ detail: String) -> ProtocolError {
        ProtocolError(offset: consumedBefore + position, detail: detail)
    }

    /// A decimal integer with an optional sign, accumulated without overflow (Int64.min included).
    package func integer(_ from: Int, _ to: Int) throws(ProtocolError) -> Int64 {
        var i = from
        var negative = false
        if i < to, buffer[i] == UInt8(ascii: "-") || buffer[i] == UInt8(ascii: "+") {
            negative = buffer[i] == UInt8(ascii: "-")
            i += 1
        }
        guard i < to else { throw fail(from, "expected an integer") }
        var value: Int64 = 0
        while i < to {
            let digit = buffer[i] &- 48
            guard digit < 10 else { throw fail(i, "expected a digit") }
            let (shifted, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = negative ? shifted.subtractingReportingOverflow(Int64(digit)) : shifted.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { throw fail(from, "an integer of \(to - from) characters overflows 64 bits") }
            value = sum
            i += 1
        }
        return value
    }
}
