/// Key names as text for reports: valid UTF-8 stays as it is (Korean keys stay readable);
/// each byte that is not valid UTF-8 or is a control character becomes `\xHH`.
public enum KeyText {
    public static func display(_ bytes: [UInt8]) -> String {
        var out = ""
        var i = 0
        while i < bytes.count {
            let length = sequenceLength(bytes, at: i)
            if length == 0 {
                out += hex(bytes[i])
                i += 1
                continue
            }
            if length == 1 {
                let b = bytes[i]
                if b < 0x20 || b == 0x7F || b == UInt8(ascii: "\\") {
                    out += b == UInt8(ascii: "\\") ? "\\\\" : hex(b)
                } else {
                    out.unicodeScalars.append(Unicode.Scalar(b))
                }
            } else {
                out += String(decoding: bytes[i..<(i + length)], as: UTF8.self)
            }
            i += length
        }
        return out
    }

    static func hex(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef")
        return "\\x" + String(digits[Int(byte >> 4)]) + String(digits[Int(byte & 15)])
    }

    /// Length of the valid UTF-8 sequence at `i`, or 0 when the byte starts none.
    static func sequenceLength(_ b: [UInt8], at i: Int) -> Int {
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
