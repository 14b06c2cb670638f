import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// Writes report values with sorted keys and two-space indentation, so JSON output is stable
/// and diffable. Written by hand: Foundation's serializer needed 13 s and 560 MB for a report
/// of 100,000 calls.
package enum JSONText {
    package static func render<T: Encodable>(_ value: T) -> String {
        let node: JSONNode
        do {
            node = try ReportEncoder.node(value)
        } catch {
            // Report values are plain data: encoding them has nothing that can fail.
            preconditionFailure("a report value failed to encode: \(error)")
        }
        return render(node)
    }

    package static func render(_ node: JSONNode) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        write(node, indent: 0, into: &out)
        out.append(10)
        return String(decoding: out, as: UTF8.self)
    }

    private static func newline(_ indent: Int, into out: inout [UInt8]) {
        out.append(10)
        out.append(contentsOf: repeatElement(32, count: indent))
    }

    private static func write(_ node: JSONNode, indent: Int, into out: inout [UInt8]) {
        switch node {
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (n, member) in object.members.sorted(by: { $0.key < $1.key }).enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 2, into: &out)
                string(member.key, into: &out)
                out.append(contentsOf: " : ".utf8)
                write(member.value, indent: indent + 2, into: &out)
            }
            if object.members.isEmpty { out.append(10) }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "}"))
        case .array(let array):
            out.append(UInt8(ascii: "["))
            for (n, item) in array.items.enumerated() {
                if n > 0 { out.append(UInt8(ascii: ",")) }
                newline(indent + 2, into: &out)
                write(item, indent: indent + 2, into: &out)
            }
            if array.items.isEmpty { out.append(10) }
            newline(indent, into: &out)
            out.append(UInt8(ascii: "]"))
        case .string(let text):
            string(text, into: &out)
        case .bool(let flag):
            out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .int(let n):
            out.append(contentsOf: String(n).utf8)
        case .unsigned(let n):
            out.append(contentsOf: String(n).utf8)
        case .number(let n):
            out.append(contentsOf: number(n).utf8)
        case .null:
            out.append(contentsOf: "null".utf8)
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
