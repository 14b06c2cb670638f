import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes that act on whole keys: deletion, expiry, renaming, copying, databases.
package let keyEffects: [String: Replayer.Effect] = [
    "DEL": deleteKeys, "UNLINK": deleteKeys,
    "EXPIRE": { r, a in expire(r, a, scale: 1000, absolute: false) },
    "PEXPIRE": { r, a in expire(r, a, scale: 1, absolute: false) },
    "EXPIREAT": { r, a in expire(r, a, scale: 1000, absolute: true) },
    "PEXPIREAT": { r, a in expire(r, a, scale: 1, absolute: true) },
    "PERSIST": { r, a in
        if let id = r.lookup(a[1]) { r.keyspace.setExpireAt(id, 0) }
    },
    "RENAME": { r, a in rename(r, a, onlyIfAbsent: false) },
    "RENAMENX": { r, a in rename(r, a, onlyIfAbsent: true) },
    "COPY": { r, a in
        // COPY source destination [DB n] [REPLACE]
        var targetDB = r.database
        var replace = false
        var i = 3
        while i < a.count {
            if a.token(i, "DB") {
                // A database the server does not have refuses the call.
                guard let db = a.int(i + 1).flatMap(Keyspace.databaseNumber) else { return }
                targetDB = db
                i += 2
                continue
            }
            if a.token(i, "REPLACE") { replace = true }
            i += 1
        }
        guard let source = r.lookup(a[1]) else { return }
        // A module type without a copy callback refuses the copy before anything changes.
        guard !ModuleType.withoutCopy.contains(r.keyspace[source].value.typeName) else { return }
        if r.lookup(a[2], in: targetDB) != nil {
            guard replace, !(targetDB == r.database && a[1].elementsEqual(a[2])) else { return }
            _ = r.delete(a[2], in: targetDB)
        }
        let record = r.keyspace[source]
        let copy = r.keyspace.create(a[2], in: targetDB, value: record.value)
        r.keyspace.setExpireAt(copy, r.keyspace.expireAt(source))
        r.keyspace[copy].approximate = record.approximate
    },
    "MOVE": { r, a in
        // A database the server does not have refuses the call ("DB index is out of range").
        guard let db = a.int(2).flatMap(Keyspace.databaseNumber), let id = r.lookup(a[1]), r.lookup(a[1], in: db) == nil, db != r.database else { return }
        r.keyspace.rename(id, from: r.database, to: a[1], in: db)
    },
    "SWAPDB": { r, a in
        guard let x = a.int(1).flatMap(Keyspace.databaseNumber), let y = a.int(2).flatMap(Keyspace.databaseNumber) else { return }
        r.keyspace.swap(x, y)
    },
    "FLUSHDB": { r, _ in r.keyspace.flush(r.database) },
    "FLUSHALL": { r, _ in r.keyspace.flushAll() },
    "SORT": { r, a in sortStore(r, a) },
    "RESTORE": restore,
    "RESTORE-ASKING": restore,
    "CLUSTER FLUSHSLOT": { r, a in
        guard let slot = a.int(2) else { return }
        deleteKeys(r, inSlots: [Int(slot)...Int(slot)])
    },
    "SFLUSH": { r, a in
        // SFLUSH start end [start end …] [SYNC|ASYNC]
        var ranges: [ClosedRange<Int>] = []
        var i = 1
        while let start = a.int(i), let end = a.int(i + 1), start <= end {
            ranges.append(Int(start)...Int(end))
            i += 2
        }
        deleteKeys(r, inSlots: ranges)
    },
    "MIGRATE": { r, a in
        // MIGRATE host port key|"" db timeout [COPY] [REPLACE] [AUTH …] [KEYS k…]
        var copy = false
        var keys: [Int] = a.count > 3 && a[3].count > 0 ? [3] : []
        var i = 6
        while i < a.count {
            if a.token(i, "COPY") { copy = true }
            if a.token(i, "AUTH") { i += 2; continue }
            if a.token(i, "AUTH2") { i += 3; continue }
            if a.token(i, "KEYS") { keys = Array((i + 1)..<a.count); break }
            i += 1
        }
        if !copy { for k in keys { _ = r.delete(a[k]) } }
    },
]

package func deleteKeys(_ r: Replayer, _ a: Argv) {
    for i in 1..<a.count { _ = r.delete(a[i]) }
}

/// EXPIRE key time [NX|XX|GT|LT]…: a time already past deletes the key; one that overflows
/// in milliseconds, or once the clock is added, is an "invalid expire time" and changes
/// nothing (expire.c, expireGenericCommand).
package func expire(_ r: Replayer, _ a: Argv, scale: Int64, absolute: Bool) {
    guard a.count >= 3, let amount = a.int(2) else { return }
    var nx = false, xx = false, gt = false, lt = false
    for i in 3..<a.count {
        if a.token(i, "NX") { nx = true } else if a.token(i, "XX") { xx = true }
        else if a.token(i, "GT") { gt = true } else if a.token(i, "LT") { lt = true } else { return }
    }
    // NX goes with none of the others, GT not with LT: the server refuses the call.
    if nx && (xx || gt || lt) || gt && lt { return }
    guard let when = expireTime(amount, scale: scale, plus: absolute ? 0 : r.nowMilliseconds),
          let id = r.lookup(a[1]) else { return }
    // A key without a TTL counts as one that never expires.
    let current = r.keyspace.expireAt(id)
    if nx, current != 0 { return }
    if xx, current == 0 { return }
    if gt, current == 0 || when <= current { return }
    if lt, current != 0 && when >= current { return }
    if r.expiresByClock, when <= r.nowMilliseconds {
        r.keyspace.delete(id, in: r.database)
        return
    }
    r.keyspace.setExpireAt(id, when)
}

