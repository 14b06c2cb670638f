/// The outermost value of a JSON text, read in one pass without building it: whether it is an
/// object, an array or a scalar, how many members or elements it holds (what JSON.OBJLEN or
/// JSON.ARRLEN report for the root `$`), and the raw bytes of an object's member names.
///
/// RedisJSON parses the text itself (JSON.SET refuses what is not JSON), so this only checks
/// what a count depends on: strings closed, brackets matched, nothing after the value. Text
/// that fails those is `nil`. The walk is iterative, so no nesting depth can exhaust the stack.
public struct JSONTopLevel: Sendable, Equatable {
    public enum Shape: UInt8, Sendable { case object, array, scalar }

    public var shape: Shape
    /// Members of an object, elements of an array, 0 for a scalar.
    public var count: Int
    /// Hashes (`elementHash`) of an object's member names as written between their quotes;
    /// nil for arrays and scalars, and for an object when a name holds a backslash escape (a
    /// path names the unescaped text, so the written bytes would not match it).
    public var memberHashes: [UInt64]?

    /// The members of the root object or the elements of the root array; nil for a scalar or
    /// for text that is not JSON.
    public static func memberCount(_ text: UnsafeRawBufferPointer) -> Int? {
        read(text).flatMap { $0.shape == .scalar ? nil : $0.count }
    }

    public static func read(_ text: UnsafeRawBufferPointer) -> JSONTopLevel? {
        let n = text.count
        var i = 0
        func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D }
        while i < n, isSpace(text[i]) { i += 1 }
        guard i < n else { return nil }
        let opening = text[i]
        guard opening == UInt8(ascii: "{") || opening == UInt8(ascii: "[") else {
            // A scalar: a string must close where the text ends (after spaces), anything else
            // is one token without inner brackets.
            var end = n
            while end > i, isSpace(text[end - 1]) { end -= 1 }
            if opening == UInt8(ascii: "\"") {
                guard end - i >= 2, text[end - 1] == UInt8(ascii: "\""), let close = closingQuote(text, from: i + 1), close == end - 1 else { return nil }
            } else if text[i..<end].contains(where: { isSpace($0) || $0 == UInt8(ascii: "{") || $0 == UInt8(ascii: "[") || $0 == UInt8(ascii: "\"") }) {
                return nil
            }
            return JSONTopLevel(shape: .scalar, count: 0, memberHashes: nil)
        }
        let isObject = opening == UInt8(ascii: "{")
        // Open brackets below the top level; the top level's own is `opening`.
        var stack: [UInt8] = []
        var count = 0
        var sawValue = false
        var hashes: [UInt64]? = isObject ? [] : nil
        // In an object at the top level, a string is a name until its ':' is read.
        var expectingName = isObject
        i += 1
        while i < n {
            let b = text[i]
            switch b {
            case UInt8(ascii: "\""):
                guard let close = closingQuote(text, from: i + 1) else { return nil }
                if stack.isEmpty, expectingName {
                    let name = UnsafeRawBufferPointer(rebasing: text[(i + 1)..<close])
                    if name.contains(UInt8(ascii: "\\")) { hashes = nil } else { hashes?.append(elementHash(name)) }
                }
                if stack.isEmpty { sawValue = true }
                i = close + 1
                continue
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if stack.isEmpty { sawValue = true }
                stack.append(b)
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                let expected = b == UInt8(ascii: "}") ? UInt8(ascii: "{") : UInt8(ascii: "[")
                if let open = stack.popLast() {
                    guard open == expected else { return nil }
                } else {
                    guard opening == expected else { return nil }
                    // `[1,]`: a comma promised another value.
                    guard sawValue || count == 0 else { return nil }
                    if sawValue { count += 1 }
                    var j = i + 1
                    while j < n, isSpace(text[j]) { j += 1 }
                    guard j == n else { return nil }
                    return JSONTopLevel(shape: isObject ? .object : .array, count: count, memberHashes: hashes)
                }
            case UInt8(ascii: ","):
                if stack.isEmpty {
                    guard sawValue else { return nil }
                    count += 1
                    sawValue = false
                    expectingName = isObject
                }
            case UInt8(ascii: ":"):
                if stack.isEmpty { expectingName = false }
            default:
                if stack.isEmpty, !isSpace(b) { sawValue = true }
            }
            i += 1
        }
        return nil
    }

    /// The index of the quote that closes a string whose text starts at `from`, skipping
    /// backslash escapes; nil when the text ends first or holds a raw control character
    /// (JSON requires those escaped).
    private static func closingQuote(_ text: UnsafeRawBufferPointer, from: Int) -> Int? {
        var i = from
        while i < text.count {
            switch text[i] {
            case UInt8(ascii: "\""): return i
            case UInt8(ascii: "\\"): i += 2
            case 0..<0x20: return nil
            default: i += 1
            }
        }
        return nil
    }
}
