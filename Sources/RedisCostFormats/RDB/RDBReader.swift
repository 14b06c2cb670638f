import RedisCostCore
import RedisCostKeyspace

/// Reads a whole RDB snapshot (rdb.c, rdbLoadRioWithLoadingCtx): the header, then opcodes
/// and key/value pairs until the EOF opcode and its CRC-64 checksum. Keys go to `onKey`; the
/// reader knows nothing about reports or the keyspace.
public struct RDBReader {
    public struct Key {
        public var database: Int
        public var name: UnsafeRawBufferPointer
        public var value: KeyValue
        /// Unix milliseconds, or 0.
        public var expireAt: Int64
        public var encoding: String
        /// Bytes the value takes in the file.
        public var serializedBytes: Int
        /// Where the key's entry (its type byte) starts in the file.
        public var offset: Int
        /// When the server wrote the file (its "ctime" aux field, Unix milliseconds), if the
        /// field came before the key: a loading server drops keys that expired before it.
        public var createdAt: Int64?
    }

    public struct Summary: Sendable {
        /// "REDIS0012", "VALKEY080".
        public var magic: String
        public var version: Int
        /// Offset just past the checksum: where an AOF tail begins in a preamble AOF.
        public var endOffset: Int
        public var checksumVerified: Bool
        public var aux: [String: String] = [:]
        public var keys = 0
    }

    /// The newest versions read (rdb.h's RDB_VERSION: Redis 7.4 to 8.4 write 12, 8.6 writes
    /// 13 with key metadata and streams with IDMP; Valkey 9 writes "VALKEY080"). RDB 14 and
    /// 15 (Redis 8.8+: new stream, array and hash types) are not read. A newer file may hold
    /// what no decoder here knows, so it is named as newer rather than failing later on a
    /// type byte.
    package static let newestRedisVersion = 13
    package static let newestValkeyVersion = 80

    package static func newerVersion(_ version: Int, newest: Int) -> String {
        "RDB version \(version) is newer than the newest this build reads, \(newest)"
    }

    /// Reads `bytes` (a file, or the RDB preamble of an AOF) from `offset`.
    /// `progress` is told the offset reached after each key.
    public static func read(_ bytes: UnsafeRawBufferPointer, file: String, progress: ((Int) -> Void)? = nil,
                            onKey: (Key) throws(InputError) -> Void) throws(InputError) -> Summary {
        var c = ByteCursor(bytes: bytes, file: file)
        let head = try c.take(5, "the RDB header")
        var magic: String
        let version: Int
        if head.elementsEqual("REDIS".utf8) {
            let digits = try c.take(4, "the RDB version")
            magic = "REDIS" + String(decoding: digits, as: UTF8.self)
            guard let v = Int(String(decoding: digits, as: UTF8.self)), v >= 1 else { throw c.fail("bad RDB version", at: 5) }
            guard v <= newestRedisVersion else { throw c.fail(newerVersion(v, newest: newestRedisVersion), at: 5) }
            version = v
        } else if head.elementsEqual("VALKE".utf8), try c.byte("the RDB header") == UInt8(ascii: "Y") {
            let digits = try c.take(3, "the RDB version")
            magic = "VALKEY" + String(decoding: digits, as: UTF8.self)
            guard let v = Int(String(decoding: digits, as: UTF8.self)) else { throw c.fail("bad RDB version", at: 6) }
            guard v <= newestValkeyVersion else { throw c.fail(newerVersion(v, newest: newestValkeyVersion), at: 6) }
            version = v
        } else {
            throw c.fail("not an RDB file (expected \"REDIS\" or \"VALKEY\")", at: 0)
        }
        let valkey = magic.hasPrefix("VALKEY")
        var summary = Summary(magic: magic, version: version, endOffset: 0, checksumVerified: false)
        var database = 0
        var expireAt: Int64 = 0
        var createdAt: Int64?
        // The checksum runs along with the reading, so no byte is visited twice.
        var crc: UInt64 = 0
        var checked = 0
        while true {
            let at = c.offset
            let opcode = try c.byte("an opcode or a value type (the file may be truncated)")
            switch opcode {
            case 0xFF:  // EOF, then (RDB 5+) the CRC-64 of everything before it
                let covered = UnsafeRawBufferPointer(rebasing: bytes[checked..<c.offset])
                if version >= 5 {
                    let stored = try c.littleEndian(UInt64.self, "the checksum")
                    if stored != 0 {
                        let computed = CRC64.checksum(covered, initial: crc)
                        guard computed == stored else {
                            throw c.fail("checksum mismatch: the file says 0x\(String(stored, radix: 16)), its bytes give 0x\(String(computed, radix: 16))", at: at + 1)
                        }
                        summary.checksumVerified = true
                    }
                }
                summary.endOffset = c.offset
                return summary
            case 0xFE:
                // rdbLoad refuses a database the server was not configured with.
                let number = try c.length("a database number")
                guard number < Keyspace.databaseLimit else { throw c.fail("database \(number), beyond the last a server may have (\(Keyspace.databaseLimit - 1))", at: at) }
                database = number
            case 0xFD: expireAt = Int64(try c.littleEndian(UInt32.self, "an expiry in seconds")) * 1000
            case 0xFC: expireAt = try c.milliseconds("an expiry in milliseconds")
            case 0xFB:
                _ = try c.length("a database size hint")
                _ = try c.length("an expires size hint")
            case 0xFA:
                let key = String(decoding: try c.stringBytes("an aux field name"), as: UTF8.self)
                let value = String(decoding: try c.stringBytes("an aux field value"), as: UTF8.self)
                summary.aux[key] = value
                if key == "ctime", let seconds = Int64(value), seconds >= 0, seconds <= Int64.max / 1000 { createdAt = seconds * 1000 }
            case 0xF9: try c.skip(1, "an LFU frequency")
            case 0xF8: _ = try c.length("an LRU idle time")
            case 0xF7: try RDBValueDecoder.skipModuleAux(&c)
            case 0xF6: throw c.fail("function data of a 7.0 release candidate (RDB_OPCODE_FUNCTION_PRE_GA) cannot be read", at: at)
            case 0xF5: try c.skipString("a function library")
            case 0xF4:  // slot info (cluster): slot, keys, expiring keys
                for _ in 0..<3 { _ = try c.length("slot info") }
            case 0xF3: try skipKeyMetadata(&c)
            case 0x6B: _ = try c.unsigned("a Redis Enterprise RAM LRU value")
            case 0x79: _ = try c.unsigned("a Redis Enterprise slot number")
            case _ where !RDBValueDecoder.isValueType(opcode):
                throw c.fail("unknown opcode 0x\(String(opcode, radix: 16, uppercase: true)) (\(opcode)): neither a value type nor an opcode this build reads", at: at)
            default:
                let nameStart = c.offset
                try c.skipString("a key name")
                var nameCursor = ByteCursor(bytes: bytes, file: file, offset: nameStart)
                let valueStart = c.offset
                let decoded = try RDBValueDecoder.decode(type: opcode, &c, valkey: valkey)
                let size = c.offset - valueStart
                try nameCursor.string("a key name") { (name) throws(InputError) -> Void in
                    try onKey(Key(database: database, name: name, value: decoded.value, expireAt: expireAt,
                                  encoding: decoded.encoding, serializedBytes: size, offset: at, createdAt: createdAt))
                }
                summary.keys += 1
                expireAt = 0
                if c.offset - checked >= 1 << 16 {
                    crc = CRC64.checksum(UnsafeRawBufferPointer(rebasing: bytes[checked..<c.offset]), initial: crc)
                    checked = c.offset
                    progress?(checked)
                }
            }
        }
    }

