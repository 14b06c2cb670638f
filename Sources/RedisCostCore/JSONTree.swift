/// A JSON text parsed into a tree of values, and a `Decoder` over it: what reads the command
/// table (280 KB, read by every run) and the time model's files. Foundation's `JSONDecoder`
/// took about 90M instructions for the table; this takes a small fraction, because an object
/// is a short list of members searched in order (a table entry has a dozen) and nothing is
/// converted before a `Decodable` asks for it.
///
/// Strict: the text must be one JSON value (RFC 8259) in valid UTF-8, nested at most
/// `depthLimit` deep, with nothing after it but white space. A number keeps its text, read as
/// the integer or floating-point type a `Decodable` asks for.
package enum JSONTree: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONTree])
    case object([Member])

    package struct Member: Sendable, Equatable {
        package var key: String
        package var value: JSONTree
        package init(key: String, value: JSONTree) {
            self.key = key
            self.value = value
        }
    }

    /// Where the text stops being JSON: the byte offset and what was expected there.
    package struct SyntaxError: Error, Equatable, CustomStringConvertible {
        package var offset: Int
        package var detail: String
        package var description: String { "at byte \(offset): \(detail)" }
        package init(offset: Int, detail: String) {
            self.offset = offset
            self.detail = detail
        }
    }

    package static let depthLimit = 512

    package static func parse(_ text: String) throws(SyntaxError) -> JSONTree {
        var text = text
        var result: Result<JSONTree, SyntaxError>?
        text.withUTF8 { bytes in
            result = Result { () throws(SyntaxError) -> JSONTree in try parse(UnsafeRawBufferPointer(bytes)) }
        }
        return try result!.get()
    }

    package static func parse(_ bytes: UnsafeRawBufferPointer) throws(SyntaxError) -> JSONTree {
        var parser = Parser(bytes: bytes)
        let value = try parser.value(depth: 0)
        parser.skipSpace()
        guard parser.at == bytes.count else { throw parser.fail("text after the JSON value") }
        return value
    }

    private struct Parser {
        let bytes: UnsafeRawBufferPointer
        var at = 0

        func fail(_ detail: String) -> SyntaxError { SyntaxError(offset: at, detail: detail) }

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        mutating func value(depth: Int) throws(SyntaxError) -> JSONTree {
            skipSpace()
            guard at < bytes.count else { throw fail("a value, found the end of the text") }
            guard depth < JSONTree.depthLimit else { throw fail("values nested more than \(JSONTree.depthLimit) deep") }
            switch bytes[at] {
            case UInt8(ascii: "{"):
                at += 1
                var members: [Member] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "}") { at += 1; return .object(members) }
                while true {
                    skipSpace()
                    guard at < bytes.count, bytes[at] == UInt8(ascii: "\"") else { throw fail("a member name in quotes") }
                    let key = try string()
                    skipSpace()
                    try expect(UInt8(ascii: ":"), "':' after a member name")
                    members.append(Member(key: key, value: try value(depth: depth + 1)))
                    skipSpace()
                    if at < bytes.count, bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect(UInt8(ascii: "}"), "',' or '}' after a member")
                    return .object(members)
                }
            case UInt8(ascii: "["):
                at += 1
                var items: [JSONTree] = []
                skipSpace()
                if at < bytes.count, bytes[at] == UInt8(ascii: "]") { at += 1; return .array(items) }
                while true {
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    if at < bytes.count, bytes[at] == UInt8(ascii: ",") { at += 1; continue }
                    try expect(UInt8(ascii: "]"), "',' or ']' after an element")
                    return .array(items)
                }
            case UInt8(ascii: "\""):
                return .string(try string())
            case UInt8(ascii: "t"): try word("true"); return .bool(true)
            case UInt8(ascii: "f"): try word("false"); return .bool(false)
            case UInt8(ascii: "n"): try word("null"); return .null
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                return .number(try number())
            default:
                throw fail("a value")
            }
        }

        mutating func expect(_ byte: UInt8, _ what: String) throws(SyntaxError) {
            guard at < bytes.count, bytes[at] == byte else { throw fail(what) }
            at += 1
        }

        mutating func word(_ text: StaticString) throws(SyntaxError) {
            let count = text.utf8CodeUnitCount
            guard bytes.count - at >= count else { throw fail("a value") }
            for k in 0..<count where bytes[at + k] != text.utf8Start[k] { throw fail("a value") }
            at += count
        }

        /// -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?, as written.
        mutating func number() throws(SyntaxError) -> String {
            let start = at
            func digits() -> Int {
                let first = at
                while at < bytes.count, bytes[at] &- 48 < 10 { at += 1 }
                return at - first
            }
            if bytes[at] == UInt8(ascii: "-") { at += 1 }
            let whole = at
            // (No leading zero: "012" is not JSON.)
            guard digits() > 0, bytes[whole] != UInt8(ascii: "0") || at - whole == 1 else { throw SyntaxError(offset: start, detail: "a number") }
            if at < bytes.count, bytes[at] == UInt8(ascii: ".") {
                at += 1
                guard digits() > 0 else { throw fail("digits after a decimal point") }
            }
            if at < bytes.count, bytes[at] | 0x20 == UInt8(ascii: "e") {
                at += 1
                if at < bytes.count, bytes[at] == UInt8(ascii: "+") || bytes[at] == UInt8(ascii: "-") { at += 1 }
                guard digits() > 0 else { throw fail("digits in an exponent") }
            }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<at]), as: UTF8.self)
        }

        /// A string from its opening quote; escapes decoded, the bytes checked as UTF-8.
        mutating func string() throws(SyntaxError) -> String {
            at += 1
            let start = at
            // Most strings have no escape: their bytes are the string.
            while at < bytes.count, bytes[at] != UInt8(ascii: "\""), bytes[at] != UInt8(ascii: "\\"), bytes[at] >= 0x20 { at += 1 }
            if at < bytes.count, bytes[at] == UInt8(ascii: "\"") {
                let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<at])
                at += 1
                return try text(raw, at: start)
            }
            var decoded = Array(bytes[start..<at])
            while true {
                guard at < bytes.count else { throw fail("a closing quote") }
                let byte = bytes[at]
                if byte == UInt8(ascii: "\"") { at += 1; break }
                guard byte >= 0x20 else { throw fail("a control character escaped in a string") }
                guard byte == UInt8(ascii: "\\") else { decoded.append(byte); at += 1; continue }
                at += 1
                guard at < bytes.count else { throw fail("an escape") }
                let escape = bytes[at]
                at += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): decoded.append(escape)
                case UInt8(ascii: "b"): decoded.append(0x08)
                case UInt8(ascii: "f"): decoded.append(0x0C)
                case UInt8(ascii: "n"): decoded.append(0x0A)
                case UInt8(ascii: "r"): decoded.append(0x0D)
                case UInt8(ascii: "t"): decoded.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4()
                    if (0xD800..<0xDC00).contains(scalar) {
                        // A high surrogate: its low one must follow.
                        guard bytes.count - at >= 2, bytes[at] == UInt8(ascii: "\\"), bytes[at + 1] == UInt8(ascii: "u") else { throw fail("a low surrogate after a high one") }
                        at += 2
                        let low = try hex4()
                        guard (0xDC00..<0xE000).contains(low) else { throw fail("a low surrogate after a high one") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    }
                    guard let unicode = Unicode.Scalar(scalar) else { throw fail("a Unicode scalar, not a lone surrogate") }
                    decoded.append(contentsOf: String(Character(unicode)).utf8)
                default:
                    throw fail("an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)")
                }
            }
            var result: Result<String, SyntaxError>?
            decoded.withUnsafeBytes { raw in result = Result { () throws(SyntaxError) -> String in try text(raw, at: start) } }
            return try result!.get()
        }

        func text(_ raw: UnsafeRawBufferPointer, at offset: Int) throws(SyntaxError) -> String {
            // ASCII, nearly every string here, is valid as it is; the rest is checked.
            if !raw.contains(where: { $0 >= 0x80 }) { return String(decoding: raw, as: UTF8.self) }
            guard let text = String(validating: raw, as: UTF8.self) else { throw SyntaxError(offset: offset, detail: "a string that is not valid UTF-8") }
            return text
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard bytes.count - at >= 4 else { throw fail("four hex digits") }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[at]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail("four hex digits")
                }
                value = value << 4 | UInt32(digit)
                at += 1
            }
            return value
        }
    }
}

