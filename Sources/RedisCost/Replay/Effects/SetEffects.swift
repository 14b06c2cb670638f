/// Writes to sets, with members as identities so duplicates and removals are exact.
let setEffects: [String: Replayer.Effect] = [
    "SADD": { r, a in
        r.edit(a[1], .set, create: true) { value in
            guard case .set(var set) = value else { return }
            for i in 2..<a.count { set.insert(a.hash(i)) }
            value = .set(set)
        }
    },
    "SREM": { r, a in
        r.edit(a[1], .set, create: false) { value in
            guard case .set(var set) = value else { return }
            for i in 2..<a.count { set.remove(a.hash(i)) }
            value = .set(set)
        }
    },
    "SMOVE": { r, a in
        let member = a.hash(3)
        if let id = r.lookup(a[2]), case .set = r.keyspace[id].value {} else if r.lookup(a[2]) != nil { return }
        let moved = r.edit(a[1], .set, create: false) { value -> Bool in
            guard case .set(var set) = value else { return false }
            let removed = set.remove(member)
            value = .set(set)
            return removed
        } ?? false
        guard moved else { return }
        r.edit(a[2], .set, create: true) { value in
            guard case .set(var set) = value else { return }
            set.insert(member)
            value = .set(set)
        }
    },
    "SPOP": { r, a in
        // An AOF records SPOP as SREM of the members it took; a MONITOR capture does not
        // name them, so the count is exact but which members left is not.
        let count = a.count > 2 ? Int(a.int(2) ?? 0) : 1
        r.edit(a[1], .set, create: false) { value in
            guard case .set(var set) = value else { return }
            for member in set.elements.prefix(count) { set.remove(member) }
            value = .set(set)
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
func setStore(_ r: Replayer, _ a: Argv, from first: Int, _ combine: ([IdentitySet]) -> IdentitySet) {
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
