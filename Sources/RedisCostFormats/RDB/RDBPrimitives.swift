import RedisCostCore
import RedisCostKeyspace

/// The RDB primitives (rdb.c: rdbLoadLen, rdbGenericLoadStringObject, rdbLoadDoubleValue,
/// rdbLoadBinaryDoubleValue, rdbLoadMillisecondTime).
extension ByteCursor {
    /// A length, or an "encoded value" marker: the top two bits of the first byte say which.
    package enum Length {
        case length(Int)
        /// 0 int8, 1 int16, 2 int32, 3 LZF.
        case encoded(Int)
    }

    package mutating func lengthOrEncoding() throws(InputError) -> Length {
        let at = offset
        let first = try byte("a length")
        switch first >> 6 {
        case 0: return .length(Int(first & 0x3F))
        case 1: return .length(Int(first & 0x3F) << 8 | Int(try byte("a 14-bit length")))
        case 2:
            if first == 0x80 { return .length(Int(try bigEndian(UInt32.self, "a 32-bit length"))) }
            if first == 0x81 {
                let value = try bigEndian(UInt64.self, "a 64-bit length")
                guard value <= UInt64(Int.max) else { throw fail("a length of \(value) is impossible", at: at) }
                return .length(Int(value))
            }
            throw fail("unknown length encoding 0x\(String(first, radix: 16))", at: at)
        default: return .encoded(Int(first & 0x3F))
        }
    }

    /// A length-encoded unsigned 64-bit value that is not a length (stream IDs, counters;
    /// an unknown "entries read" counter is stored as -1, i.e. UINT64_MAX).
    package mutating func unsigned(_ what: @autoclosure () -> String) throws(InputError) -> UInt64 {
        let at = offset
        let first = try byte(what())
        switch first >> 6 {
        case 0: return UInt64(first & 0x3F)
        case 1: return UInt64(first & 0x3F) << 8 | UInt64(try byte(what()))
        default:
            if first == 0x80 { return UInt64(try bigEndian(UInt32.self, what())) }
            if first == 0x81 { return try bigEndian(UInt64.self, what()) }
            throw fail("expected \(what()), found encoding byte 0x\(String(first, radix: 16))", at: at)
        }
    }

    package mutating func length(_ what: @autoclosure () -> String) throws(InputError) -> Int {
        let at = offset
        guard case .length(let n) = try lengthOrEncoding() else {
            throw fail("expected a length for \(what()), found an encoded value", at: at)
        }
        return n
    }

    /// A string: raw bytes, an integer (its decimal text), or LZF-compressed bytes.
    /// `body` receives the bytes without copying them when they are stored plainly.
    package mutating func string<R>(_ what: @autoclosure () -> String, _ body: (UnsafeRawBufferPointer) throws(InputError) -> R) throws(InputError) -> R {
        let at = offset
        switch try lengthOrEncoding() {
        case .length(let n):
            return try body(try take(n, what()))
        case .encoded(let encoding):
            let value: Int64
            switch encoding {
            case 0: value = Int64(Int8(bitPattern: try byte(what())))
            case 1: value = Int64(try littleEndian(Int16.self, what()))
            case 2: value = Int64(try littleEndian(Int32.self, what()))
            case 3:
                let compressed = try length("a compressed length")
                let original = try length("an uncompressed length")
                let data = try take(compressed, "compressed \(what())")
                guard let plain = LZF.decompress(data, expectedLength: original) else {
                    throw fail("corrupt LZF data in \(what())", at: at)
                }
                return try withBytes(plain, body)
            default:
                throw fail("unknown string encoding \(encoding) for \(what())", at: at)
            }
            return try withDecimal(value, body)
        }
    }

    package mutating func stringBytes(_ what: @autoclosure () -> String) throws(InputError) -> [UInt8] {
        try string(what()) { (raw) throws(InputError) -> [UInt8] in Array(raw) }
    }

    package mutating func skipString(_ what: @autoclosure () -> String) throws(InputError) {
        let at = offset
        switch try lengthOrEncoding() {
        case .length(let n): try skip(n, what())
        case .encoded(0): try skip(1, what())
        case .encoded(1): try skip(2, what())
        case .encoded(2): try skip(4, what())
        case .encoded(3):
            let compressed = try length("a compressed length")
            _ = try length("an uncompressed length")
            try skip(compressed, what())
        case .encoded(let e): throw fail("unknown string encoding \(e) for \(what())", at: at)
        }
    }

    /// The old text encoding of a sorted-set score: 253 nan, 254 +inf, 255 -inf, else a length
    /// and that many ASCII characters.
    package mutating func textDouble() throws(InputError) -> Double {
        let at = offset
        let length = try byte("a score")
        switch length {
        case 253: return .nan
        case 254: return .infinity
        case 255: return -.infinity
        default:
            let text = try take(Int(length), "a score")
            guard let value = Double(String(decoding: text, as: UTF8.self)) else { throw fail("a score that is not a number", at: at) }
            return value
        }
    }

    package mutating func binaryDouble() throws(InputError) -> Double {
        Double(bitPattern: try littleEndian(UInt64.self, "a binary score"))
    }

    package mutating func milliseconds(_ what: @autoclosure () -> String) throws(InputError) -> Int64 {
        try littleEndian(Int64.self, what())
    }
}

/// A member, field or element of a compact encoding: bytes or an integer.
package enum PackedEntry {
    case bytes(UnsafeRawBufferPointer)
    case integer(Int64)

    /// Its identity in the model: integers as their decimal text.
    package var identity: UInt64 {
        switch self {
        case .bytes(let raw): elementHash(raw)
        case .integer(let n): elementHash(integer: n)
        }
    }

    package var number: Double? {
        switch self {
        case .integer(let n): Double(n)
        case .bytes(let raw): Double(String(decoding: raw, as: UTF8.self))
        }
    }

    package var integerValue: Int64? {
        switch self {
        case .integer(let n): n
        case .bytes(let raw): RedisCostCore.integerValue(raw)
        }
    }
}

/// `withUnsafeBytes` with a typed-throwing body.
/// `value` in decimal, as the server gives an integer-encoded string, in a buffer on the
/// stack (an RDB has one such string per counter or number-valued field).
package func withDecimal<R>(_ value: Int64, _ body: (UnsafeRawBufferPointer) throws(InputError) -> R) throws(InputError) -> R {
    var result: Result<R, InputError>?
    // 20 bytes hold Int64.min, "-9223372036854775808".
    withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { buffer in
        var magnitude = value.magnitude
        var start = 20
        repeat {
            start -= 1
            buffer[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
        } while magnitude > 0
        if value < 0 {
            start -= 1
            buffer[start] = UInt8(ascii: "-")
        }
        let digits = UnsafeRawBufferPointer(rebasing: UnsafeMutableRawBufferPointer(buffer)[start..<20])
        result = Result { () throws(InputError) -> R in try body(digits) }
    }
    return try result!.get()
}

package func withBytes<R>(_ array: [UInt8], _ body: (UnsafeRawBufferPointer) throws(InputError) -> R) throws(InputError) -> R {
    var result: Result<R, InputError>?
    array.withUnsafeBytes { raw in
        result = Result { () throws(InputError) -> R in try body(raw) }
    }
    return try result!.get()
}