/// `amount` × `scale` + `base` in milliseconds, or nil where either step overflows: Redis
/// checks both and answers "invalid expire time" (expire.c, expireGenericCommand).
package func expireTime(_ amount: Int64, scale: Int64, plus base: Int64) -> Int64? {
    let (product, overflowed) = amount.multipliedReportingOverflow(by: scale)
    guard !overflowed else { return nil }
    let (sum, overflowedAgain) = product.addingReportingOverflow(base)
    return overflowedAgain ? nil : sum
}

package func rename(_ r: Replayer, _ a: Argv, onlyIfAbsent: Bool) {
    guard a.count >= 3, let id = r.lookup(a[1]) else { return }
    if a[1].elementsEqual(a[2]) { return }
    if r.lookup(a[2]) != nil {
        if onlyIfAbsent { return }
        _ = r.delete(a[2])
    }
    r.keyspace.rename(id, from: r.database, to: a[2], in: r.database)
}

/// SORT key [BY p] [LIMIT off count] [GET p …] [ASC|DESC] [ALPHA] [STORE dst]: the stored list
/// has a known length but its order needs the values, which identities do not keep.
package func sortStore(_ r: Replayer, _ a: Argv) {
    var store: Int?
    var offset = 0
    var limit = -1
    var gets = 0
    var i = 2
    while i < a.count {
        if a.token(i, "STORE"), i + 1 < a.count { store = i + 1; i += 2; continue }
        if a.token(i, "LIMIT"), let o = a.int(i + 1), let c = a.int(i + 2) { offset = Int(o); limit = Int(c); i += 3; continue }
        if a.token(i, "GET") { gets += 1; i += 2; continue }
        if a.token(i, "BY") { i += 2; continue }
        i += 1
    }
    guard let store else { return }
    let size: Int
    if let id = r.lookup(a[1]) {
        switch r.keyspace[id].value {
        case .list(let l): size = l.count
        case .set(let s): size = s.count
        case .zset(let z): size = z.count
        default: return
        }
    } else {
        size = 0
    }
    let start = min(max(offset, 0), size)
    let taken = limit < 0 ? size - start : min(limit, size - start)
    let count = taken * max(gets, 1)
    guard count > 0 else { _ = r.delete(a[store]); return }
    // Placeholder identities: the count is exact, the elements are not known.
    let id = r.store(a[store], .list(IdentityList((0..<count).map { UInt64($0) &+ 0xA5A5_0000_0000_0000 })))
    r.keyspace[id].approximate = true
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f]: the payload is a DUMP
/// of the value (an RDB value with a version and checksum), decoded like an RDB file's.
@Sendable package func restore(_ r: Replayer, _ a: Argv) {
    let replace = (4..<a.count).contains { a.token($0, "REPLACE") }
    if r.lookup(a[1]) != nil && !replace { return }
    // "Invalid TTL value, must be >= 0".
    guard let ttl = a.int(2), ttl >= 0 else { return }
    let value = try? RDBReader.decodePayload(a[3])
    // The server refuses to restore an empty collection.
    if let value, value.size == .elements(0), value.typeName != "stream" { return }
    // The server adds its clock to a relative TTL unchecked: a sum that wraps below zero is a
    // time already past, like an ABSTTL before now. Then the key is not created, and REPLACE
    // has deleted the old one (cluster.c, restoreCommand).
    let absolute = (4..<a.count).contains { a.token($0, "ABSTTL") }
    let when = absolute ? ttl : r.nowMilliseconds &+ ttl
    if ttl > 0, r.expiresByClock, when <= r.nowMilliseconds {
        if replace { _ = r.delete(a[1]) }
        return
    }
    let id = r.store(a[1], value ?? .opaque(type: "unknown", size: nil, members: nil))
    if value == nil { r.keyspace[id].approximate = true }
    if ttl > 0 { r.keyspace.setExpireAt(id, when) }
}

/// Deletes the keys of the current database whose cluster hash slot is in `ranges`.
package func deleteKeys(_ r: Replayer, inSlots ranges: [ClosedRange<Int>]) {
    var doomed: [Int32] = []
    r.keyspace.forEachKey(in: r.database) { id in
        let slot = hashSlot(r.keyspace.name(of: id))
        if ranges.contains(where: { $0.contains(slot) }) { doomed.append(id) }
    }
    for id in doomed { r.keyspace.delete(id, in: r.database) }
}

/// The cluster hash slot of a key: CRC16 (XMODEM) of the key, or of its `{hash tag}` when
/// the braces hold at least one byte, modulo 16384 (cluster.c, keyHashSlot).
public func hashSlot(_ key: UnsafeRawBufferPointer) -> Int {
    var part = key
    if let open = key.firstIndex(of: UInt8(ascii: "{")),
       let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")), close > open + 1 {
        part = UnsafeRawBufferPointer(rebasing: key[(open + 1)..<close])
    }
    var crc: UInt16 = 0
    for byte in part {
        crc ^= UInt16(byte) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1 }
    }
    return Int(crc & 0x3FFF)
}
