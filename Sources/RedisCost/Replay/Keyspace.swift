/// The replayed data set: every key of every database with its value as far as the model
/// knows it. Key names live in one byte arena; each database has an open-addressing index
/// from name to record, so a million keys cost tens of megabytes, not hundreds.
///
/// A class: it is one large mutable state that the replay updates in place.
public final class Keyspace {
    public struct Record: Sendable {
        var nameStart: Int
        var nameLength: Int
        var hash: UInt64
        public var value: KeyValue
        /// Absolute expiry in Unix milliseconds, or 0.
        public var expireAt: Int64 = 0
        /// The model could not follow every change: its size may be off (and says so).
        public var approximate = false
        var live = true
    }

    struct Database {
        var slots: [Int32] = [Int32](repeating: -1, count: 16)
        var used = 0
        var tombstones = 0
        var count = 0
    }

    public private(set) var records: [Record] = []
    private var freeRecords: [Int32] = []
    private var names: [UInt8] = []
    private var databases: [Int: Database] = [:]
    /// Bytes of names that belong to deleted or renamed keys.
    private var deadNameBytes = 0

    public init() {}

    // MARK: - names

    public func name(of id: Int32) -> UnsafeRawBufferPointer {
        let record = records[Int(id)]
        return names.withUnsafeBytes { UnsafeRawBufferPointer(rebasing: $0[record.nameStart..<(record.nameStart + record.nameLength)]) }
    }

    public func nameBytes(of id: Int32) -> [UInt8] {
        let record = records[Int(id)]
        return Array(names[record.nameStart..<(record.nameStart + record.nameLength)])
    }

    private func nameEquals(_ id: Int32, _ key: UnsafeRawBufferPointer) -> Bool {
        let record = records[Int(id)]
        guard record.nameLength == key.count else { return false }
        return names.withUnsafeBytes { all in
            key.count == 0 || memcmp(all.baseAddress! + record.nameStart, key.baseAddress!, key.count) == 0
        }
    }

    // MARK: - lookup

    public func find(_ key: UnsafeRawBufferPointer, in db: Int) -> Int32? {
        guard let database = databases[db] else { return nil }
        let hash = elementHash(key)
        let mask = database.slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while true {
            let id = database.slots[slot]
            if id == -1 { return nil }
            if id >= 0, records[Int(id)].hash == hash, nameEquals(id, key) { return id }
            slot = (slot + 1) & mask
        }
    }

    public func find(_ key: [UInt8], in db: Int) -> Int32? { key.withUnsafeBytes { find($0, in: db) } }

    public subscript(id: Int32) -> Record {
        get { records[Int(id)] }
        set { records[Int(id)] = newValue }
    }

    /// Edits a key's value in place. The value is moved out while `body` runs so that a
    /// large collection is never copied (copy-on-write would copy it).
    @inline(__always)
    public func modify<R>(_ id: Int32, _ body: (inout KeyValue) -> R) -> R {
        var value = records[Int(id)].value
        records[Int(id)].value = .opaque(type: "", size: nil)
        defer { records[Int(id)].value = value }
        return body(&value)
    }

    // MARK: - changes

    /// Creates a key that must not exist yet.
    @discardableResult
    public func create(_ key: UnsafeRawBufferPointer, in db: Int, value: KeyValue) -> Int32 {
        let hash = elementHash(key)
        let start = names.count
        names.append(contentsOf: key)
        let record = Record(nameStart: start, nameLength: key.count, hash: hash, value: value)
        let id: Int32
        if let reused = freeRecords.popLast() {
            id = reused
            records[Int(id)] = record
        } else {
            id = Int32(records.count)
            records.append(record)
        }
        insert(id, hash: hash, in: db)
        return id
    }

    @discardableResult
    public func create(_ key: [UInt8], in db: Int, value: KeyValue) -> Int32 {
        key.withUnsafeBytes { create($0, in: db, value: value) }
    }

