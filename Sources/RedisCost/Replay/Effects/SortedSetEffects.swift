/// Writes to sorted sets: members as identities with their scores, so score updates,
/// ranges by score and by rank change ZCARD exactly.
let sortedSetEffects: [String: Replayer.Effect] = [
    "ZADD": { r, a in zadd(r, a) },
    "GEOADD": { r, a in
        // GEOADD key [NX|XX] [CH] longitude latitude member…: the score is a geohash; the
        // model keeps membership (ranks by score are then not meaningful and not used).
        var i = 2
        var onlyNew = false
        var onlyExisting = false
        while i < a.count, a.int(i) == nil, doubleValue(a[i]) == nil {
            if a.token(i, "NX") { onlyNew = true }
            if a.token(i, "XX") { onlyExisting = true }
            i += 1
        }
        r.editSortedSet(a[1], create: !onlyExisting) { zset in
            while i + 2 < a.count {
                let member = a.hash(i + 2)
                let exists = zset[member] != nil
                if !(onlyNew && exists) && !(onlyExisting && !exists) { zset[member] = zset[member] ?? 0 }
                i += 3
            }
        }
    },
    "ZINCRBY": { r, a in
        guard let delta = doubleValue(a[2]) else { return }
        let member = a.hash(3)
        r.editSortedSet(a[1], create: true) { zset in
            zset[member] = (zset[member] ?? 0) + delta
        }
    },
    "ZREM": { r, a in
        r.editSortedSet(a[1], create: false) { zset in
            for i in 2..<a.count { _ = zset.removeValue(forKey: a.hash(i)) }
        }
    },
    "ZREMRANGEBYSCORE": { r, a in
        guard let low = scoreBound(a[2]), let high = scoreBound(a[3]) else { return }
        r.editSortedSet(a[1], create: false) { zset in
            for (member, score) in zset.scores where inRange(score, low, high) { _ = zset.removeValue(forKey: member) }
        }
    },
    "ZREMRANGEBYRANK": { r, a in
        guard let start = a.int(2), let stop = a.int(3) else { return }
        removeByRank(r, a[1], start: Int(start), stop: Int(stop), fromTop: false)
    },
    "ZREMRANGEBYLEX": { r, a in
        // Lexicographic ranges need the members' bytes, which identities do not keep; only
        // the whole range `- +` is exact.
        if a.count > 3, a[2].count == 1, a[2][0] == UInt8(ascii: "-"), a[3].count == 1, a[3][0] == UInt8(ascii: "+") {
            _ = r.delete(a[1])
        } else {
            r.markApproximate(a[1])
        }
    },
    "ZPOPMIN": { r, a in removeByRank(r, a[1], start: 0, stop: Int(a.count > 2 ? (a.int(2) ?? 1) : 1) - 1, fromTop: false) },
    "ZPOPMAX": { r, a in removeByRank(r, a[1], start: 0, stop: Int(a.count > 2 ? (a.int(2) ?? 1) : 1) - 1, fromTop: true) },
    "BZPOPMIN": { r, a in popFirstSortedSet(r, a, keys: 1..<(a.count - 1), fromTop: false, count: 1) },
    "BZPOPMAX": { r, a in popFirstSortedSet(r, a, keys: 1..<(a.count - 1), fromTop: true, count: 1) },
    "ZMPOP": { r, a in multiPopSortedSet(r, a, numKeysAt: 1) },
    "BZMPOP": { r, a in multiPopSortedSet(r, a, numKeysAt: 2) },
    "ZUNIONSTORE": { r, a in combineStore(r, a, operation: .union) },
    "ZINTERSTORE": { r, a in combineStore(r, a, operation: .intersection) },
    "ZDIFFSTORE": { r, a in combineStore(r, a, operation: .difference) },
    "ZRANGESTORE": { r, a in rangeStore(r, a) },
    "GEOSEARCHSTORE": { r, a in geoStore(r, from: a[2], to: a[1]) },
    "GEORADIUS": { r, a in storeOption(r, a) },
    "GEORADIUSBYMEMBER": { r, a in storeOption(r, a) },
]

func inRange(_ score: Double, _ low: (value: Double, exclusive: Bool), _ high: (value: Double, exclusive: Bool)) -> Bool {
    (low.exclusive ? score > low.value : score >= low.value) && (high.exclusive ? score < high.value : score <= high.value)
}

