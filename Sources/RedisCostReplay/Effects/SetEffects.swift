import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes to sets, with members as identities so duplicates and removals are exact.
package let setEffects: [String: Replayer.Effect] = [
    "SADD": { r, a in
        r.editSet(a[1], create: true) { set in
            for i in 2..<a.count { set.insert(a.hash(i)) }
        }
    },
    "SREM": { r, a in
        r.editSet(a[1], create: false) { set in
            for i in 2..<a.count { set.remove(a.hash(i)) }
        }
    },
    "SMOVE": { r, a in
        let member = a.hash(3)
        guard r.accepts(a[2], .set) else { return }
        let moved = r.editSet(a[1], create: false) { set -> Bool in
            let removed = set.remove(member)
            return removed
        } ?? false
        guard moved else { return }
        r.editSet(a[2], create: true) { set in
            set.insert(member)
        }
    },
    "SPOP": { r, a in
        // An AOF records SPOP as SREM of the members it took; a MONITOR capture does not
        // name them, so the count is exact but which members left is not.
        let count = a.count > 2 ? Int(a.int(2) ?? 0) : 1
        r.editSet(a[1], create: false) { set in
            for _ in 0..<max(count, 0) { guard set.removeAny() != nil else { break } }
        }
        r.markApproximate(a[1])
    },
    "SINTERSTORE": { r, a in setStore(r, a, from: 2) { sets in
        guard var result = sets.first else { return IdentitySet() }
        for other in sets.dropFirst() { result = IdentitySet(result.elements.filter(other.contains)) }
        return result
    } },
    "SUNIONSTORE": { r, a in setStore(r, a, from: 2) { sets in
        var result = IdentitySet()
        for set in sets { for member in set.elements { result.insert(member) } }
        return result
    } },
    "SDIFFSTORE": { r, a in setStore(r, a, from: 2) { sets in
        guard var result = sets.first else { return IdentitySet() }
        for other in sets.dropFirst() { for member in other.elements { result.remove(member) } }
        return result
    } },
]

/// The *STORE set operations: a missing source is an empty set, another type an error.
package func setStore(_ r: Replayer, _ a: Argv, from first: Int, _ combine: ([IdentitySet]) -> IdentitySet) {
    var sets: [IdentitySet] = []
    var approximate = false
    for i in first..<a.count {
        guard let id = r.lookup(a[i]) else { sets.append(IdentitySet()); continue }
        guard case .set(let set) = r.keyspace[id].value else { return }
        approximate = approximate || r.keyspace[id].approximate
        sets.append(set)
    }
    let result = combine(sets)
    guard result.count > 0 else { _ = r.delete(a[1]); return }
    let id = r.store(a[1], .set(result))
    r.keyspace[id].approximate = approximate
}
