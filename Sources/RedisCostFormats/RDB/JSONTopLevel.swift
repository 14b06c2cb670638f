import RedisCostCore
import RedisCostKeyspace

/// The member count of a JSON document's outermost object or array, as JSON.OBJLEN and
/// JSON.ARRLEN report it for the root, read from the text RedisJSON saves (serde_json's).
/// One pass, no recursion: nesting is a stack of one flag per open level, so hostile text
/// costs at most its own length. Anything that is not one well-nested object or array (a scalar root,
/// an unterminated string, a stray bracket, text after the root) is nil: the size stays
/// unknown rather than guessed.
package enum JSONTopLevel {
    package static func memberCount(_ text: UnsafeRawBufferPointer) -> Int? {
        var scanner = Scanner()
        for byte in text {
            guard scanner.take(byte) else { return nil }
        }
        return scanner.finished ? scanner.members : nil
    }

    private struct Scanner {
        /// true for an object, false for an array, one per open level; empty before the root
        /// and after it closes.
        var open: [Bool] = []
        var rootClosed = false
        var inString = false
        var escaped = false
        /// At the root's level: members ended by a comma, and whether the current one has begun.
        var members = 0
        var memberBegun = false

        var finished: Bool { rootClosed && !inString }

        /// Takes one byte; false when the text cannot be a well-nested document.
        mutating func take(_ byte: UInt8) -> Bool {
            if inString { return stringByte(byte) }
            switch byte {
            case 0x20, 0x09, 0x0A, 0x0D: return true
            case _ where rootClosed: return false
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                if !open.isEmpty { beginMember() }
                open.append(byte == UInt8(ascii: "{"))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                guard let isObject = open.popLast(), isObject == (byte == UInt8(ascii: "}")) else { return false }
                if open.isEmpty {
                    // "[1,]" has a comma with nothing after it.
                    guard memberBegun || members == 0 else { return false }
                    if memberBegun { members += 1 }
                    rootClosed = true
                }
            case _ where open.isEmpty:
                return false  // a scalar root, or text before the root
            case UInt8(ascii: ","):
                if open.count == 1 {
                    guard memberBegun else { return false }
                    members += 1
                    memberBegun = false
                }
            case UInt8(ascii: "\""):
                beginMember()
                inString = true
            default:
                beginMember()
            }
            return true
        }

        mutating func beginMember() {
            if open.count == 1 { memberBegun = true }
        }

        /// A byte inside a string: a backslash escapes the next byte, a bare quote ends it,
        /// and JSON allows no raw control characters there.
        mutating func stringByte(_ byte: UInt8) -> Bool {
            if escaped {
                escaped = false
            } else if byte == UInt8(ascii: "\\") {
                escaped = true
            } else if byte == UInt8(ascii: "\"") {
                inString = false
            } else if byte < 0x20 {
                return false
            }
            return true
        }
    }
}
