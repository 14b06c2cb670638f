import RedisCostCore
import RedisCostKeyspace

/// A RESP2/RESP3 value. Bulk strings stay bytes: keys and values are binary.
public enum RESPValue: Sendable, Equatable {
    case simple(String)
    case error(String)
    case integer(Int64)
    case bulk([UInt8])
    case null
    case array([RESPValue])
    /// RESP3 maps arrive as key/value pairs in order.
    case map([(RESPValue, RESPValue)])
    case double(Double)
    case boolean(Bool)

    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simple(let a), .simple(let b)), (.error(let a), .error(let b)): a == b
        case (.integer(let a), .integer(let b)): a == b
        case (.bulk(let a), .bulk(let b)): a == b
        case (.null, .null): true
        case (.array(let a), .array(let b)): a == b
        case (.map(let a), .map(let b)): a.count == b.count && zip(a, b).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        case (.double(let a), .double(let b)): a == b
        case (.boolean(let a), .boolean(let b)): a == b
        default: false
        }
    }

    /// What kind of reply this is, for messages about a reply of the wrong kind.
    public var kind: String {
        switch self {
        case .simple: "a status reply"
        case .error: "an error reply"
        case .integer: "an integer"
        case .bulk: "a bulk string"
        case .null: "a null"
        case .array: "an array"
        case .map: "a map"
        case .double: "a double"
        case .boolean: "a boolean"
        }
    }

    /// Text of a simple or bulk string (lossy for invalid UTF-8).
    public var text: String? {
        switch self {
        case .simple(let s): s
        case .bulk(let b): String(decoding: b, as: UTF8.self)
        default: nil
        }
    }

    public var int: Int? {
        switch self {
        case .integer(let n): Int(n)
        case .bulk, .simple: text.flatMap { Int($0) }
        default: nil
        }
    }

    public var array: [RESPValue]? {
        if case .array(let a) = self { return a }
        if case .map(let pairs) = self { return pairs.flatMap { [$0.0, $0.1] } }
        return nil
    }

    /// A flat `[name, value, name, value…]` array (RESP2 maps) or a RESP3 map, keyed by name.
    public var fields: [String: RESPValue]? {
        guard let items = array, items.count % 2 == 0 else { return nil }
        var result: [String: RESPValue] = [:]
        var i = 0
        while i < items.count {
            if let key = items[i].text { result[key] = items[i + 1] }
            i += 2
        }
        return result
    }

    public var strings: [String]? { array?.compactMap(\.text) }
}

/// Encodes a command as a RESP array of bulk strings.
public func encodeCommand(_ argv: [[UInt8]], into buffer: inout [UInt8]) {
    buffer.append(UInt8(ascii: "*"))
    buffer.append(contentsOf: Array(String(argv.count).utf8))
    buffer.append(contentsOf: [13, 10])
    for argument in argv {
        buffer.append(UInt8(ascii: "$"))
        buffer.append(contentsOf: Array(String(argument.count).utf8))
        buffer.append(contentsOf: [13, 10])
        buffer.append(contentsOf: argument)
        buffer.append(contentsOf: [13, 10])
    }
}
