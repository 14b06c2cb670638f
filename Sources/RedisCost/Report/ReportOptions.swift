/// How a report shows what it found.
public struct ReportOptions: Sendable {
    /// `--redact-keys`: key names become their pattern and a stable hash.
    public var redactKeys = false
    public init(redactKeys: Bool = false) { self.redactKeys = redactKeys }

    public func key(_ bytes: [UInt8]) -> String {
        redactKeys ? KeyText.redacted(bytes) : KeyText.display(bytes)
    }

    public func pattern(_ bytes: [UInt8]) -> String {
        redactKeys ? KeyText.redactedPattern(bytes) : KeyText.display(bytes)
    }
}

extension KeyText {
    /// `user:1234:john@example.com` → `user:*:*#5c1e09a2`: the key's pattern, with only parts
    /// that look like names (letters, digits after a letter, `_`, `-`; at most 24 characters)
    /// kept, and a hash of the whole key that is the same in every report.
    public static func redacted(_ bytes: [UInt8]) -> String {
        let hash = bytes.withUnsafeBytes { elementHash($0) }
        let short = String(hash >> 32, radix: 16).leftPadded(8)
        return redactedPattern(bytes.withUnsafeBytes { KeyPattern.fold($0) }) + "#" + short
    }

    /// A pattern with every part that is not name-like replaced by `*`.
    public static func redactedPattern(_ pattern: [UInt8]) -> String {
        var out: [UInt8] = []
        var part: [UInt8] = []
        func flush() {
            let nameLike = !part.isEmpty && part.count <= 24 && part.allSatisfy { b in
                (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || (b >= 48 && b <= 57) || b == 95 || b == 45 || b == 42
            } && part.first.map { !($0 >= 48 && $0 <= 57) } ?? false
            out += nameLike ? part : (part.isEmpty ? [] : [UInt8(ascii: "*")])
            part.removeAll()
        }
        for b in pattern {
            if KeyPattern.isSeparator(b) {
                flush()
                out.append(b)
            } else {
                part.append(b)
            }
        }
        flush()
        return String(decoding: out, as: UTF8.self)
    }
}
