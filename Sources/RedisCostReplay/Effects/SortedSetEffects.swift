import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes to sorted sets: members as identities with their scores, so score updates,
/// ranges by score and by rank change ZCARD exactly.
package let sortedSetEffects: [String: Replayer.Effect] = [
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
        guard let delta = doubleValue(a[2]), !delta.isNaN else { return }
        let member = a.hash(3)
        r.editSortedSet(a[1], create: true) { zset in
            // inf + -inf: the server refuses a NaN score and changes nothing.
            let score = (zset[member] ?? 0) + delta
            if !score.isNaN { zset[member] = score }
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
            let ranks = zset.ranks(from: low, to: high)
            zset.removeRanks(ranks)
        }
    },
    "ZREMRANGEBYRANK": { r, a in
        guard let start = a.int(2), let stop = a.int(3) else { return }
        removeByRank(r, a[1], start: start, stop: stop, fromTop: false)
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
    "ZPOPMIN": { r, a in popSortedSet(r, a, fromTop: false) },
    "ZPOPMAX": { r, a in popSortedSet(r, a, fromTop: true) },
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

package func zadd(_ r: Replayer, _ a: Argv) {
    // ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member…
    var i = 2
    var nx = false, xx = false, gt = false, lt = false, incr = false
    // The options run to the first argument that reads as a score: that score is kept.
    var firstScore: Double?
    while i < a.count {
        firstScore = doubleValue(a[i])
        if firstScore != nil { break }
        if a.token(i, "NX") { nx = true }
        if a.token(i, "XX") { xx = true }
        if a.token(i, "GT") { gt = true }
        if a.token(i, "LT") { lt = true }
        if a.token(i, "INCR") { incr = true }
        i += 1
    }
    guard (a.count - i) % 2 == 0, a.count > i, !(nx && (xx || gt || lt)), !(gt && lt), !incr || a.count - i == 2 else { return }
    // The server reads every score before it changes anything, and NaN is not a score.
    // The scores go on the stack: an array per call was a heap allocation and its release.
    let pairs = (a.count - i) / 2
    withUnsafeTemporaryAllocation(of: Double.self, capacity: pairs) { scores in
        for k in 0..<pairs {
            guard let score = k == 0 ? firstScore : doubleValue(a[i + 2 * k]), !score.isNaN else { return }
            scores.initializeElement(at: k, to: score)
        }
        r.editSortedSet(a[1], create: !xx) { zset in
            for k in 0..<pairs {
                let score = scores[k]
                let member = a.hash(i + 2 * k + 1)
                if let old = zset[member] {
                    if !nx {
                        let new = incr ? old + score : score
                        if !new.isNaN, !(gt && new <= old), !(lt && new >= old) { zset[member] = new }
                    }
                } else if !xx {
                    zset[member] = score
                }
            }
        }
    }
}

/// ZPOPMIN / ZPOPMAX key [count]: a negative count is an error, 0 pops nothing.
package func popSortedSet(_ r: Replayer, _ a: Argv, fromTop: Bool) {
    var count: Int64 = 1
    if a.count > 2 {
        guard let n = a.int(2), n >= 0 else { return }
        count = n
    }
    guard count > 0 else { return }
    removeByRank(r, a[1], start: 0, stop: count - 1, fromTop: fromTop)
}

/// Removes what Redis's indexes `start…stop` select (from the lowest score, or the highest
/// with `fromTop`), in O(log n + removed). If the cut falls between members of equal score,
/// which ones go depends on their bytes: the key is then marked approximate (its size is still
/// exact).
package func removeByRank(_ r: Replayer, _ key: UnsafeRawBufferPointer, start: Int64, stop: Int64, fromTop: Bool) {
    let tie = r.editSortedSet(key, create: false) { zset -> Bool in
        guard let ranks = ascendingRanks(start: start, stop: stop, count: zset.count, fromTop: fromTop) else { return false }
        let tie = zset.cutsTie(ranks)
        zset.removeRanks(ranks)
        return tie
    }
    if tie == true { r.markApproximate(key) }
}

/// The ascending ranks that `start stop` select, counted from the top with `fromTop` (REV, ZPOPMAX).
package func ascendingRanks(start: Int64, stop: Int64, count: Int, fromTop: Bool) -> Range<Int>? {
    guard let ranks = indexRange(start: start, stop: stop, count: count) else { return nil }
    return fromTop ? (count - ranks.upperBound)..<(count - ranks.lowerBound) : ranks
}

/// BZPOPMIN, ZMPOP: pops from the first of `keys` that exists; one of another type is an
/// error that ends the call.
package func popFirstSortedSet(_ r: Replayer, _ a: Argv, keys: Range<Int>, fromTop: Bool, count: Int64) {
    for i in keys where r.lookup(a[i]) != nil {
        removeByRank(r, a[i], start: 0, stop: count - 1, fromTop: fromTop)
        return
    }
}

package func multiPopSortedSet(_ r: Replayer, _ a: Argv, numKeysAt: Int) {
    // [B]ZMPOP [timeout] numkeys key… MIN|MAX [COUNT count]
    guard let numKeys = a.int(numKeysAt), numKeys > 0, numKeys < a.count - numKeysAt - 1 else { return }
    let keys = (numKeysAt + 1)..<(numKeysAt + 1 + Int(numKeys))
    let fromTop = a.token(keys.upperBound, "MAX")
    guard fromTop || a.token(keys.upperBound, "MIN") else { return }
    var count: Int64 = 1
    if a.token(keys.upperBound + 1, "COUNT") {
        guard let n = a.int(keys.upperBound + 2), n > 0 else { return }
        count = n
    }
    popFirstSortedSet(r, a, keys: keys, fromTop: fromTop, count: count)
}

package enum SortedSetOperation { case union, intersection, difference }

/// ZUNIONSTORE / ZINTERSTORE / ZDIFFSTORE destination numkeys key… [WEIGHTS w…] [AGGREGATE SUM|MIN|MAX]
/// Sets count as sorted sets with score 1.
package func combineStore(_ r: Replayer, _ a: Argv, operation: SortedSetOperation) {
    guard let numKeys = a.int(2), numKeys > 0, numKeys <= a.count - 3 else { return }
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
    // inf × 0 is NaN, which the server counts as 0.
    func weigh(_ score: Double, _ weight: Double) -> Double {
        let weighted = score * weight
        return weighted.isNaN ? 0 : weighted
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
                let weighted = weigh(score, weights[k])
                result[member] = result[member].map { combine($0, weighted) } ?? weighted
            }
        }
    case .intersection:
        guard let smallest = inputs.indices.min(by: { inputs[$0].count < inputs[$1].count }) else { return }
        for (member, _) in inputs[smallest] where inputs.allSatisfy({ $0[member] != nil }) {
            var score: Double?
            for (k, input) in inputs.enumerated() {
                let weighted = weigh(input[member]!, weights[k])
                score = score.map { combine($0, weighted) } ?? weighted
            }
            result[member] = score
        }
    case .difference:
        guard let first = inputs.first else { return }
        for (member, score) in first where !inputs.dropFirst().contains(where: { $0[member] != nil }) { result[member] = score }
    }
    guard !result.isEmpty else { _ = r.delete(a[1]); return }
    let id = r.store(a[1], .zset(ScoredMembers(result.map { ScoredMembers.Entry(score: $0.value, member: $0.key) })))
    r.keyspace[id].approximate = approximate
}

/// ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count], in
/// O(log n + stored) like the server.
package func rangeStore(_ r: Replayer, _ a: Argv) {
    let byScore = (5..<a.count).contains { a.token($0, "BYSCORE") }
    let byLex = (5..<a.count).contains { a.token($0, "BYLEX") }
    let reverse = (5..<a.count).contains { a.token($0, "REV") }
    var offset: Int64 = 0
    var limit: Int64 = -1
    if let at = (5..<a.count).first(where: { a.token($0, "LIMIT") }) {
        // The server refuses LIMIT on a range by rank.
        guard byScore || byLex, let o = a.int(at + 1), let c = a.int(at + 2) else { return }
        offset = o
        limit = c
    }
    // The range is read before the source: a bad one is an error even when the source is missing.
    var scoreRange: (low: (value: Double, exclusive: Bool), high: (value: Double, exclusive: Bool))?
    var indexes: (start: Int64, stop: Int64)?
    if byScore {
        guard let min = scoreBound(a[3]), let max = scoreBound(a[4]) else { return }
        scoreRange = reverse ? (max, min) : (min, max)
    } else if !byLex {
        guard let start = a.int(3), let stop = a.int(4) else { return }
        indexes = (start, stop)
    }
    guard let source = r.lookup(a[2]) else { _ = r.delete(a[1]); return }
    let sourceApproximate = r.keyspace[source].approximate
    if byLex {
        if case .zset = r.keyspace[source].value { unknownStore(r, a[1]) }
        return
    }
    // Read through an edit: the source's order may have to be built first.
    let taken = r.editSortedSet(a[2], create: false) { zset -> (entries: [ScoredMembers.Entry], tie: Bool) in
        var ranks = 0..<0
        if let scoreRange {
            ranks = limited(zset.ranks(from: scoreRange.low, to: scoreRange.high), offset: offset, limit: limit, fromTop: reverse)
        } else if let indexes, let selected = ascendingRanks(start: indexes.start, stop: indexes.stop, count: zset.count, fromTop: reverse) {
            ranks = selected
        }
        return (zset.entries(inRanks: ranks), zset.cutsTie(ranks))
    }
    guard let taken else { return }  // another type: the server's error
    guard !taken.entries.isEmpty else { _ = r.delete(a[1]); return }
    let id = r.store(a[1], .zset(ScoredMembers(taken.entries)))
    r.keyspace[id].approximate = sourceApproximate || taken.tie
}

