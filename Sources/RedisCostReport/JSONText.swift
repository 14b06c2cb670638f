import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// Serialises report objects — dictionaries, arrays, strings, numbers, booleans, NSNull — with
/// sorted keys and two-space indentation, so JSON output is stable and diffable. Written by
/// hand: Foundation's serializer needed 13 s and 560 MB for a report of 100,000 calls.
package enum JSONText {
    package static func render(_ object: Any) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        write(object, indent: 0, into: &out)
        out.append(10)
        return String(decoding: out, as: UTF8.self)
    }

    /// `nil` → JSON null.
    package static func orNull(_ value: Any?) -> Any { value ?? NSNull() }

    private static func newline(_ indent: Int, into out: inout [UInt8]) {
        out.append(10)
        out.append(contentsOf: repeatElement(32, count: indent))
    }

    private static func write(_ value: Any, indent: Int, into out: inout [UInt8]) {
        switch value {
        case let dictionary as [String: Any]:
            out.append(UInt8(ascii: "{"))
            for (n, key) in dictionary.keys.sorted().enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 2, into: &out)
                string(key, into: &out)
                out.append(contentsOf: " : ".utf8)
                write(dictionary[key]!, indent: indent + 2, into: &out)
            }
            if dictionary.isEmpty { out.append(10) }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        case let array as [Any]:
            out.append(UInt8(ascii: "["))
            for (n, item) in array.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 2, into: &out)
                write(item, indent: indent + 2, into: &out)
            }
            if array.isEmpty { out.append(10) }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "]"))
        case let text as String:
            string(text, into: &out)
        case let flag as Bool:
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        case let n as Int:
            out.append(contentsOf: String(n).utf8)
        case let n as Int64:
            out.append(contentsOf: String(n).utf8)
        case let n as UInt64:
            out.append(contentsOf: String(n).utf8)
        case let n as Int32:
            out.append(contentsOf: String(n).utf8)
        case let n as Double:
            out.append(contentsOf: number(n).utf8)
        case is NSNull:
            out.append(contentsOf: "null".utf8)
        default:
            string(String(describing: value), into: &out)
        }
    }

    /// Whole numbers without a fraction (4, not 4.0); others to 15 significant digits (what
    /// a double holds exactly: 3294.664, not 3294.6639999999998); JSON has no infinity or NaN.
    package static func number(_ n: Double) -> String {
        guard n.isFinite else { return "null" }
        if n == n.rounded(), abs(n) < 1e15 { return String(Int64(n)) }
        return String(format: "%.15g", n)
    }

    /// Control characters are written as escapes, DEL and C1 (U+0080…U+009F) too: JSON allows
    /// them raw, but a terminal showing the file would obey them.
    private static func string(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var afterC2 = false
        for byte in text.utf8 {
            if afterC2 {
                // A valid string's 0xC2 is always followed by the byte that says which character it is.
                afterC2 = false
                if byte < 0xA0 {
                    escape(byte, into: &out)
                } else {
                    out.append(0xC2)
                    out.append(byte)
                }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: "\\\"".utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: "\\\\".utf8)
            case 10: out.append(contentsOf: "\\n".utf8)
            case 13: out.append(contentsOf: "\\r".utf8)
            case 9: out.append(contentsOf: "\\t".utf8)
            case 0..<32, 0x7F: escape(byte, into: &out)
            case 0xC2: afterC2 = true
            default: out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    /// `\u00XX` for the character U+00XX.
    private static func escape(_ byte: UInt8, into out: inout [UInt8]) {
        out.append(contentsOf: "\\u00".utf8)
        out.append(contentsOf: String(byte, radix: 16).leftPadded(2).utf8)
    }
}
