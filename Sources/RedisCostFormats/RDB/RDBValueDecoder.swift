import RedisCostCore
import RedisCostKeyspace

/// One decoder per RDB value type and encoding (rdb.h's RDB_TYPE_*), each producing the
/// replay model's value: element identities, list order, scores, stream IDs.
package enum RDBValueDecoder {
    package struct Decoded {
        package var value: KeyValue
        /// The RDB encoding's name, for the data-set profile ("listpack", "intset", …).
        package var encoding: String
    }

    /// `valkey`: the file (or payload) was written by Valkey 9+, whose type 22 is its own
    /// hash with field expiries, where Redis's 22 is a 7.4 release candidate's.
    package static func decode(type: UInt8, _ c: inout ByteCursor, valkey: Bool = false) throws(InputError) -> Decoded {
        if valkey && type == 22 { return try valkeyHashWithFieldExpiries(&c) }
        switch type {
        case 0: return try string(&c)
        case 1: return try linkedList(&c)
        case 2: return try rawSet(&c)
        case 3: return try rawSortedSet(&c, binaryScores: false)
        case 4: return try rawHash(&c)
        case 5: return try rawSortedSet(&c, binaryScores: true)
        case 7: return try module(&c)
        case 9: return try zipmapHash(&c)
        case 10: return try packedList(&c, ziplist: true)
        case 11: return try intsetSet(&c)
        case 12: return try packedSortedSet(&c, ziplist: true)
        case 13: return try packedHash(&c, ziplist: true, fieldsPerEntry: 2)
        case 14: return try quicklist(&c)
        case 15, 19, 21, 26: return try stream(&c, version: type == 15 ? 1 : type == 19 ? 2 : type == 21 ? 3 : 4)
        case 16: return try packedHash(&c, ziplist: false, fieldsPerEntry: 2)
        case 17: return try packedSortedSet(&c, ziplist: false)
        case 18: return try quicklist2(&c)
        case 20: return try listpackSet(&c)
        case 22: return try hashWithFieldTTLs(&c, hasMinExpire: false)
        case 23: return try packedHash(&c, ziplist: false, fieldsPerEntry: 3)
        case 24: return try hashWithFieldTTLs(&c, hasMinExpire: true)
        case 25:
            _ = try c.milliseconds("the hash's next field expiry")
            return try packedHash(&c, ziplist: false, fieldsPerEntry: 3)
        case 6: throw c.fail("a module value of a 4.0 release candidate (RDB_TYPE_MODULE_PRE_GA) cannot be read", at: c.offset - 1)
        default: throw c.fail("unknown value type \(type)", at: c.offset - 1)
        }
    }

    /// Whether `type` is a value type this decoder knows (rdb.h's RDB_TYPE_*, 0 to 26 but 8;
    /// 6 is known only to be refused), so that another byte where a type or opcode belongs
    /// is named as an unknown opcode before a key name is read.
    package static func isValueType(_ type: UInt8) -> Bool {
        type <= 26 && type != 8
    }

    /// Walks a blob string with a packed-encoding walker, reporting problems at the blob.
    package static func blob(_ c: inout ByteCursor, _ what: String, _ walk: (UnsafeRawBufferPointer) throws(BlobError) -> Void) throws(InputError) {
        let before = c
        try c.string(what) { (raw) throws(InputError) -> Void in
            do throws(BlobError) {
                try walk(raw)
            } catch {
                throw before.fail("corrupt \(error.detail)")
            }
        }
    }

    // MARK: RDB_TYPE_STRING

    package static func string(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let value = try c.string("a string value") { (raw) throws(InputError) -> KeyValue in .string(length: raw.count, integer: integerValue(raw)) }
        return Decoded(value: value, encoding: "string")
    }

    // MARK: RDB_TYPE_LIST, _SET, _ZSET, _ZSET_2, _HASH (one element per RDB string)

    package static func linkedList(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let n = try c.length("a list's length")
        var list = IdentityList()
        for _ in 0..<n { list.pushBack(try c.string("a list element") { (raw) throws(InputError) -> UInt64 in elementHash(raw) }) }
        return Decoded(value: .list(list), encoding: "linkedlist")
    }

    package static func rawSet(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let n = try c.length("a set's size")
        var set = IdentitySet()
        for _ in 0..<n { set.insert(try c.string("a set member") { (raw) throws(InputError) -> UInt64 in elementHash(raw) }) }
        return Decoded(value: .set(set), encoding: "hashtable")
    }

    package static func rawSortedSet(_ c: inout ByteCursor, binaryScores: Bool) throws(InputError) -> Decoded {
        let n = try c.length("a sorted set's size")
        // Built at once: one by one, the members (listed from the highest score down) would all
        // go to the front of the order.
        var entries: [ScoredMembers.Entry] = []
        for _ in 0..<n {
            let member = try c.string("a sorted set member") { (raw) throws(InputError) -> UInt64 in elementHash(raw) }
            entries.append(ScoredMembers.Entry(score: binaryScores ? try c.binaryDouble() : try c.textDouble(), member: member))
        }
        return Decoded(value: .zset(ScoredMembers(entries)), encoding: "skiplist")
    }

    package static func rawHash(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let n = try c.length("a hash's size")
        var fields = IdentitySet()
        for _ in 0..<n {
            fields.insert(try c.string("a hash field") { (raw) throws(InputError) -> UInt64 in elementHash(raw) })
            try c.skipString("a hash value")
        }
        return Decoded(value: .hash(fields), encoding: "hashtable")
    }

    // MARK: RDB_TYPE_HASH_METADATA(_PRE_GA): (ttl, field, value) per field

    package static func hashWithFieldTTLs(_ c: inout ByteCursor, hasMinExpire: Bool) throws(InputError) -> Decoded {
        if hasMinExpire { _ = try c.milliseconds("the hash's next field expiry") }
        let n = try c.length("a hash's size")
        var fields = IdentitySet()
        for _ in 0..<n {
            _ = try c.length("a field's expiry")
            fields.insert(try c.string("a hash field") { (raw) throws(InputError) -> UInt64 in elementHash(raw) })
            try c.skipString("a hash value")
        }
        return Decoded(value: .hash(fields), encoding: "hashtable")
    }

    // MARK: Valkey 9's RDB_TYPE_HASH_2: (field, value, 8-byte expiry or -1) per field

    package static func valkeyHashWithFieldExpiries(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let n = try c.length("a hash's size")
        var fields = IdentitySet()
        for _ in 0..<n {
            fields.insert(try c.string("a hash field") { (raw) throws(InputError) -> UInt64 in elementHash(raw) })
            try c.skipString("a hash value")
            _ = try c.milliseconds("a field's expiry")
        }
        return Decoded(value: .hash(fields), encoding: "hashtable")
    }

    // MARK: compact encodings in a blob

    package static func zipmapHash(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        var fields = IdentitySet()
        try blob(&c, "zipmap") { (raw) throws(BlobError) -> Void in
            try Zipmap.forEachPair(raw) { (key, _) throws(BlobError) -> Void in fields.insert(elementHash(key)) }
        }
        return Decoded(value: .hash(fields), encoding: "zipmap")
    }

    package static func packedList(_ c: inout ByteCursor, ziplist: Bool) throws(InputError) -> Decoded {
        var list = IdentityList()
        try blob(&c, ziplist ? "ziplist" : "listpack") { (raw) throws(BlobError) -> Void in
            let add: (PackedEntry) throws(BlobError) -> Void = { list.pushBack($0.identity) }
            if ziplist { try Ziplist.forEach(raw, add) } else { try Listpack.forEach(raw, add) }
        }
        return Decoded(value: .list(list), encoding: ziplist ? "ziplist" : "listpack")
    }

    package static func intsetSet(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        var set = IdentitySet()
        try blob(&c, "intset") { (raw) throws(BlobError) -> Void in
            try Intset.forEach(raw) { (n) throws(BlobError) -> Void in set.insert(elementHash(integer: n)) }
        }
        return Decoded(value: .set(set), encoding: "intset")
    }

    package static func listpackSet(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        var set = IdentitySet()
        try blob(&c, "listpack") { (raw) throws(BlobError) -> Void in
            try Listpack.forEach(raw) { (entry) throws(BlobError) -> Void in set.insert(entry.identity) }
        }
        return Decoded(value: .set(set), encoding: "listpack")
    }

    package static func packedSortedSet(_ c: inout ByteCursor, ziplist: Bool) throws(InputError) -> Decoded {
        var zset = ScoredMembers()
        var member: UInt64?
        try blob(&c, ziplist ? "ziplist" : "listpack") { (raw) throws(BlobError) -> Void in
            let add: (PackedEntry) throws(BlobError) -> Void = { (entry) throws(BlobError) -> Void in
                if let m = member {
                    guard let score = entry.number else { throw BlobError(detail: "a score that is not a number") }
                    zset[m] = score
                    member = nil
                } else {
                    member = entry.identity
                }
            }
            if ziplist { try Ziplist.forEach(raw, add) } else { try Listpack.forEach(raw, add) }
            if member != nil { throw BlobError(detail: "a member without a score") }
        }
        return Decoded(value: .zset(zset), encoding: ziplist ? "ziplist" : "listpack")
    }

    /// Hash listpacks: field, value (and for RDB_TYPE_HASH_LISTPACK_EX, the field's expiry).
    package static func packedHash(_ c: inout ByteCursor, ziplist: Bool, fieldsPerEntry: Int) throws(InputError) -> Decoded {
        var fields = IdentitySet()
        var position = 0
        try blob(&c, ziplist ? "ziplist" : "listpack") { (raw) throws(BlobError) -> Void in
            let add: (PackedEntry) throws(BlobError) -> Void = { entry in
                if position % fieldsPerEntry == 0 { fields.insert(entry.identity) }
                position += 1
            }
            if ziplist { try Ziplist.forEach(raw, add) } else { try Listpack.forEach(raw, add) }
            if position % fieldsPerEntry != 0 { throw BlobError(detail: "a field without its value") }
        }
        return Decoded(value: .hash(fields), encoding: fieldsPerEntry == 3 ? "listpackex" : ziplist ? "ziplist" : "listpack")
    }

    // MARK: RDB_TYPE_LIST_QUICKLIST(_2)

    package static func quicklist(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let nodes = try c.length("a quicklist's node count")
        var list = IdentityList()
        for _ in 0..<nodes {
            try blob(&c, "ziplist") { (raw) throws(BlobError) -> Void in
                try Ziplist.forEach(raw) { (entry) throws(BlobError) -> Void in list.pushBack(entry.identity) }
            }
        }
        return Decoded(value: .list(list), encoding: "quicklist")
    }

    package static func quicklist2(_ c: inout ByteCursor) throws(InputError) -> Decoded {
        let nodes = try c.length("a quicklist's node count")
        var list = IdentityList()
        for _ in 0..<nodes {
            let at = c.offset
            let container = try c.length("a quicklist node's container")
            switch container {
            case 1:  // QUICKLIST_NODE_CONTAINER_PLAIN: one large element
                list.pushBack(try c.string("a plain list element") { (raw) throws(InputError) -> UInt64 in elementHash(raw) })
            case 2:  // QUICKLIST_NODE_CONTAINER_PACKED: a listpack
                try blob(&c, "listpack") { (raw) throws(BlobError) -> Void in
                    try Listpack.forEach(raw) { (entry) throws(BlobError) -> Void in list.pushBack(entry.identity) }
                }
            default:
                throw c.fail("unknown quicklist node container \(container)", at: at)
            }
        }
        return Decoded(value: .list(list), encoding: "quicklist")
    }

    // MARK: RDB_TYPE_STREAM_LISTPACKS(_2, _3, _4)

    package static func stream(_ c: inout ByteCursor, version: Int) throws(InputError) -> Decoded {
        let listpacks = try c.length("a stream's listpack count")
        var stream = StreamEntries()
        for _ in 0..<listpacks {
            let at = c.offset
            let master = try c.string("a stream node key") { (raw) throws(InputError) -> StreamID? in
                guard raw.count == 16 else { return nil }
                return StreamID(milliseconds: UInt64(bigEndian: raw.loadUnaligned(as: UInt64.self)),
                                sequence: UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)))
            }
            guard let master else { throw c.fail("a stream node key is not 16 bytes", at: at) }
            try blob(&c, "stream listpack") { (raw) throws(BlobError) -> Void in
                try streamEntries(raw, master: master) { stream.append($0) }
            }
        }
        let at = c.offset
        let length = try c.length("a stream's length")
        let lastID = StreamID(milliseconds: try c.unsigned("the last ID"), sequence: try c.unsigned("the last ID"))
        if version >= 2 {
            for _ in 0..<5 { _ = try c.unsigned("stream metadata") }  // first ID, max deleted ID, entries added
        }
        guard length == stream.count else {
            throw c.fail("the stream says it has \(length) entries, its listpacks hold \(stream.count)", at: at)
        }
        stream.lastID = max(stream.lastID, lastID)
        let groups = try c.length("a stream's consumer group count")
        for _ in 0..<groups {
            try c.skipString("a consumer group name")
            _ = try c.unsigned("a group's last ID")
            _ = try c.unsigned("a group's last ID")
            if version >= 2 { _ = try c.unsigned("a group's entries-read counter") }
            let pending = try c.length("a group's pending count")
            for _ in 0..<pending {
                try c.skip(16, "a pending entry ID")
                _ = try c.milliseconds("a delivery time")
                _ = try c.unsigned("a delivery count")
            }
            let consumers = try c.length("a group's consumer count")
            for _ in 0..<consumers {
                try c.skipString("a consumer name")
                _ = try c.milliseconds("a consumer's seen time")
                if version >= 3 { _ = try c.milliseconds("a consumer's active time") }
                let owned = try c.length("a consumer's pending count")
                let (bytes, overflow) = owned.multipliedReportingOverflow(by: 16)
                guard !overflow else { throw c.fail("a consumer with \(owned) pending entries, more than a file can hold") }
                try c.skip(bytes, "a consumer's pending IDs")
            }
        }
        if version >= 4 { try skipIdempotentProducers(&c) }
        return Decoded(value: .stream(stream), encoding: "stream")
    }

    /// RDB_TYPE_STREAM_LISTPACKS_4 (RDB 13) ends with the stream's IDMP (idempotent message
    /// producer) state, as librdb's parser.c (elementStreamLP) reads it: duration, maximum
    /// entries and producer count; per producer its id (a string) and entry count, per entry
    /// its IID (a string) and stream ID (ms, seq); then two counters (IIDs added, duplicates).
    static func skipIdempotentProducers(_ c: inout ByteCursor) throws(InputError) {
        _ = try c.unsigned("the stream's IDMP duration")
        _ = try c.unsigned("the stream's IDMP maximum entries")
        let producers = try c.length("the stream's IDMP producer count")
        for _ in 0..<producers {
            try c.skipString("an IDMP producer id")
            let entries = try c.length("an IDMP producer's entry count")
            for _ in 0..<entries {
                try c.skipString("an IDMP entry's IID")
                _ = try c.unsigned("an IDMP entry's stream ID")
                _ = try c.unsigned("an IDMP entry's stream ID")
            }
        }
        _ = try c.unsigned("the stream's IDMP IIDs added")
        _ = try c.unsigned("the stream's IDMP duplicate IIDs")
    }

    /// The entries of one stream listpack (t_stream.c): a master entry (count, deleted,
    /// field count, fields, 0), then per entry flags, ms and seq deltas from the master ID,
    /// the fields (or only values when flagged SAMEFIELDS), and the entry's element count.
    package static func streamEntries(_ raw: UnsafeRawBufferPointer, master: StreamID, _ body: (StreamID) -> Void) throws(BlobError) {
        var items: [Int64?] = []
        try Listpack.forEach(raw) { (entry) throws(BlobError) -> Void in items.append(entry.integerValue) }
        func int(_ i: Int) throws(BlobError) -> Int64 {
            guard i < items.count, let v = items[i] else { throw BlobError(detail: "stream listpack: expected an integer at entry \(i)") }
            return v
        }
        let valid = try int(0)
        let deleted = try int(1)
        // Field counts are checked against the entries there are before any arithmetic.
        let masterFields = try int(2)
        guard masterFields >= 0, masterFields < items.count else { throw BlobError(detail: "stream listpack: a master entry of \(masterFields) fields") }
        var i = 3 + Int(masterFields) + 1
        var seen: Int64 = 0
        while i < items.count {
            let flags = try int(i)
            let ms = try int(i + 1)
            let seq = try int(i + 2)
            i += 3
            let fieldCount: Int
            if flags & 2 != 0 {
                fieldCount = Int(masterFields)
                i += fieldCount
            } else {
                let count = try int(i)
                guard count >= 0, count < items.count else { throw BlobError(detail: "stream listpack: an entry of \(count) fields") }
                fieldCount = Int(count)
                i += 1 + fieldCount * 2
            }
            _ = fieldCount
            i += 1  // the entry's element count (lp-count)
            seen += 1
            if flags & 1 == 0 {
                body(StreamID(milliseconds: master.milliseconds &+ UInt64(bitPattern: ms), sequence: master.sequence &+ UInt64(bitPattern: seq)))
            }
        }
        guard case (let total, false) = valid.addingReportingOverflow(deleted), seen == total else { throw BlobError(detail: "stream listpack: \(seen) entries, header says \(valid) + \(deleted)") }
    }
}
