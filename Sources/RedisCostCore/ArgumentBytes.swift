/// Redis's readings of argument bytes: tokens, integers, doubles, score bounds.
@inlinable @inline(__always)
package func isToken(_ bytes: UnsafeRawBufferPointer, _ token: StaticString) -> Bool {
    guard bytes.count == token.utf8CodeUnitCount else { return false }
    let t = token.utf8Start
    for i in 0..<bytes.count where bytes[i] & 0xDF != t[i] & 0xDF {
        // Letters compare case-insensitively; other bytes must match exactly.
        if bytes[i] != t[i] { return false }
    }
    return true
}

/// A base-10 integer as Redis's string2ll accepts it: canonical, no spaces, no '+'.
@inlinable @inline(__always)
package func integerValue(_ bytes: UnsafeRawBufferPointer) -> Int64? {
    guard !bytes.isEmpty, bytes.count <= 20 else { return nil }
    var negative = false
    var i = 0
    if bytes[0] == UInt8(ascii: "-") {
        negative = true
        i = 1
        guard bytes.count > 1 else { return nil }
    }
    if bytes[i] == UInt8(ascii: "0"), bytes.count > i + 1 { return nil }
    var value: Int64 = 0
    while i < bytes.count {
        let digit = bytes[i] &- 48
        guard digit < 10 else { return nil }
        let (m, o1) = value.multipliedReportingOverflow(by: 10)
        let (s, o2) = negative ? m.subtractingReportingOverflow(Int64(digit)) : m.addingReportingOverflow(Int64(digit))
        guard !o1, !o2 else { return nil }
        value = s
        i += 1
    }
    if negative && value == 0 { return nil }  // "-0" is not canonical
    return value
}

package func doubleValue(_ bytes: UnsafeRawBufferPointer) -> Double? {
    // Most scores are whole numbers: up to 15 digits are exact in a Double, so the value is
    // the one Double(text) reads, without a String and its lowercased copy per score. "-0"
    // (which reads as -0.0) and everything else take the general way.
    if bytes.count <= 15, let first = bytes.first {
        let negative = first == UInt8(ascii: "-")
        var i = negative ? 1 : 0
        var value: Int64 = 0
        while i < bytes.count, bytes[i] &- 48 < 10 {
            value = value * 10 + Int64(bytes[i] &- 48)
            i += 1
        }
        if i == bytes.count, i > (negative ? 1 : 0), !(negative && value == 0) { return Double(negative ? -value : value) }
    }
    let text = String(decoding: bytes, as: UTF8.self)
    switch text.lowercased() {
    case "inf", "+inf": return .infinity
    case "-inf": return -.infinity
    default: return Double(text)
    }
}

/// A score bound of ZRANGEBYSCORE/ZREMRANGEBYSCORE: `(1.5` is exclusive.
package func scoreBound(_ bytes: UnsafeRawBufferPointer) -> (value: Double, exclusive: Bool)? {
    guard let first = bytes.first else { return nil }
    if first == UInt8(ascii: "(") {
        return doubleValue(UnsafeRawBufferPointer(rebasing: bytes[1...])).map { ($0, true) }
    }
    return doubleValue(bytes).map { ($0, false) }
}

extension Argv {
    /// Whether argv[index] is `token`, ignoring ASCII case.
    public func equalsToken(_ index: Int, _ token: String) -> Bool {
        guard index >= 0, index < count else { return false }
        let bytes = self[index]
        var i = 0
        for t in token.utf8 {
            guard i < bytes.count else { return false }
            let b = bytes[i]
            if b != t, !(b | 0x20 == t | 0x20 && (b | 0x20) >= 97 && (b | 0x20) <= 122) { return false }
            i += 1
        }
        return i == bytes.count
    }

    @inlinable package func int(_ index: Int) -> Int64? { index >= 0 && index < count ? integerValue(self[index]) : nil }
    @inlinable package func hash(_ index: Int) -> UInt64 { elementHash(self[index]) }
    @inlinable @inline(__always) package func token(_ index: Int, _ token: StaticString) -> Bool { index >= 0 && index < count && isToken(self[index], token) }
}