/// The part of `matching` that LIMIT offset count keeps, walking from the top with REV. A
/// negative offset keeps nothing (the server skips to the end), a negative count the rest.
package func limited(_ matching: Range<Int>, offset: Int64, limit: Int64, fromTop: Bool) -> Range<Int> {
    guard offset >= 0 else { return matching.lowerBound..<matching.lowerBound }
    let skip = Int(min(offset, Int64(matching.count)))
    let take = limit < 0 ? matching.count - skip : Int(min(limit, Int64(matching.count - skip)))
    return fromTop ? (matching.upperBound - skip - take)..<(matching.upperBound - skip)
        : (matching.lowerBound + skip)..<(matching.lowerBound + skip + take)
}

/// A destination whose contents the model cannot compute (geo searches, lex ranges).
package func unknownStore(_ r: Replayer, _ key: UnsafeRawBufferPointer) {
    let id = r.store(key, .opaque(type: "zset", size: nil, members: nil))
    r.keyspace[id].approximate = true
}

package func storeOption(_ r: Replayer, _ a: Argv) {
    for i in 2..<a.count where (a.token(i, "STORE") || a.token(i, "STOREDIST")) && i + 1 < a.count {
        geoStore(r, from: a[1], to: a[i + 1])
    }
}

/// A geo search's destination. Without coordinates the model cannot tell what is found,
/// except from a missing source: nothing, and the server deletes the destination (geo.c,
/// georadiusGeneric).
package func geoStore(_ r: Replayer, from source: UnsafeRawBufferPointer, to destination: UnsafeRawBufferPointer) {
    guard let id = r.lookup(source) else { _ = r.delete(destination); return }
    guard r.keyspace[id].value.typeName == "zset" else { return }
    unknownStore(r, destination)
}
