import Testing
import RedisCostCore
import RedisCostKeyspace

/// The keyspace remembers the last key found and the last name missed: a remembered answer
/// must never outlive a change to the index, and a name is compared by its bytes, never by
/// the address of the buffer it came in.
@Suite struct KeyspaceLookupTests {
    let value = KeyValue.string(StringValue(length: 1, integer: 1))

    @Test func aRememberedMissEndsWhenTheKeyIsCreated() {
        let keyspace = Keyspace()
        keyspace.create(Array("other".utf8), in: 0, value: value)
        #expect(keyspace.find(Array("new".utf8), in: 0) == nil)
        #expect(keyspace.find(Array("new".utf8), in: 0) == nil)
        let id = keyspace.create(Array("new".utf8), in: 0, value: value)
        #expect(keyspace.find(Array("new".utf8), in: 0) == id)
        // Created in another database: still missing in this one.
        #expect(keyspace.find(Array("elsewhere".utf8), in: 0) == nil)
        let there = keyspace.create(Array("elsewhere".utf8), in: 3, value: value)
        #expect(keyspace.find(Array("elsewhere".utf8), in: 0) == nil)
        #expect(keyspace.find(Array("elsewhere".utf8), in: 3) == there)
    }

    @Test func aRememberedMissEndsWhenDatabasesAreSwappedOrFlushed() {
        let keyspace = Keyspace()
        let key = Array("k".utf8)
        let id = keyspace.create(key, in: 1, value: value)
        keyspace.create(Array("x".utf8), in: 0, value: value)
        #expect(keyspace.find(key, in: 0) == nil)
        keyspace.swap(0, 1)
        #expect(keyspace.find(key, in: 0) == id)
        #expect(keyspace.find(key, in: 1) == nil)
        keyspace.swap(0, 1)
        #expect(keyspace.find(key, in: 1) == id)
        keyspace.flush(1)
        #expect(keyspace.find(key, in: 1) == nil)
        let again = keyspace.create(key, in: 1, value: value)
        #expect(keyspace.find(key, in: 1) == again)
        keyspace.flushAll()
        #expect(keyspace.find(key, in: 1) == nil)
        #expect(keyspace.find(key, in: 1) == nil)
        let third = keyspace.create(key, in: 1, value: value)
        #expect(keyspace.find(key, in: 1) == third)
    }

    @Test func aRememberedFoundKeyEndsWhenItIsDeletedOrRenamed() {
        let keyspace = Keyspace()
        let id = keyspace.create(Array("a".utf8), in: 0, value: value)
        #expect(keyspace.find(Array("a".utf8), in: 0) == id)
        keyspace.rename(id, from: 0, to: UnsafeRawBufferPointer(start: nil, count: 0), in: 0)
        #expect(keyspace.find(Array("a".utf8), in: 0) == nil)
        let empty = keyspace.find([], in: 0)
        #expect(empty != nil)
        keyspace.delete(empty!, in: 0)
        #expect(keyspace.find([], in: 0) == nil)
    }

    @Test func aNameAtAReusedAddressIsComparedByItsBytes() {
        let keyspace = Keyspace()
        let present = keyspace.create(Array("abc".utf8), in: 0, value: value)
        // One buffer, rewritten between lookups, as a reader reuses its buffer per call.
        var buffer = Array("abd".utf8)
        buffer.withUnsafeMutableBytes { raw in
            let name = UnsafeRawBufferPointer(raw)
            #expect(keyspace.find(name, in: 0) == nil)
            raw[2] = UInt8(ascii: "c")
            #expect(keyspace.find(name, in: 0) == present)
            raw[2] = UInt8(ascii: "e")
            #expect(keyspace.find(name, in: 0) == nil)
            // Created from the remembered miss's bytes' twin: the hash reused must be its own.
            raw[2] = UInt8(ascii: "f")
            let created = keyspace.create(name, in: 0, value: value)
            #expect(keyspace.find(name, in: 0) == created)
            raw[2] = UInt8(ascii: "e")
            #expect(keyspace.find(name, in: 0) == nil)
        }
        #expect(keyspace.find(Array("abf".utf8), in: 0) != nil)
        #expect(keyspace.find(Array("abc".utf8), in: 0) == present)
    }