    private func insert(_ id: Int32, hash: UInt64, in db: Int) {
        var database = databases[db] ?? Database()
        databases[db] = nil  // keep the slots array uniquely referenced while editing
        if (database.used + 1) * 10 > database.slots.count * 7 { rehash(&database) }
        let mask = database.slots.count - 1
        var slot = Int(truncatingIfNeeded: hash) & mask
        while database.slots[slot] >= 0 { slot = (slot + 1) & mask }
        if database.slots[slot] == -1 { database.used += 1 } else { database.tombstones -= 1 }
        database.slots[slot] = id
        database.count += 1
        databases[db] = database
    }

    private func rehash(_ database: inout Database) {
        let live = database.count
        var capacity = 16
        while capacity * 7 < (live + 1) * 20 { capacity *= 2 }
        var slots = [Int32](repeating: -1, count: capacity)
        let mask = capacity - 1
        for id in database.slots where id >= 0 {
            var slot = Int(truncatingIfNeeded: records[Int(id)].hash) & mask
            while slots[slot] != -1 { slot = (slot + 1) & mask }
            slots[slot] = id
        }
        database.slots = slots
        database.used = live
        database.tombstones = 0
    }

    /// Removes a key from its database's index; the record id may be reused.
    public func delete(_ id: Int32, in db: Int) {
        guard var database = databases[db] else { return }
        databases[db] = nil
        let mask = database.slots.count - 1
        var slot = Int(truncatingIfNeeded: records[Int(id)].hash) & mask
        while database.slots[slot] != -1 {
            if database.slots[slot] == id {
                database.slots[slot] = -2
                database.tombstones += 1
                database.count -= 1
                break
            }
            slot = (slot + 1) & mask
        }
        databases[db] = database
        deadNameBytes += records[Int(id)].nameLength
        records[Int(id)].live = false
        records[Int(id)].value = .opaque(type: "", size: nil)
        freeRecords.append(id)
        if deadNameBytes > 64 << 20, deadNameBytes * 2 > names.count { compactNames() }
    }

    /// Moves a key to another name and/or database (RENAME, MOVE), keeping its value.
    public func rename(_ id: Int32, from db: Int, to newKey: UnsafeRawBufferPointer, in newDB: Int) {
        let record = records[Int(id)]
        delete(id, in: db)
        let newID = create(newKey, in: newDB, value: record.value)
        records[Int(newID)].expireAt = record.expireAt
        records[Int(newID)].approximate = record.approximate
    }

    public func flush(_ db: Int) {
        guard let database = databases[db] else { return }
        for id in database.slots where id >= 0 {
            deadNameBytes += records[Int(id)].nameLength
            records[Int(id)].live = false
            records[Int(id)].value = .opaque(type: "", size: nil)
            freeRecords.append(id)
        }
        databases[db] = nil
    }

    public func flushAll() {
        records = []
        freeRecords = []
        names = []
        databases = [:]
        deadNameBytes = 0
    }

    public func swap(_ a: Int, _ b: Int) {
        let first = databases[a]
        databases[a] = databases[b]
        databases[b] = first
    }

    private func compactNames() {
        var fresh: [UInt8] = []
        fresh.reserveCapacity(names.count - deadNameBytes)
        for i in records.indices where records[i].live {
            let start = fresh.count
            fresh.append(contentsOf: names[records[i].nameStart..<(records[i].nameStart + records[i].nameLength)])
            records[i].nameStart = start
        }
        names = fresh
        deadNameBytes = 0
    }

    // MARK: - reading the whole data set

    public var databaseNumbers: [Int] { databases.filter { $0.value.count > 0 }.keys.sorted() }

    public func keyCount(in db: Int) -> Int { databases[db]?.count ?? 0 }

    public var totalKeyCount: Int { databases.values.reduce(0) { $0 + $1.count } }

    /// Record ids of the keys of one database.
    public func keys(in db: Int) -> [Int32] { databases[db]?.slots.filter { $0 >= 0 } ?? [] }

    /// Approximate bytes the model holds, for the report.
    public var memoryBytes: Int {
        var total = names.capacity + records.capacity * MemoryLayout<Record>.stride
        for database in databases.values { total += database.slots.capacity * 4 }
        for record in records where record.live { total += record.value.heapBytes }
        return total
    }
}

#if canImport(Glibc)
import Glibc
#endif
