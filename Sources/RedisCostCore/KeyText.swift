/// Text from the input as a report or a terminal may show it. Valid UTF-8 stays as it is
/// (Korean keys stay readable); control characters (C0, DEL and C1: ESC[2J clears a terminal,
/// a NUL cuts a line short) and bytes that are not valid UTF-8 become `\xHH`.
public enum KeyText {
    /// A name's bytes (a key, a command, a client): `\` becomes `\\` too, so the text tells
    /// which bytes the name has.
    public static func display(_ bytes: [UInt8]) -> String { escaped(bytes, backslash: true) }

    /// A command name the table does not know, as servers spell names: in upper case.
    public static func commandName(_ bytes: [UInt8]) -> String {
        display(bytes.map { $0 >= 97 && $0 <= 122 ? $0 - 32 : $0 })
    }

    /// Text already decoded (a message, a path, a field a server sent), on its way to a
    /// terminal or a markdown file: only its control characters are escaped.
    public static func printable(_ text: String) -> String {
        // Most text has none: C0 and DEL are single bytes, C1 characters start with 0xC2.
        guard text.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 }) else { return text }
        return escaped(Array(text.utf8), backslash: false)
    }

    package static func escaped(_ bytes: [UInt8], backslash: Bool) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let length = sequenceLength(bytes, at: i)
            if length == 0 || isControl(bytes, at: i, length: length) {
                for byte in bytes[i..<(i + max(length, 1))] { out += hex(byte) }
                i += max(length, 1)
                continue
            }
            if length == 1 {
                let b = bytes[i]
                out += backslash && b == UInt8(ascii: "\\") ? "\\\\" : String(Unicode.Scalar(b))
            } else {
                out += String(decoding: bytes[i..<(i + length)], as: UTF8.self)
            }
            i += length
        }
        return out
    }

    /// C0 (below 0x20), DEL, and C1 (U+0080…U+009F, which some terminals obey as ESC sequences).
    package static func isControl(_ b: [UInt8], at i: Int, length: Int) -> Bool {
        length == 1 ? b[i] < 0x20 || b[i] == 0x7F : length == 2 && b[i] == 0xC2 && b[i + 1] < 0xA0
    }

    package static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }

    /// Length of the valid UTF-8 sequence at `i`, or 0 when the byte starts none.
    package static func sequenceLength(_ b: [UInt8], at i: Int) -> Int {
        let first = b[i]
        let length: Int
        switch first {
        case 0x00...0x7F: return 1
        case 0xC2...0xDF: length = 2
        case 0xE0...0xEF: length = 3
        case 0xF0...0xF4: length = 4
        default: return 0
        }
        guard i + length <= b.count else { return 0 }
        for k in 1..<length where b[i + k] & 0xC0 != 0x80 { return 0 }
        if first == 0xE0 && b[i + 1] < 0xA0 { return 0 }
        if first == 0xED && b[i + 1] > 0x9F { return 0 }
        if first == 0xF0 && b[i + 1] < 0x90 { return 0 }
        if first == 0xF4 && b[i + 1] > 0x8F { return 0 }
        return length
    }

    public static func hexString(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        var out = ""
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return out
    }
}
