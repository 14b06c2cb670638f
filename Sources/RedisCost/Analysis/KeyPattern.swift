/// Folds a key name into its pattern: `user:1234:sessions` → `user:*:sessions`. Parts
/// between separators that are numbers, hex strings (8+ characters with a digit) or UUIDs
/// become `*`, so keys of one kind group together. Works on bytes; no String per call.
public enum KeyPattern {
    @inline(__always)
    static func isSeparator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "|"), UInt8(ascii: "#"),
             UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: ";"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: " "): true
        default: false
        }
    }

    public static func fold(_ key: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        fold(key, into: &out)
        return out
    }

    /// Folds into a reused buffer (the analyzer does this once per call).
    public static func fold(_ key: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        var start = 0
        var i = 0
        while i <= key.count {
            if i == key.count || isSeparator(key[i]) {
                let part = UnsafeRawBufferPointer(rebasing: key[start..<i])
                if isVariable(part) {
                    out.append(UInt8(ascii: "*"))
                } else {
                    out.append(contentsOf: part)
                }
                if i < key.count { out.append(key[i]) }
                start = i + 1
            }
            i += 1
        }
    }

    public static func fold(_ key: [UInt8]) -> [UInt8] { key.withUnsafeBytes { fold($0) } }

    static func isVariable(_ part: UnsafeRawBufferPointer) -> Bool {
        guard !part.isEmpty else { return false }
        var digits = 0
        var hex = 0
        var dashes = 0
        for byte in part {
            if byte >= 48 && byte <= 57 { digits += 1; hex += 1 }
            else if (byte | 0x20) >= 97 && (byte | 0x20) <= 102 { hex += 1 }
            else if byte == UInt8(ascii: "-") { dashes += 1 }
            else { return false }
        }
        if digits == part.count { return true }
        if dashes == 0 { return hex == part.count && part.count >= 8 && digits > 0 }
        // A UUID: 8-4-4-4-12 hex digits.
        return dashes == 4 && part.count == 36 && hex == 32
            && [8, 13, 18, 23].allSatisfy { part[$0] == UInt8(ascii: "-") }
    }
}
