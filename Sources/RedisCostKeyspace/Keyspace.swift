import RedisCostCore

/// The replayed data set: every key of every database with its value as far as the model
/// knows it. Key names live in one byte arena; each database has an open-addressing index
/// from name to record, so a million keys cost tens of megabytes, not hundreds.
///
/// A class: it is one large mutable state that the replay updates in place.
public final class Keyspace {
    /// 32 bytes per key (a value's enum takes 17): most keys are small strings, and there may be many millions.
    public struct Record: Sendable {
        /// Name chunk in the high 12 bits, offset in the low 20 (1 MiB chunks, 4 GiB in all).
        package var nameStart: UInt32
        package var nameLength: UInt32
        public var value: KeyValue
        /// The model could not follow every change: its size may be off (and says so).
        public var approximate = false
        package var live = true
        /// Whether `expiries` has an entry for the key: most keys have none, and a write that
        /// clears a TTL or a lookup by clock then reads one flag instead of hashing into it.
        package var hasExpiry = false
    }

    /// An index slot: a 32-bit tag of the name's hash in the high half, the record id in the
    /// low half. Probing compares tags without touching the records (no cache miss per probe).
    package static let emptySlot: UInt64 = .max
    package static let deletedSlot: UInt64 = .max - 1

    /// An empty database has no slots: one that SWAPDB or a flush leaves empty costs nothing.
    package struct Database {
        package var slots: [UInt64] = []
        package var used = 0
        package var tombstones = 0
        package var count = 0
    }

    /// Records and names live in fixed-size chunks: growing never copies what is there,
    /// so the peak memory of a large replay is what it holds, not twice that.
    package static let chunkBits = 16
    package static let chunkMask = (1 << chunkBits) - 1
    /// Each chunk holds `1 << chunkBits` records, of which those below `recordCount` are
    /// initialized. Memory of its own rather than arrays: a record is read and edited where it
    /// is (an array's getter would copy it out, retaining and releasing its value).
    private var recordChunks: [UnsafeMutablePointer<Record>] = []
    private var recordCount = 0
    private var freeRecords: [Int32] = []
    package static let nameChunkSize = 1 << 20  // offsets are 20 bits
    private var nameChunks: [[UInt8]] = []
    /// Databases by number: the low numbers in an array (a server has 16 by default and a
    /// `databases` setting of thousands at most in practice), the others in a dictionary,
    /// so that `SELECT 2000000000` costs one entry, not two billion.
    private var databases: [Database] = []
    private var sparseDatabases: [Int: Database] = [:]
    package static let denseDatabases = 1024
    public private(set) var totalKeyCount = 0

    /// Database numbers run from 0 to `databases` - 1, whose largest setting is INT_MAX
    /// (config.c); SELECT, MOVE, COPY … DB and SWAPDB refuse the others ("DB index is out
    /// of range"), and an RDB file with a larger one does not load.
    public static let databaseLimit = Int(Int32.max)

    /// `number` as a database number, or nil when no server has that database.
    public static func databaseNumber(_ number: Int64) -> Int? {
        number >= 0 && number < Int64(databaseLimit) ? Int(number) : nil
    }
    /// Absolute expiry in Unix milliseconds of the keys that have one (most have none).
    private var expiries: [Int32: Int64] = [:]
    /// Per key the writes added elements to, the mean bytes of an argument they carried (what
    /// a whole read of the key replies per element: `TimeModel.elementBytes`); kept only when
    /// the analysis prices reply bytes. Beside the records, as expiries are: strings need none.
    private var elementBytes: [Int32: Float] = [:]
    /// Bytes of names that belong to deleted or renamed keys.
    private var deadNameBytes = 0
    /// Changes to the databases' indexes (a key added, removed, a database replaced): while it
    /// stays the same, a record found stays what its name finds.
    private var indexChanges: UInt64 = 0
    /// The last key found, with `indexChanges` then: a write's effect looks up the key the cost
    /// stage has just found, and a name compared with one record skips the hash and the probe.
    private var lastFound: (db: Int, id: Int32, changes: UInt64) = (0, -1, .max)
    /// The last name looked up and not found: the cost stage looks up a new key, the write's
    /// effect again, then creates it (reusing the hash).
    private var lastMissed = Miss()