    @Test func expiriesFollowTheirKeys() {
        let keyspace = Keyspace()
        let id = keyspace.create(Array("t".utf8), in: 0, value: value)
        #expect(keyspace.expireAt(id) == 0)
        keyspace.setExpireAt(id, 0)
        #expect(keyspace.expireAt(id) == 0)
        keyspace.setExpireAt(id, 42)
        #expect(keyspace.expireAt(id) == 42)
        keyspace.rename(id, from: 0, to: UnsafeRawBufferPointer(start: nil, count: 0), in: 2)
        let moved = keyspace.find([], in: 2)!
        #expect(keyspace.expireAt(moved) == 42)
        keyspace.delete(moved, in: 2)
        // The record is reused by the next key, which has no expiry.
        let reused = keyspace.create(Array("u".utf8), in: 0, value: value)
        #expect(reused == moved)
        #expect(keyspace.expireAt(reused) == 0)
        keyspace.setExpireAt(reused, 7)
        keyspace.setExpireAt(reused, 0)
        #expect(keyspace.expireAt(reused) == 0)
    }

    @Test func aRecordStaysSmall() {
        #expect(MemoryLayout<Keyspace.Record>.stride <= 32)
    }

    /// Records live in chunks of 65,536: keys on both sides of a chunk's end keep their names
    /// and values through deletes, reuse and a flush of everything.
    @Test func recordsAcrossChunksKeepTheirNamesAndValues() {
        let keyspace = Keyspace()
        let count = 70_000
        func name(_ i: Int) -> [UInt8] { Array("key:\(i)".utf8) }
        var ids: [Int32] = []
        for i in 0..<count {
            ids.append(keyspace.create(name(i), in: 0, value: .list(IdentityList((0..<UInt64(i % 5)).map { $0 }))))
        }
        for i in stride(from: 0, to: count, by: 3) { keyspace.delete(ids[i], in: 0) }
        // The freed records are reused, last freed first.
        let reused = keyspace.create(Array("again".utf8), in: 0, value: .string(length: 9, integer: nil))
        #expect(reused == ids[69_999])
        var wrong = 0
        for i in 0..<count where i % 3 != 0 {
            let id = keyspace.find(name(i), in: 0)
            if id != ids[i] || keyspace.size(of: ids[i]) != .elements(i % 5) || keyspace.nameBytes(of: ids[i]) != name(i) { wrong += 1 }
        }
        #expect(wrong == 0)
        #expect(keyspace.size(of: reused) == .bytes(9))
        #expect(keyspace.totalKeyCount == count - 23_334 + 1)  // every third of 0..<70,000 deleted, one created
        keyspace.flushAll()
        #expect(keyspace.find(name(1), in: 0) == nil)
        let first = keyspace.create(name(1), in: 0, value: .string(length: 2, integer: nil))
        #expect(first == 0)
        #expect(keyspace.size(of: first) == .bytes(2))
    }

    /// `modify` moves the value out while its body runs: the body may read the keyspace (it
    /// sees a placeholder at the key), and the edited value is back afterwards.
    @Test func modifyMovesTheValueOutAndBack() {
        let keyspace = Keyspace()
        let id = keyspace.create(Array("l".utf8), in: 0, value: .list(IdentityList([1, 2])))
        let seen = keyspace.modify(id) { value -> KeySize in
            if case .list(var list) = value {
                list.pushBack(3)
                value = .list(list)
            }
            return keyspace.size(of: id)
        }
        #expect(seen == .unknown)
        #expect(keyspace.size(of: id) == .elements(3))
    }
}