    // MARK: opcodes that carry nothing the model keeps

    /// RDB_OPCODE_KEY_META (243, RDB 13): metadata of the key that follows, as librdb's
    /// parserRaw.c (elementRawKeyMeta) reads it: a class count, then per class a 4-byte class
    /// spec and a module opcode stream up to its EOF. Only skipped: no class adds to a size.
    static func skipKeyMetadata(_ c: inout ByteCursor) throws(InputError) {
        let classes = try c.length("the key metadata's class count")
        for _ in 0..<classes {
            let spec = try c.take(4, "a key metadata class spec")
            let type = ModuleTypeID(name: "key metadata class 0x" + spec.map { String($0, radix: 16) }.joined(), encodingVersion: 0)
            try c.moduleItems(type)
        }
    }

    /// Decodes a DUMP/RESTORE payload: a value type, the value, the RDB version (2 bytes) and
    /// a CRC-64 (8 bytes) of everything before it.
    public static func decodePayload(_ payload: UnsafeRawBufferPointer) throws(InputError) -> KeyValue {
        var c = ByteCursor(bytes: payload, file: "RESTORE payload")
        guard payload.count >= 11 else { throw c.fail("a payload shorter than its footer") }
        let body = UnsafeRawBufferPointer(rebasing: payload[0..<(payload.count - 10)])
        let stored = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: payload.count - 8, as: UInt64.self))
        if stored != 0 {
            let computed = CRC64.checksum(UnsafeRawBufferPointer(rebasing: payload[0..<(payload.count - 8)]))
            guard computed == stored else { throw c.fail("payload checksum mismatch") }
        }
        c = ByteCursor(bytes: body, file: "RESTORE payload")
        let type = try c.byte("the value type")
        // The footer's RDB version: Valkey 9 writes 80 and up.
        let version = UInt16(littleEndian: payload.loadUnaligned(fromByteOffset: payload.count - 10, as: UInt16.self))
        let decoded = try RDBValueDecoder.decode(type: type, &c, valkey: version >= 80)
        guard c.isAtEnd else { throw c.fail("\(c.remaining) bytes after the value") }
        return decoded.value
    }
}
