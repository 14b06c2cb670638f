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
        // Two 64-bit masks (bytes 0–63, 64–127) instead of a switch: fold asks for every byte
        // of every key.
        byte < 64 ? (separatorsBelow64 >> UInt64(byte)) & 1 != 0
            : byte < 128 ? (separatorsFrom64 >> UInt64(byte - 64)) & 1 != 0 : false
    }

    /// The separators: `: / . | # , = ; { } space - _ @ + $ ! ~ ? & % ( ) [ ] < > ' "`, tab,
    /// and the control bytes (kombu names its priority queues `celery\x06\x163`) and DEL.
    package static let separatorBytes: [UInt8] = Array(":/.|#,=;{} -_@+$!~?&%()[]<>'\"\t".utf8) + Array(0..<0x20) + [0x7F]
    /// `separatorBytes` as bits (KeyPatternTests checks they agree): constants, so the test
    /// of a byte is a shift and an and, with no lazy global behind it.
    package static let separatorsBelow64: UInt64 = 0xfc00_fbff_ffff_ffff
    package static let separatorsFrom64: UInt64 = 0xf800_0000_a800_0001

    public static func fold(_ key: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        fold(key, into: &out)
        return out
    }

    /// Folds into a reused buffer (the analyzer does this once per call).
    public static func fold(_ key: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        out.removeAll(keepingCapacity: true)
        guard key.count > 0 else { return }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: key.count) { buffer in
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[0..<fold(key, room: buffer)]))
        }
    }

    /// Folds `key` into the start of `room`, which holds at least `key.count` bytes (a pattern
    /// is never longer than its name), and returns the pattern's length: no array is touched,
    /// for a caller that folds millions of names (a snapshot's keys). (A buffer pointer, not a
    /// pointer: `&array` must not convert to it.) One pass, a part at a time: a UUID where a
    /// part starts, else the part's bytes up to the next separator, its digits and hex digits
    /// counted as they go by.
    public static func fold(_ key: UnsafeRawBufferPointer, room: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let count = key.count
        precondition(room.count >= count, "a pattern needs room for the whole name")
        guard count > 0, let name = key.baseAddress, let pattern = room.baseAddress else { return 0 }
        var n = 0
        var i = 0
        while true {
            if count - i >= 36, uuidLength(key, at: i) > 0 {
                pattern[n] = UInt8(ascii: "*")
                n += 1
                i += 36
            } else {
                let start = i
                var digits = 0
                var hexOnly = true
                while i < count {
                    let byte = key[i]
                    if isSeparator(byte) { break }
                    if byte &- 48 < 10 { digits += 1 } else if !isHexDigit(byte) { hexOnly = false }
                    i += 1
                }
                let length = i - start
                // A number, or a hex string of 8+ characters with at least one digit (ids,
                // hashes, Dramatiq's message ids); words (`default`, `beef`) stay.
                if length > 0, hexOnly, digits == length || (length >= 8 && digits > 0) {
                    pattern[n] = UInt8(ascii: "*")
                    n += 1
                } else if length > 0 {
                    UnsafeMutableRawPointer(pattern + n).copyMemory(from: name + start, byteCount: length)
                    n += length
                }
            }
            // The separator after the part, as it is.
            guard i < count else { return n }
            pattern[n] = key[i]
            n += 1
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
        pattern.withUnsafeBytes { entry($0, make: make) }
    }

    package mutating func entry(_ pattern: UnsafeRawBufferPointer, make: ([UInt8]) -> Stats) -> Int {
        let hash = elementHash(pattern)
        if let known = index[hash] { return known }
        if stats.count < limit { return intern(hash, in: &index, &stats) { make(Array(pattern)) } }
        return intern(0, in: &index, &stats) { make(Array("(other patterns)".utf8)) }
    }
}
