import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes to hashes, with field names as identities.
package let hashEffects: [String: Replayer.Effect] = [
    "HSET": { r, a in setFields(r, a[1], a, pairsFrom: 2, to: a.count) },
    "HMSET": { r, a in setFields(r, a[1], a, pairsFrom: 2, to: a.count) },
    "HSETNX": { r, a in setFields(r, a[1], a, pairsFrom: 2, to: 4) },
    "HINCRBY": { r, a in setFields(r, a[1], a, pairsFrom: 2, to: 4) },
    "HINCRBYFLOAT": { r, a in setFields(r, a[1], a, pairsFrom: 2, to: 4) },
    "HDEL": { r, a in removeFields(r, a[1], a, from: 2, to: a.count) },
    "HGETDEL": { r, a in
        // HGETDEL key FIELDS numfields field…
        guard let fields = fieldsClause(a, from: 2) else { return }
        removeFields(r, a[1], a, from: fields.lowerBound, to: fields.upperBound)
    },
    "HSETEX": { r, a in
        // HSETEX key [FNX|FXX] [EX s|PX ms|EXAT|PXAT|KEEPTTL] FIELDS numfields field value…
        var i = 2
        var onlyNew = false
        var onlyExisting = false
        var expiry: FieldExpiry?
        while i < a.count, !a.token(i, "FIELDS") {
            if a.token(i, "FNX") { onlyNew = true }
            if a.token(i, "FXX") { onlyExisting = true }
            if let time = fieldExpiry(r, a, at: i) { expiry = time }
            i += 1
        }
        if expiry == .invalid { return }
        guard let count = a.int(i + 1), count > 0, count <= Int64(a.count) / 2, i + 2 + Int(count) * 2 <= a.count else { return }
        let pairs = (i + 2)..<(i + 2 + Int(count) * 2)
        if onlyNew || onlyExisting {
            let existing = r.read(a[1], .hash)
            let fieldsPresent = stride(from: pairs.lowerBound, to: pairs.upperBound, by: 2).map { index -> Bool in
                if case .hash(let set)? = existing { return set.contains(a.hash(index)) }
                return false
            }
            if onlyNew && fieldsPresent.contains(true) { return }
            if onlyExisting && fieldsPresent.contains(false) { return }
        }
        setFields(r, a[1], a, pairsFrom: pairs.lowerBound, to: pairs.upperBound)
        // Fields set with a time already past expire at once.
        if expiry == .past { removeFields(r, a[1], a, from: pairs.lowerBound, to: pairs.upperBound, by: 2) }
    },
    "HGETEX": { r, a in
        // HGETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST] FIELDS numfields field…
        guard let fields = fieldsClause(a, from: 2), fieldExpiry(r, a, at: 2) == .past else { return }
        removeFields(r, a[1], a, from: fields.lowerBound, to: fields.upperBound)
    },
    "HEXPIRE": { r, a in expireFields(r, a, scale: 1000, absolute: false) },
    "HPEXPIRE": { r, a in expireFields(r, a, scale: 1, absolute: false) },
    "HEXPIREAT": { r, a in expireFields(r, a, scale: 1000, absolute: true) },
    "HPEXPIREAT": { r, a in expireFields(r, a, scale: 1, absolute: true) },
]

/// A time given to hash fields (Redis 8, Valkey 9). The model does not follow the fields'
/// TTLs, only the deletions they cause at once: a time of 0 or already past deletes the
/// fields (t_hash.c, hashTypeSetEx), a negative or overflowing one is refused.
package enum FieldExpiry: Equatable {
    case future, past, invalid
}

/// `EX s`, `PX ms`, `EXAT s` or `PXAT ms` at `i` of HSETEX or HGETEX; nil when `i` holds none.
package func fieldExpiry(_ r: Replayer, _ a: Argv, at i: Int) -> FieldExpiry? {
    let scale: Int64, absolute: Bool
    if a.token(i, "EX") { (scale, absolute) = (1000, false) }
    else if a.token(i, "PX") { (scale, absolute) = (1, false) }
    else if a.token(i, "EXAT") { (scale, absolute) = (1000, true) }
    else if a.token(i, "PXAT") { (scale, absolute) = (1, true) }
    else { return nil }
    return fieldExpiry(r, a.int(i + 1), scale: scale, absolute: absolute)
}

package func fieldExpiry(_ r: Replayer, _ amount: Int64?, scale: Int64, absolute: Bool) -> FieldExpiry {
    guard let amount, amount >= 0, let when = expireTime(amount, scale: scale, plus: absolute ? 0 : r.nowMilliseconds) else {
        return .invalid
    }
    // As for keys: a past time deletes only when the server runs the call, not when it loads
    // a file (an AOF records the deletion as HDEL).
    return r.expiresByClock && when <= r.nowMilliseconds ? .past : .future
}

/// HEXPIRE key time [NX|XX|GT|LT] FIELDS numfields field…: a time already past deletes the
/// fields. Under GT it never passes (it is not later than a field's TTL, and a field without
/// one counts as never expiring); under LT it always does; under NX and XX it depends on
/// TTLs the model does not keep, so the key becomes approximate.
package func expireFields(_ r: Replayer, _ a: Argv, scale: Int64, absolute: Bool) {
    guard a.count > 3, let fields = fieldsClause(a, from: 3), fieldExpiry(r, a.int(2), scale: scale, absolute: absolute) == .past,
          !a.token(3, "GT") else { return }
    if a.token(3, "NX") || a.token(3, "XX") {
        r.markApproximate(a[1])
        return
    }
    removeFields(r, a[1], a, from: fields.lowerBound, to: fields.upperBound)
}

package func setFields(_ r: Replayer, _ key: UnsafeRawBufferPointer, _ a: Argv, pairsFrom start: Int, to end: Int) {
    if r.lookup(key) == nil, start >= end { return }
    r.editHash(key, create: true) { fields in
        var i = start
        while i < end {
            fields.insert(a.hash(i))
            i += 2
        }
    }
}

package func removeFields(_ r: Replayer, _ key: UnsafeRawBufferPointer, _ a: Argv, from start: Int, to end: Int, by step: Int = 1) {
    r.editHash(key, create: false) { fields in
        for i in stride(from: start, to: end, by: step) { fields.remove(a.hash(i)) }
    }
}

/// The argv range of the fields after `FIELDS numfields`.
package func fieldsClause(_ a: Argv, from: Int) -> Range<Int>? {
    var i = from
    while i < a.count, !a.token(i, "FIELDS") { i += 1 }
    guard let count = a.int(i + 1), count > 0, count <= Int64(a.count), i + 2 + Int(count) <= a.count else { return nil }
    return (i + 2)..<(i + 2 + Int(count))
}