func zadd(_ r: Replayer, _ a: Argv) {
    // ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member…
    var i = 2
    var nx = false, xx = false, gt = false, lt = false, incr = false
    while i < a.count, doubleValue(a[i]) == nil {
        if a.token(i, "NX") { nx = true }
        if a.token(i, "XX") { xx = true }
        if a.token(i, "GT") { gt = true }
        if a.token(i, "LT") { lt = true }
        if a.token(i, "INCR") { incr = true }
        i += 1
    }
    guard (a.count - i) % 2 == 0, a.count > i else { return }
    r.editSortedSet(a[1], create: !xx) { zset in
        while i + 1 < a.count {
            guard let score = doubleValue(a[i]) else { break }
            let member = a.hash(i + 1)
            if let old = zset[member] {
                if !nx {
                    let new = incr ? old + score : score
                    if !(gt && new <= old) && !(lt && new >= old) { zset[member] = new }
                }
            } else if !xx {
                zset[member] = score
            }
            i += 2
        }
    }
}

/// Removes ranks `start…stop` (from the lowest score, or the highest with `fromTop`).
/// If the cut falls between members of equal score, which ones go depends on their bytes:
/// the key is then marked approximate (its size is still exact).
func removeByRank(_ r: Replayer, _ key: UnsafeRawBufferPointer, start: Int, stop: Int, fromTop: Bool) {
    var tie = false
    r.editSortedSet(key, create: false) { zset in
        var ranked = zset.ranked
        if fromTop { ranked.reverse() }
        let n = ranked.count
        var s = start < 0 ? start + n : start
        var e = stop < 0 ? stop + n : stop
        s = max(s, 0)
        e = min(e, n - 1)
        guard s <= e, s < n else { return }
        for item in ranked[s...e] { _ = zset.removeValue(forKey: item.member) }
        if s > 0, ranked[s - 1].score == ranked[s].score { tie = true }
        if e + 1 < n, ranked[e + 1].score == ranked[e].score { tie = true }
    }
    if tie { r.markApproximate(key) }
}

func popFirstSortedSet(_ r: Replayer, _ a: Argv, keys: Range<Int>, fromTop: Bool, count: Int) {
    for i in keys {
        if let id = r.lookup(a[i]), case .zset(let zset) = r.keyspace[id].value, zset.count > 0 {
            removeByRank(r, a[i], start: 0, stop: count - 1, fromTop: fromTop)
            return
        }
    }
}

func multiPopSortedSet(_ r: Replayer, _ a: Argv, numKeysAt: Int) {
    guard let numKeys = a.int(numKeysAt), numKeys > 0 else { return }
    let keys = (numKeysAt + 1)..<(numKeysAt + 1 + Int(numKeys))
    guard keys.upperBound < a.count else { return }
    var count = 1
    if a.token(keys.upperBound + 1, "COUNT"), let n = a.int(keys.upperBound + 2) { count = Int(n) }
    popFirstSortedSet(r, a, keys: keys, fromTop: a.token(keys.upperBound, "MAX"), count: count)
}

enum SortedSetOperation { case union, intersection, difference }

/// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE destination numkeys key… [WEIGHTS w…] [AGGREGATE SUM|MIN|MAX]
/// Sets count as sorted sets with score 1.
func combineStore(_ r: Replayer, _ a: Argv, operation: SortedSetOperation) {
    guard let numKeys = a.int(2), numKeys > 0, 3 + Int(numKeys) <= a.count else { return }
    var inputs: [[UInt64: Double]] = []
    var approximate = false
    for i in 3..<(3 + Int(numKeys)) {
        guard let id = r.lookup(a[i]) else { inputs.append([:]); continue }
        approximate = approximate || r.keyspace[id].approximate
        switch r.keyspace[id].value {
        case .zset(let zset): inputs.append(zset.scores)
        case .set(let set): inputs.append(Dictionary(uniqueKeysWithValues: set.elements.map { ($0, 1.0) }))
        default: return
        }
    }
    var weights = [Double](repeating: 1, count: inputs.count)
    var aggregate = "SUM"
    var i = 3 + Int(numKeys)
    while i < a.count {
        if a.token(i, "WEIGHTS") {
            for k in 0..<inputs.count where i + 1 + k < a.count { weights[k] = doubleValue(a[i + 1 + k]) ?? 1 }
            i += 1 + inputs.count
            continue
        }
        if a.token(i, "AGGREGATE"), i + 1 < a.count {
            aggregate = String(decoding: a[i + 1], as: UTF8.self).uppercased()
            i += 2
            continue
        }
        i += 1
    }
    func combine(_ x: Double, _ y: Double) -> Double {
        switch aggregate {
        case "MIN": min(x, y)
        case "MAX": max(x, y)
        default: (x + y).isNaN ? 0 : x + y
        }
    }
    var result: [UInt64: Double] = [:]
    switch operation {
    case .union:
        for (k, input) in inputs.enumerated() {
            for (member, score) in input {
                let weighted = score * weights[k]
                result[member] = result[member].map { combine($0, weighted) } ?? weighted
            }
        }
    case .intersection:
        guard let smallest = inputs.indices.min(by: { inputs[$0].count < inputs[$1].count }) else { return }
        for (member, _) in inputs[smallest] where inputs.allSatisfy({ $0[member] != nil }) {
            var score: Double?
            for (k, input) in inputs.enumerated() {
                let weighted = input[member]! * weights[k]
                score = score.map { combine($0, weighted) } ?? weighted
            }
            result[member] = score
        }
    case .difference:
        guard let first = inputs.first else { return }
        for (member, score) in first where !inputs.dropFirst().contains(where: { $0[member] != nil }) { result[member] = score }
    }
    guard !result.isEmpty else { _ = r.delete(a[1]); return }
    var zset = ScoredMembers()
    for (member, score) in result { zset[member] = score }
    let id = r.store(a[1], .zset(zset))
    r.keyspace[id].approximate = approximate
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]
func rangeStore(_ r: Replayer, _ a: Argv) {
    let byScore = (5..<a.count).contains { a.token($0, "BYSCORE") }
    let byLex = (5..<a.count).contains { a.token($0, "BYLEX") }
    let reverse = (5..<a.count).contains { a.token($0, "REV") }
    var offset = 0
    var limit = -1
    if let at = (5..<a.count).first(where: { a.token($0, "LIMIT") }), let o = a.int(at + 1), let c = a.int(at + 2) {
        offset = Int(o)
        limit = Int(c)
    }
    guard let source = r.read(a[2], .zset), case .zset(let zset) = source else {
        if r.lookup(a[2]) == nil { _ = r.delete(a[1]) }
        return
    }
    if byLex { unknownStore(r, a[1]); return }
    var ranked = zset.ranked
    if reverse { ranked.reverse() }
    var chosen: [(member: UInt64, score: Double)]
    if byScore {
        guard var low = scoreBound(a[3]), var high = scoreBound(a[4]) else { return }
        if reverse { swap(&low, &high) }
        chosen = ranked.filter { inRange($0.score, low, high) }
    } else {
        guard let start = a.int(3), let stop = a.int(4) else { return }
        let n = ranked.count
        var s = start < 0 ? Int(start) + n : Int(start)
        var e = stop < 0 ? Int(stop) + n : Int(stop)
        s = max(s, 0)
        e = min(e, n - 1)
        chosen = s <= e && s < n ? Array(ranked[s...e]) : []
    }
    if offset > 0 || limit >= 0 {
        chosen = Array(chosen.dropFirst(offset))
        if limit >= 0 { chosen = Array(chosen.prefix(limit)) }
    }
    guard !chosen.isEmpty else { _ = r.delete(a[1]); return }
    var result = ScoredMembers()
    for item in chosen { result[item.member] = item.score }
    r.store(a[1], .zset(result))
}

/// A destination whose contents the model cannot compute (geo searches, lex ranges).
func unknownStore(_ r: Replayer, _ key: UnsafeRawBufferPointer) {
    let id = r.store(key, .opaque(type: "zset", size: nil))
    r.keyspace[id].approximate = true
}

func storeOption(_ r: Replayer, _ a: Argv) {
    for i in 2..<a.count where (a.token(i, "STORE") || a.token(i, "STOREDIST")) && i + 1 < a.count {
        geoStore(r, from: a[1], to: a[i + 1])
    }
}

/// A geo search's destination. Without coordinates the model cannot tell what is found,
/// except from a missing source: nothing, and the server deletes the destination (geo.c,
/// georadiusGeneric).
func geoStore(_ r: Replayer, from source: UnsafeRawBufferPointer, to destination: UnsafeRawBufferPointer) {
    guard let id = r.lookup(source) else { _ = r.delete(destination); return }
    guard r.keyspace[id].value.typeName == "zset" else { return }
    unknownStore(r, destination)
}