    /// A name's bytes are kept (a copy) and compared, never its address: callers reuse their
    /// buffers. In memory of its own: an array's append costs more than the hash it saves.
    private struct Miss {
        var name = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 8)
        var length = -1
        var hash: UInt64 = 0
        var db = 0
        /// `indexChanges` when it was missed: the miss holds while it stays the same.
        var changes: UInt64 = .max

        @inline(__always)
        func isName(_ key: UnsafeRawBufferPointer) -> Bool {
            length == key.count && (length == 0 || memcmp(name.baseAddress!, key.baseAddress!, length) == 0)
        }

        mutating func remember(_ key: UnsafeRawBufferPointer, hash: UInt64, db: Int, changes: UInt64) {
            if key.count > name.count {
                name.deallocate()
                name = .allocate(byteCount: max(key.count, 2 * name.count), alignment: 8)
            }
            if key.count > 0 { name.baseAddress!.copyMemory(from: key.baseAddress!, byteCount: key.count) }
            length = key.count
            self.hash = hash
            self.db = db
            self.changes = changes
        }
    }

    public init() {}

    deinit {
        lastMissed.name.deallocate()
        freeRecordChunks()
    }

    // MARK: - names

    /// Where the record of a key id is (ids index the chunks), to be read and edited in place.
    @inline(__always)
    private func record(_ index: Int) -> UnsafeMutablePointer<Record> {
        // Ids come from the index and `create`; one beyond them is a bug, never a read past the chunks.
        precondition(index >= 0 && index < recordCount, "a key id beyond the records")
        return recordChunks[index >> Self.chunkBits] + (index & Self.chunkMask)
    }

    private func freeRecordChunks() {
        for (chunk, start) in recordChunks.enumerated() {
            let initialized = min(recordCount - (chunk << Self.chunkBits), 1 << Self.chunkBits)
            start.deinitialize(count: initialized)
            start.deallocate()
        }
        recordChunks = []
        recordCount = 0
    }

    /// Where a key's name is in the arena, read from its record in place.
    @inline(__always)
    private func nameLocation(_ id: Int) -> (chunk: Int, offset: Int, length: Int) {
        let start = record(id).pointee.nameStart
        return (Int(start >> 20), Int(start & 0xF_FFFF), Int(record(id).pointee.nameLength))
    }

    /// Set when the key names of the data set outgrow the 4 GiB the records can address.
    public private(set) var namesOverflowed = false

    public func name(of id: Int32) -> UnsafeRawBufferPointer {
        let (chunk, offset, length) = nameLocation(Int(id))
        return nameChunks[chunk].withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + length)]) }
    }

    public func nameBytes(of id: Int32) -> [UInt8] {
        let (chunk, offset, length) = nameLocation(Int(id))
        return Array(nameChunks[chunk][offset..<(offset + length)])
    }

    @inline(__always)
    private func nameEquals(_ id: Int32, _ key: UnsafeRawBufferPointer) -> Bool {
        guard record(Int(id)).pointee.nameLength == key.count else { return false }
        let (chunk, offset, _) = nameLocation(Int(id))
        return nameChunks[chunk].withUnsafeBytes { all in
            key.count == 0 || memcmp(all.baseAddress! + offset, key.baseAddress!, key.count) == 0
        }
    }

    /// Appends a name to the arena and returns its location. A name longer than a chunk gets
    /// a chunk of its own (offset 0).
    private func storeName(_ key: UnsafeRawBufferPointer) -> UInt32 {
        // The fill limit is the fixed chunk size, never `capacity` (which may be larger and
        // would let an offset overflow its 20 bits). A long name fills a chunk of its own.
        let last = nameChunks.count - 1
        if nameChunks.isEmpty || nameChunks[last].count + key.count > Self.nameChunkSize
            || (nameChunks[last].count > 0 && nameChunks[last].count >= Self.nameChunkSize) {
            if nameChunks.count >= 4096 {
                namesOverflowed = true
                return 0
            }
            var chunk: [UInt8] = []
            chunk.reserveCapacity(max(Self.nameChunkSize, key.count))
            nameChunks.append(chunk)
        }
        let chunk = nameChunks.count - 1
        let offset = nameChunks[chunk].count
        nameChunks[chunk].append(contentsOf: key)
        return UInt32(chunk << 20 | offset)
    }

    // MARK: - lookup

    public func find(_ key: UnsafeRawBufferPointer, in db: Int) -> Int32? {
        if lastFound.changes == indexChanges, lastFound.db == db, nameEquals(lastFound.id, key) { return lastFound.id }
        if lastMissed.changes == indexChanges, lastMissed.db == db, lastMissed.isName(key) { return nil }
        let hash = elementHash(key)
        let found: Int32?
        if db >= 0, db < databases.count {
            guard databases[db].count > 0 else { return nil }
            found = databases[db].slots.withUnsafeBufferPointer { probe($0, key, hash: hash) }
        } else {
            guard let database = sparseDatabases[db], database.count > 0 else { return nil }
            found = database.slots.withUnsafeBufferPointer { probe($0, key, hash: hash) }
        }
        if let found {
            lastFound = (db, found, indexChanges)
        } else {
            lastMissed.remember(key, hash: hash, db: db, changes: indexChanges)
        }
        return found
    }

    /// The record id of `key` (whose `elementHash` is `hash`) in a database's index, or nil.
    @inline(__always)
    private func probe(_ slots: UnsafeBufferPointer<UInt64>, _ key: UnsafeRawBufferPointer, hash: UInt64) -> Int32? {
        let tag = hash >> 32
        let mask = slots.count - 1
        var slot = Int(tag) & mask
        while true {
            let entry = slots[slot]
            if entry == Self.emptySlot { return nil }
            if entry >> 32 == tag, entry != Self.deletedSlot {
                let id = Int32(truncatingIfNeeded: entry)
                if nameEquals(id, key) { return id }
            }
            slot = (slot + 1) & mask
        }
    }

    /// Database `db`, if it has an entry.
    private func database(_ db: Int) -> Database? {
        if db >= 0, db < Self.denseDatabases { return db < databases.count ? databases[db] : nil }
        return sparseDatabases[db]
    }

    /// Edits database `db` in place (its slots stay uniquely referenced), creating it.
    @inline(__always)
    private func withDatabase<R>(_ db: Int, _ body: (inout Database) -> R) -> R {
        indexChanges &+= 1
        if db >= 0, db < Self.denseDatabases {
            if db >= databases.count { databases.append(contentsOf: repeatElement(Database(), count: db + 1 - databases.count)) }
            return body(&databases[db])
        }
        return body(&sparseDatabases[db, default: Database()])
    }

    /// Replaces database `db`; nil empties it.
    private func setDatabase(_ db: Int, _ database: Database?) {
        if db >= 0, db < Self.denseDatabases {
            guard database != nil || db < databases.count else { return }
            withDatabase(db) { $0 = database ?? Database() }
        } else {
            indexChanges &+= 1
            sparseDatabases[db] = database
        }
    }

    /// A key's size, read in place. Never inlined into another module: there the value would be
    /// copied (retained and released) around the call of `KeyValue.size`, which it cannot see into.
    @inline(never)
    public func size(of id: Int32) -> KeySize { record(Int(id)).pointee.value.size }

    public func expireAt(_ id: Int32) -> Int64 { record(Int(id)).pointee.hasExpiry ? expiries[id] ?? 0 : 0 }

    public func setExpireAt(_ id: Int32, _ when: Int64) {
        if when == 0 {
            guard record(Int(id)).pointee.hasExpiry else { return }
            record(Int(id)).pointee.hasExpiry = false
            expiries.removeValue(forKey: id)
        } else {
            record(Int(id)).pointee.hasExpiry = true
            expiries[id] = when
        }
    }

    /// The mean bytes of an argument of the writes that added to the key, nil when none was seen.
    public func elementBytes(of id: Int32) -> Double? { elementBytes[id].map(Double.init) }

    /// Takes in a write's arguments after the key (`bytes` over `count` of them): a moving
    /// mean, each write weighing an eighth, so a key keeps the make-up of its recent writes.
    public func noteElementBytes(_ id: Int32, bytes: Int, count: Int) {
        guard count > 0 else { return }
        // A key seen before (most writes) is hashed once, its mean updated where it is.
        if let index = elementBytes.index(forKey: id) {
            elementBytes.values[index] = Self.movingElementBytes(elementBytes.values[index], bytes: bytes, count: count)
        } else {
            elementBytes[id] = Self.movingElementBytes(nil, bytes: bytes, count: count)
        }
    }

    /// The mean `noteElementBytes` keeps (calibrate computes its probe keys' with it too).
    package static func movingElementBytes(_ old: Float?, bytes: Int, count: Int) -> Float {
        let sample = Float(Double(bytes) / Double(max(1, count)))
        guard let old else { return sample }
        return old + (sample - old) / 8
    }

    public func find(_ key: [UInt8], in db: Int) -> Int32? { key.withUnsafeBytes { find($0, in: db) } }

    public subscript(id: Int32) -> Record {
        _read { yield record(Int(id)).pointee }
        _modify { yield &record(Int(id)).pointee }
    }

    /// Edits a key's value in place. The value is moved out while `body` runs (swapped with a
    /// placeholder: nothing is retained) so that a large collection is never copied
    /// (copy-on-write would copy it) and `body` may read the keyspace meanwhile.
    @inline(__always)
    public func modify<R>(_ id: Int32, _ body: (inout KeyValue) -> R) -> R {
        var value = KeyValue.placeholder
        Swift.swap(&value, &record(Int(id)).pointee.value)
        defer { Swift.swap(&value, &record(Int(id)).pointee.value) }
        return body(&value)
    }

    // MARK: - changes

    /// Creates a key that must not exist yet.
    @discardableResult
    public func create(_ key: UnsafeRawBufferPointer, in db: Int, value: KeyValue) -> Int32 {
        // The hash depends on the bytes alone: a miss of the same name in any database has it.
        let hash = lastMissed.isName(key) ? lastMissed.hash : elementHash(key)
        let new = Record(nameStart: storeName(key), nameLength: UInt32(key.count), value: value)
        let id: Int32
        if let reused = freeRecords.popLast() {
            id = reused
            record(Int(id)).pointee = new
        } else {
            id = Int32(recordCount)
            if recordCount & Self.chunkMask == 0 { recordChunks.append(.allocate(capacity: 1 << Self.chunkBits)) }
            (recordChunks[recordChunks.count - 1] + (recordCount & Self.chunkMask)).initialize(to: new)
            recordCount += 1
        }
        insert(id, hash: hash, in: db)
        lastFound = (db, id, indexChanges)
        return id
    }

    @discardableResult
    public func create(_ key: [UInt8], in db: Int, value: KeyValue) -> Int32 {
        key.withUnsafeBytes { create($0, in: db, value: value) }
    }

    /// Creates a key unless the database has it already (a snapshot must not repeat a key).
    public func createUnique(_ key: UnsafeRawBufferPointer, in db: Int, value: KeyValue) -> Int32? {
        find(key, in: db) == nil ? create(key, in: db, value: value) : nil
    }

    private func insert(_ id: Int32, hash: UInt64, in db: Int) {
        withDatabase(db) { database in
            if (database.used + 1) * 10 > database.slots.count * 7 { Self.rehash(&database) }
            let mask = database.slots.count - 1
            let tag = hash >> 32
            var slot = Int(tag) & mask
            while database.slots[slot] < Self.deletedSlot { slot = (slot + 1) & mask }
            if database.slots[slot] == Self.emptySlot { database.used += 1 } else { database.tombstones -= 1 }
            database.slots[slot] = tag << 32 | UInt64(UInt32(bitPattern: id))
            database.count += 1
        }
        totalKeyCount += 1
    }

    private static func rehash(_ database: inout Database) {
        let live = database.count
        var capacity = 16
        while capacity * 7 < (live + 1) * 20 { capacity *= 2 }
        var slots = [UInt64](repeating: Self.emptySlot, count: capacity)
        let mask = capacity - 1
        for entry in database.slots where entry < Self.deletedSlot {
            var slot = Int(entry >> 32) & mask
            while slots[slot] != Self.emptySlot { slot = (slot + 1) & mask }
            slots[slot] = entry
        }
        database.slots = slots
        database.used = live
        database.tombstones = 0
    }

    /// Removes a key from its database's index; the record id may be reused.
    public func delete(_ id: Int32, in db: Int) {
        guard let existing = database(db), !existing.slots.isEmpty else { return }
        let tag = elementHash(name(of: id)) >> 32
        let wanted = tag << 32 | UInt64(UInt32(bitPattern: id))
        let removed = withDatabase(db) { database -> Bool in
            let mask = database.slots.count - 1
            var slot = Int(tag) & mask
            while database.slots[slot] != Self.emptySlot {
                if database.slots[slot] == wanted {
                    database.slots[slot] = Self.deletedSlot
                    database.tombstones += 1
                    database.count -= 1
                    return true
                }
                slot = (slot + 1) & mask
            }
            return false
        }
        if removed { totalKeyCount -= 1 }
        deadNameBytes += Int(record(Int(id)).pointee.nameLength)
        record(Int(id)).pointee.live = false
        record(Int(id)).pointee.value = .placeholder
        setExpireAt(id, 0)
        elementBytes.removeValue(forKey: id)
        freeRecords.append(id)
        if deadNameBytes > 64 << 20, deadNameBytes * 2 > nameChunks.count * Self.nameChunkSize { compactNames() }
    }

    /// Moves a key to another name and/or database (RENAME, MOVE), keeping its value.
    public func rename(_ id: Int32, from db: Int, to newKey: UnsafeRawBufferPointer, in newDB: Int) {
        let moved = record(Int(id)).pointee
        let expiry = expireAt(id)
        let bytes = elementBytes[id]
        delete(id, in: db)
        let newID = create(newKey, in: newDB, value: moved.value)
        setExpireAt(newID, expiry)
        if let bytes { elementBytes[newID] = bytes }
        record(Int(newID)).pointee.approximate = moved.approximate
    }

    public func flush(_ db: Int) {
        guard let database = database(db) else { return }
        for entry in database.slots where entry < Self.deletedSlot {
            let id = Int32(truncatingIfNeeded: entry)
            deadNameBytes += Int(record(Int(id)).pointee.nameLength)
            record(Int(id)).pointee.live = false
            record(Int(id)).pointee.value = .placeholder
            setExpireAt(id, 0)
            elementBytes.removeValue(forKey: id)
            freeRecords.append(id)
        }
        totalKeyCount -= database.count
        setDatabase(db, nil)
    }

    public func flushAll() {
        indexChanges &+= 1
        freeRecordChunks()
        freeRecords = []
        nameChunks = []
        databases = []
        sparseDatabases = [:]
        totalKeyCount = 0
        expiries = [:]
        elementBytes = [:]
        deadNameBytes = 0
    }

    public func swap(_ a: Int, _ b: Int) {
        let first = database(a)
        setDatabase(a, database(b))
        setDatabase(b, first)
    }

    private func compactNames() {
        let old = nameChunks
        nameChunks = []
        for i in 0..<recordCount where record(i).pointee.live {
            let (chunk, offset, length) = nameLocation(i)
            let location = old[chunk].withUnsafeBytes {
                storeName(UnsafeRawBufferPointer(rebasing: $0[offset..<(offset + length)]))
            }
            record(i).pointee.nameStart = location
        }
        deadNameBytes = 0
    }

    // MARK: - reading the whole data set

    public var databaseNumbers: [Int] {
        databases.indices.filter { databases[$0].count > 0 } + sparseDatabases.filter { $0.value.count > 0 }.keys.sorted()
    }

    @inline(__always)
    public func keyCount(in db: Int) -> Int { database(db)?.count ?? 0 }

    /// Visits the keys of one database without building a list of them.
    public func forEachKey(in db: Int, _ body: (Int32) -> Void) {
        guard let database = database(db) else { return }
        for entry in database.slots where entry < Self.deletedSlot { body(Int32(truncatingIfNeeded: entry)) }
    }

    /// Record ids of the keys of one database.
    public func keys(in db: Int) -> [Int32] {
        guard let database = database(db) else { return [] }
        return database.slots.filter { $0 < Self.deletedSlot }.map { Int32(truncatingIfNeeded: $0) }
    }

    /// Approximate bytes the model holds, for the report.
    public var memoryBytes: Int {
        var total = nameChunks.reduce(0) { $0 + $1.capacity } + recordChunks.count * (1 << Self.chunkBits) * MemoryLayout<Record>.stride
        total += expiries.capacity * 17 + elementBytes.capacity * 9
        for database in databases { total += database.slots.capacity * 8 }
        for database in sparseDatabases.values { total += database.slots.capacity * 8 }
        for i in 0..<recordCount where record(i).pointee.live { total += record(i).pointee.value.heapBytes }
        return total
    }
}

#if canImport(Glibc)
import Glibc
#endif
