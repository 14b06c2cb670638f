/// Parses RESP values out of a growing byte buffer. A reply may arrive in any number of
/// reads; `next()` returns nil until a whole value is buffered and never consumes a partial one.
public struct RESPReader: Sendable {
    public struct ProtocolError: Error, CustomStringConvertible, Equatable {
        public var offset: Int
        public var detail: String
        public var description: String { "protocol error at byte \(offset) of the reply stream: \(detail)" }
    }

    var buffer: [UInt8] = []
    var start = 0
    /// Bytes consumed before `buffer[0]`, for error offsets.
    var consumedBefore = 0

    public init() {}

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

    /// Hands over the bytes not parsed yet (a connection that switches to reading raw bytes).
    public mutating func takeBuffered() -> [UInt8] {
        let rest = Array(buffer[start...])
        consumedBefore += buffer.count
        buffer.removeAll()
        start = 0
        return rest
    }

    public mutating func next() throws(ProtocolError) -> RESPValue? {
        var position = start
        guard let value = try parse(at: &position) else { return nil }
        start = position
        return value
    }

    /// Index just past the next CRLF-terminated line starting at `position`, or nil.
    func lineEnd(from position: Int) -> Int? {
        var i = position
        while i + 1 < buffer.count {
            if buffer[i] == 13, buffer[i + 1] == 10 { return i }
            i += 1
        }
        return nil
    }

    func fail(_ position: Int, _ detail: String) -> ProtocolError {
        ProtocolError(offset: consumedBefore + position, detail: detail)
    }

    func integer(_ from: Int, _ to: Int) throws(ProtocolError) -> Int64 {
        var negative = false
        var i = from
        if i < to, buffer[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        guard i < to else { throw fail(from, "expected an integer") }
        var value: Int64 = 0
        while i < to {
            let digit = buffer[i] &- 48
            guard digit < 10 else { throw fail(i, "expected a digit") }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int64(digit))
            guard !o1, !o2 else { throw fail(from, "integer overflows 64 bits") }
            value = s
            i += 1
        }
        return negative ? -value : value
    }

    mutating func parse(at position: inout Int) throws(ProtocolError) -> RESPValue? {
        guard position < buffer.count else { return nil }
        let type = buffer[position]
        guard let end = lineEnd(from: position + 1) else { return nil }
        let lineStart = position + 1
        func text() -> String { String(decoding: buffer[lineStart..<end], as: UTF8.self) }
        switch type {
        case UInt8(ascii: "+"):
            position = end + 2
            return .simple(text())
        case UInt8(ascii: "-"), UInt8(ascii: "!"):
            if type == UInt8(ascii: "!") {
                // RESP3 blob error: length then payload.
                let length = Int(try integer(lineStart, end))
                guard end + 2 + length + 2 <= buffer.count else { return nil }
                let value = String(decoding: buffer[(end + 2)..<(end + 2 + length)], as: UTF8.self)
                position = end + 2 + length + 2
                return .error(value)
            }
            position = end + 2
            return .error(text())
        case UInt8(ascii: ":"):
            let value = try integer(lineStart, end)
            position = end + 2
            return .integer(value)
        case UInt8(ascii: ","):
            position = end + 2
            return .double(Double(text()) ?? .nan)
        case UInt8(ascii: "#"):
            position = end + 2
            return .boolean(text() == "t")
        case UInt8(ascii: "_"):
            position = end + 2
            return .null
        case UInt8(ascii: "("):
            position = end + 2
            return .bulk(Array(buffer[lineStart..<end]))
        case UInt8(ascii: "$"), UInt8(ascii: "="):
            let length = try integer(lineStart, end)
            if length < 0 {
                position = end + 2
                return .null
            }
            guard length <= 512 * 1024 * 1024 else { throw fail(lineStart, "bulk length \(length) is too large") }
            let dataStart = end + 2
            guard dataStart + Int(length) + 2 <= buffer.count else { return nil }
            guard buffer[dataStart + Int(length)] == 13, buffer[dataStart + Int(length) + 1] == 10 else {
                throw fail(dataStart + Int(length), "bulk string not followed by CRLF")
            }
            position = dataStart + Int(length) + 2
            return .bulk(Array(buffer[dataStart..<(dataStart + Int(length))]))
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            let count = try integer(lineStart, end)
            var cursor = end + 2
            if count < 0 {
                position = cursor
                return .null
            }
            let isMap = type == UInt8(ascii: "%") || type == UInt8(ascii: "|")
            var items: [RESPValue] = []
            items.reserveCapacity(Int(min(count * (isMap ? 2 : 1), 1 << 16)))
            for _ in 0..<(count * (isMap ? 2 : 1)) {
                guard let item = try parse(at: &cursor) else { return nil }
                items.append(item)
            }
            position = cursor
            if type == UInt8(ascii: "|") {
                // RESP3 attributes precede the real reply: skip them.
                return try parse(at: &position)
            }
            if isMap {
                return .map(stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) })
            }
            return .array(items)
        default:
            throw fail(position, "unexpected type byte 0x\(String(type, radix: 16))")
        }
    }
}
