import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes to lists. Elements are kept in order as identities, so LREM, LINSERT and LSET
/// find the elements they name exactly.
package let listEffects: [String: Replayer.Effect] = [
    "LPUSH": { r, a in push(r, a, front: true, create: true) },
    "RPUSH": { r, a in push(r, a, front: false, create: true) },
    "LPUSHX": { r, a in push(r, a, front: true, create: false) },
    "RPUSHX": { r, a in push(r, a, front: false, create: false) },
    "LPOP": { r, a in pop(r, a[1], front: true, count: a.count > 2 ? Int(a.int(2) ?? 0) : 1) },
    "RPOP": { r, a in pop(r, a[1], front: false, count: a.count > 2 ? Int(a.int(2) ?? 0) : 1) },
    // Blocking pops run as pops when an element is there (an AOF records them as LPOP/RPOP).
    "BLPOP": { r, a in popFirstNonEmpty(r, a, keys: 1..<(a.count - 1), front: true, count: 1) },
    "BRPOP": { r, a in popFirstNonEmpty(r, a, keys: 1..<(a.count - 1), front: false, count: 1) },
    "LMPOP": { r, a in multiPop(r, a, numKeysAt: 1) },
    "BLMPOP": { r, a in multiPop(r, a, numKeysAt: 2) },
    "LMOVE": { r, a in move(r, a[1], a[2], fromFront: a.token(3, "LEFT"), toFront: a.token(4, "LEFT")) },
    "BLMOVE": { r, a in move(r, a[1], a[2], fromFront: a.token(3, "LEFT"), toFront: a.token(4, "LEFT")) },
    "RPOPLPUSH": { r, a in move(r, a[1], a[2], fromFront: false, toFront: true) },
    "BRPOPLPUSH": { r, a in move(r, a[1], a[2], fromFront: false, toFront: true) },
    "LSET": { r, a in
        guard let index = a.int(2) else { return }
        let element = a.hash(3)
        r.editList(a[1], create: false) { list in
            let i = index < 0 ? Int(index) + list.count : Int(index)
            if i >= 0, i < list.count { list[i] = element }
        }
    },
    "LINSERT": { r, a in
        let pivot = a.hash(3)
        let element = a.hash(4)
        let before = a.token(2, "BEFORE")
        r.editList(a[1], create: false) { list in
            var items = list.elements
            if let at = items.firstIndex(of: pivot) {
                items.insert(element, at: before ? at : at + 1)
                list.replace(with: items)
            }
        }
    },
    "LREM": { r, a in
        guard let count = a.int(2) else { return }
        let element = a.hash(3)
        r.editList(a[1], create: false) { list in
            // One pass, from the head (count ≥ 0) or the tail (count < 0), as the server walks.
            var items: [UInt64] = count >= 0 ? list.elements : list.elements.reversed()
            var remaining = count == 0 ? UInt64.max : count.magnitude
            items.removeAll { item in
                guard remaining > 0, item == element else { return false }
                remaining -= 1
                return true
            }
            list.replace(with: count >= 0 ? items : items.reversed())
        }
    },
    "LTRIM": { r, a in
        guard let start = a.int(2), let stop = a.int(3) else { return }
        r.editList(a[1], create: false) { list in
            // Cutting the ends is O(1), whatever is cut (the server frees each cut element).
            let kept = indexRange(start: start, stop: stop, count: list.count) ?? 0..<0
            list.removeLast(list.count - kept.upperBound)
            list.removeFirst(kept.lowerBound)
        }
    },
]

package func push(_ r: Replayer, _ a: Argv, front: Bool, create: Bool) {
    r.editList(a[1], create: create) { list in
        for i in 2..<a.count {
            if front { list.pushFront(a.hash(i)) } else { list.pushBack(a.hash(i)) }
        }
    }
}

@discardableResult
package func pop(_ r: Replayer, _ key: UnsafeRawBufferPointer, front: Bool, count: Int) -> [UInt64] {
    r.editList(key, create: false) { list -> [UInt64] in
        var popped: [UInt64] = []
        for _ in 0..<max(count, 0) {
            guard let element = front ? list.popFront() : list.popBack() else { break }
            popped.append(element)
        }
        return popped
    } ?? []
}

package func popFirstNonEmpty(_ r: Replayer, _ a: Argv, keys: Range<Int>, front: Bool, count: Int) {
    for i in keys where !pop(r, a[i], front: front, count: count).isEmpty { return }
}

package func multiPop(_ r: Replayer, _ a: Argv, numKeysAt: Int) {
    // [B]LMPOP [timeout] numkeys key… LEFT|RIGHT [COUNT n]
    guard let numKeys = a.int(numKeysAt), numKeys > 0, numKeys < a.count - numKeysAt - 1 else { return }
    let keys = (numKeysAt + 1)..<(numKeysAt + 1 + Int(numKeys))
    let front = a.token(keys.upperBound, "LEFT")
    guard front || a.token(keys.upperBound, "RIGHT") else { return }
    var count = 1
    if a.token(keys.upperBound + 1, "COUNT") {
        guard let n = a.int(keys.upperBound + 2), n > 0 else { return }
        count = Int(n)
    }
    popFirstNonEmpty(r, a, keys: keys, front: front, count: count)
}

/// LMOVE, RPOPLPUSH and their blocking forms. Onto the same key, the pop may empty the list
/// and the push refill it: the replayer deletes an emptied key only when the write ends, so
/// the list keeps its TTL as it does on the server (Dramatiq rotates one-job queues this way).
package func move(_ r: Replayer, _ source: UnsafeRawBufferPointer, _ destination: UnsafeRawBufferPointer, fromFront: Bool, toFront: Bool) {
    // The destination must be a list (or missing) before anything moves.
    guard r.accepts(destination, .list) else { return }
    guard let element = pop(r, source, front: fromFront, count: 1).first else { return }
    r.editList(destination, create: true) { list in
        if toFront { list.pushFront(element) } else { list.pushBack(element) }
    }
}
