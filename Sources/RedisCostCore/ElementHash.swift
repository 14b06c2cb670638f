/// A 64-bit hash of a member, field, list element or key name. The model keeps these
/// identities instead of the bytes: 8 bytes per element whatever its length.
///
/// Integers are hashed as their decimal text, so an intset entry 42 read from an RDB file
/// and the bulk string "42" in an AOF are the same member, as they are in Redis ("042" is a
/// different member: Redis only encodes canonical integers).
@inlinable @inline(__always)
public func elementHash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
    // Eight bytes at a time, multiply-xorshift mixing (in the spirit of wyhash/murmur).
    var h: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(truncatingIfNeeded: bytes.count)
    var i = 0
    let count = bytes.count
    while i + 8 <= count {
        let word = bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)
        h = (h ^ (word &* 0xBF58_476D_1CE4_E5B9)).rotatedLeft(by: 31) &* 0x94D0_49BB_1331_11EB
        i += 8
    }
    if i < count {
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while i < count {
            tail |= UInt64(bytes[i]) << shift
            shift += 8
            i += 1
        }
        h = (h ^ (tail &* 0xBF58_476D_1CE4_E5B9)).rotatedLeft(by: 31) &* 0x94D0_49BB_1331_11EB
    }
    h ^= h >> 30
    h = h &* 0xBF58_476D_1CE4_E5B9
    h ^= h >> 27
    h = h &* 0x94D0_49BB_1331_11EB
    h ^= h >> 31
    return h
}

public func elementHash(_ bytes: [UInt8]) -> UInt64 {
    bytes.withUnsafeBytes { elementHash($0) }
}

/// Identity of a key in a database (proofs of absence, hot keys, samples, rules).
@inlinable @inline(__always)
package func keyIdentity(_ key: UnsafeRawBufferPointer, database: Int) -> UInt64 {
    elementHash(key) &+ UInt64(database) &* 0x9E37_79B9_7F4A_7C15
}

public func elementHash(integer: Int64) -> UInt64 {
    elementHash(Array(String(integer).utf8))
}

extension UInt64 {
    @inlinable @inline(__always)
    package func rotatedLeft(by n: UInt64) -> UInt64 { (self << n) | (self >> (64 - n)) }
}
