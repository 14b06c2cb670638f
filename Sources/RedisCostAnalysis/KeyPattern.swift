import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Folds a key name into its pattern: `user:1234:sessions` → `user:*:sessions`,
/// `celery-task-meta-<uuid>` → `celery-task-meta-*`, `api-window@1700000000` → `api-window@*`.
/// Parts that are numbers, hex strings (8+ characters with a digit) or UUIDs become `*`,
/// whatever separates them, so keys of one kind group together. Works on bytes; no String
/// per call.
public enum KeyPattern {
    /// Bytes that separate the parts of a name. `-` is one too (`celery-task-meta-…`), so a
    /// UUID, whose own dashes would split it, is recognised before parts are cut.
    @inline(__always)
    package static func isSeparator(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "|"), UInt8(ascii: "#"),
             UInt8(ascii: ","), UInt8(ascii: "="), UInt8(ascii: ";"), UInt8(ascii: "{"), UInt8(ascii: "}"), UInt8(ascii: " "),
             UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "@"), UInt8(ascii: "+"), UInt8(ascii: "$"), UInt8(ascii: "!"),
             UInt8(ascii: "~"), UInt8(ascii: "?"), UInt8(ascii: "&"), UInt8(ascii: "%"), UInt8(ascii: "("), UInt8(ascii: ")"),
             UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "<"), UInt8(ascii: ">"), UInt8(ascii: "'"), UInt8(ascii: "\""),
             UInt8(ascii: "\t"):
            true
        // Control bytes separate too: kombu names its priority queues `celery\x06\x163`.
        case 0..<0x20, 0x7F: true
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
            if i == start, uuidLength(key, at: i) > 0 {
                out.append(UInt8(ascii: "*"))
                i += 36
                start = i
                continue
            }
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

    /// 36 when a UUID (8-4-4-4-12 hex digits) starts at `i` and ends at the name's end or a
    /// separator, else 0.
    @inline(__always)
    package static func uuidLength(_ key: UnsafeRawBufferPointer, at i: Int) -> Int {
        guard key.count - i >= 36 else { return 0 }
        for k in 0..<36 {
            let byte = key[i + k]
            if k == 8 || k == 13 || k == 18 || k == 23 {
                if byte != UInt8(ascii: "-") { return 0 }
            } else if !isHexDigit(byte) {
                return 0
            }
        }
        return i + 36 == key.count || isSeparator(key[i + 36]) ? 36 : 0
    }

    @inline(__always)
    package static func isHexDigit(_ byte: UInt8) -> Bool {
        (byte >= 48 && byte <= 57) || ((byte | 0x20) >= 97 && (byte | 0x20) <= 102)
    }

    /// A number, or a hex string of 8+ characters with at least one digit (ids, hashes,
    /// Dramatiq's message ids). Words (`default`, `beef`) stay.
    package static func isVariable(_ part: UnsafeRawBufferPointer) -> Bool {
        guard !part.isEmpty else { return false }
        var digits = 0
        for byte in part {
            if byte >= 48 && byte <= 57 { digits += 1 } else if !isHexDigit(byte) { return false }
        }
        return digits == part.count || (part.count >= 8 && digits > 0)
    }
}

/// Figures per key pattern, one entry per pattern up to `limit` patterns; later new patterns
/// share one "(other patterns)" entry (keys whose names do not fold, random words, would
/// otherwise make one pattern per key). Used by the calls' aggregation and by a snapshot's
/// profile.
package struct PatternTable<Stats> {
    private var index = IdentityMap()
    /// The figures of each entry, at the index `entry` gave it.
    package var stats: [Stats] = []
    package let limit: Int

    package init(limit: Int) { self.limit = limit }

    /// The entry of the pattern `pattern` (a folded key name), made by `make` the first time.
    package mutating func entry(_ pattern: [UInt8], make: ([UInt8]) -> Stats) -> Int {
        let hash = pattern.withUnsafeBytes { elementHash($0) }
        if let known = index[hash] { return known }
        if stats.count < limit { return intern(hash, in: &index, &stats) { make(pattern) } }
        return intern(0, in: &index, &stats) { make(Array("(other patterns)".utf8)) }
    }
}
