/// Writes to hashes, with field names as identities.
let hashEffects: [String: Replayer.Effect] = [
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
        while i < a.count, !a.token(i, "FIELDS") {
            if a.token(i, "FNX") { onlyNew = true }
            if a.token(i, "FXX") { onlyExisting = true }
            i += 1
        }
        guard let count = a.int(i + 1), count > 0, i + 2 + Int(count) * 2 <= a.count else { return }
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
    },
]

func setFields(_ r: Replayer, _ key: UnsafeRawBufferPointer, _ a: Argv, pairsFrom start: Int, to end: Int) {
    if r.lookup(key) == nil, start >= end { return }
    r.editHash(key, create: true) { fields in
        var i = start
        while i < end {
            fields.insert(a.hash(i))
            i += 2
        }
    }
}

func removeFields(_ r: Replayer, _ key: UnsafeRawBufferPointer, _ a: Argv, from start: Int, to end: Int) {
    r.editHash(key, create: false) { fields in
        for i in start..<end { fields.remove(a.hash(i)) }
    }
}

/// The argv range of the fields after `FIELDS numfields`.
func fieldsClause(_ a: Argv, from: Int) -> Range<Int>? {
    var i = from
    while i < a.count, !a.token(i, "FIELDS") { i += 1 }
    guard let count = a.int(i + 1), count > 0, i + 2 + Int(count) <= a.count else { return nil }
    return (i + 2)..<(i + 2 + Int(count))
}
