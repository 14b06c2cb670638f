import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// How a report shows what it found.
public struct ReportOptions: Sendable {
    /// `--redact-keys`: no name from the input is printed — keys, key patterns, SCAN MATCH
    /// patterns, channels, functions, scripts — only their shape and hashes.
    public var redactKeys = false
    public init(redactKeys: Bool = false) { self.redactKeys = redactKeys }

    /// A key, or any other name from the input (a pattern a call gave, a channel, a function).
    public func key(_ bytes: [UInt8]) -> String {
        redactKeys ? KeyText.redacted(bytes) : KeyText.display(bytes)
    }

    /// A key pattern (`KeyPattern.fold`): names of one kind have one pattern, redacted or not.
    public func pattern(_ bytes: [UInt8]) -> String {
        redactKeys ? KeyText.redactedPattern(bytes) : KeyText.display(bytes)
    }

    public func note(_ note: Note) -> String {
        note.parts.map { part in
            switch part {
            case .text(let text): text
            case .name(let bytes): key(bytes)
            case .excerpt(let bytes): redactKeys ? "(not shown: --redact-keys)" : KeyText.display(bytes)
            }
        }.joined()
    }
}

extension KeyText {
    /// `user:1234:sessions` → `wd398a2:*:w7d2408#54c1fe0c`: the key's pattern with every word
    /// replaced (`redactedPattern`), and the first 8 hex digits of a 64-bit hash of the whole
    /// name, the same in every report, so one key can be followed across reports.
    public static func redacted(_ bytes: [UInt8]) -> String {
        redactedPattern(bytes.withUnsafeBytes { KeyPattern.fold($0) }) + "#" + hashText(elementHash(bytes), digits: 8)
    }

    /// A pattern with only its separators and `*` kept: each part between them becomes `w`
    /// and 6 hex digits of its hash, whatever it holds (`secret`, `acct4242`, `john`), so no
    /// text of the name is left while keys of one pattern still show one pattern.
    public static func redactedPattern(_ pattern: [UInt8]) -> String {
        var out = ""
        var start = 0
        for i in 0...pattern.count {
            guard i == pattern.count || pattern[i] == UInt8(ascii: "*") || KeyPattern.isSeparator(pattern[i]) else { continue }
            if i > start { out += "w" + hashText(elementHash(Array(pattern[start..<i])), digits: 6) }
            if i < pattern.count { out += display([pattern[i]]) }
            start = i + 1
        }
        return out
    }

    /// The top `digits` hex digits of a hash.
    package static func hashText(_ hash: UInt64, digits: Int) -> String {
        String(hash >> UInt64(64 - 4 * digits), radix: 16).leftPadded(digits)
    }
}