// MARK: - Decoding

extension JSONTree {
    /// `T` as its `Decodable` reads `self`. Mismatches are `DecodingError`s with the coding
    /// path, as `JSONDecoder` gives them.
    package func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try TreeDecoder(value: self, codingPath: []).decode(type)
    }

    fileprivate var kind: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

private struct TreeDecoder: Decoder, SingleValueDecodingContainer {
    let value: JSONTree
    /// The path to the container holding the value, and the value's key in it: the path is
    /// made only when asked (an error, a nested container), not for every scalar.
    let parentPath: [any CodingKey]
    let key: (any CodingKey)?
    var codingPath: [any CodingKey] { key.map { parentPath + [$0] } ?? parentPath }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(value: JSONTree, codingPath: [any CodingKey]) {
        self.init(value: value, in: codingPath, key: nil)
    }

    init(value: JSONTree, in parentPath: [any CodingKey], key: (any CodingKey)?) {
        self.value = value
        self.parentPath = parentPath
        self.key = key
    }

    func mismatch<T>(_ type: T.Type, _ expected: String) -> DecodingError {
        .typeMismatch(type, .init(codingPath: codingPath, debugDescription: "Expected \(expected) but found \(value.kind) instead."))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let members) = value else { throw mismatch([String: Any].self, "an object") }
        return KeyedDecodingContainer(KeyedContainer<Key>(members: members, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch([Any].self, "an array") }
        return UnkeyedContainer(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { self }

    func decodeNil() -> Bool { value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let flag) = value else { throw mismatch(type, "a boolean") }
        return flag
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let text) = value else { throw mismatch(type, "a string") }
        return text
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let text) = value else { throw mismatch(type, "a number") }
        guard let number = Double(text), number.isFinite else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(text) does not fit in Double."))
        }
        return number
    }

    func decode(_ type: Float.Type) throws -> Float {
        let number = try decode(Double.self)
        guard let float = Float(exactly: number) ?? (abs(number) <= Double(Float.greatestFiniteMagnitude) ? Float(number) : nil) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(number) does not fit in Float."))
        }
        return float
    }

    func integer<I: FixedWidthInteger>(_ type: I.Type) throws -> I {
        guard case .number(let text) = value else { throw mismatch(type, "a number") }
        guard let integer = I(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "Number \(text) is not representable in \(I.self)."))
        }
        return integer
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        // The scalars by their own methods (a `Decodable` scalar's init would ask for a single
        // value container and land here again).
        // (Compared by identity and cast bit for bit: a dynamic cast looks the conformance up.)
        if T.self == String.self { return unsafeBitCast(try decode(String.self), to: T.self) }
        if T.self == Int.self { return unsafeBitCast(try decode(Int.self), to: T.self) }
        if T.self == Bool.self { return unsafeBitCast(try decode(Bool.self), to: T.self) }
        if T.self == Double.self { return unsafeBitCast(try decode(Double.self), to: T.self) }
        return try T(from: self)
    }
}

private struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let members: [JSONTree.Member]
    let codingPath: [any CodingKey]

    var allKeys: [Key] { members.compactMap { Key(stringValue: $0.key) } }

    /// The member named `key`; the last one when a name repeats, as `JSONDecoder` takes it.
    func find(_ key: Key) -> JSONTree? {
        let name = key.stringValue
        for member in members.reversed() where member.key == name { return member.value }
        return nil
    }

    func contains(_ key: Key) -> Bool { find(key) != nil }

    func node(_ key: Key) throws -> TreeDecoder {
        guard let value = find(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \"\(key.stringValue)\"."))
        }
        return TreeDecoder(value: value, in: codingPath, key: key)
    }

    func decodeNil(forKey key: Key) throws -> Bool { try node(key).decodeNil() }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try node(key).decode(type) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try node(key).decode(type) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try node(key).decode(type) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try node(key).decode(type) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try node(key).decode(type) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try node(key).decode(type) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try node(key).decode(type) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try node(key).decode(type) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try node(key).decode(type) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try node(key).decode(type) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try node(key).decode(type) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try node(key).decode(type) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try node(key).decode(type) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try node(key).decode(type) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try node(key).decode(type) }

    // One search of the members each (the protocol's own asks `contains`, `decodeNil`, then `decode`).
    func present(_ key: Key) -> TreeDecoder? {
        guard let value = find(key), value != .null else { return nil }
        return TreeDecoder(value: value, in: codingPath, key: key)
    }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try present(key)?.decode(type) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try present(key)?.decode(type) }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try present(key)?.decode(type) }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try node(key).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer { try node(key).unkeyedContainer() }
    func superDecoder() throws -> any Decoder { TreeDecoder(value: .object(members), codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try node(key) }
}

private struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONTree]
    let codingPath: [any CodingKey]
    var currentIndex = 0

    init(items: [JSONTree], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    private struct Index: CodingKey {
        var intValue: Int?
        var stringValue: String { "Index \(intValue ?? 0)" }
        init(_ index: Int) { intValue = index }
        init?(stringValue: String) { nil }
        init?(intValue: Int) { self.intValue = intValue }
    }

    /// The next element, consumed.
    mutating func next<T>(_ type: T.Type) throws -> TreeDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: codingPath + [Index(currentIndex)], debugDescription: "Unkeyed container is at end."))
        }
        defer { currentIndex += 1 }
        return TreeDecoder(value: items[currentIndex], in: codingPath, key: Index(currentIndex))
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try next(type).decode(type) }
    mutating func decode(_ type: String.Type) throws -> String { try next(type).decode(type) }
    mutating func decode(_ type: Double.Type) throws -> Double { try next(type).decode(type) }
    mutating func decode(_ type: Float.Type) throws -> Float { try next(type).decode(type) }
    mutating func decode(_ type: Int.Type) throws -> Int { try next(type).decode(type) }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try next(type).decode(type) }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try next(type).decode(type) }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try next(type).decode(type) }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try next(type).decode(type) }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try next(type).decode(type) }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try next(type).decode(type) }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try next(type).decode(type) }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try next(type).decode(type) }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try next(type).decode(type) }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next(type).decode(type) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next([String: Any].self).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next([Any].self).unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next(Any.self) }
}
