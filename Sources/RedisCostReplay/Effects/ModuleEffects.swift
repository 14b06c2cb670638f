import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

// Writes of the Redis Stack modules (RedisJSON, RedisBloom, RedisTimeSeries): each keeps the
// count the module's own O(1) size command reports (JSON.OBJLEN/ARRLEN of the root, BF.CARD,
// CF.INFO items inserted, TOPK.INFO k, CMS.INFO count, TDIGEST.INFO observations, TS.INFO
// totalSamples). A write whose effect on that count the call alone cannot tell makes the key
// approximate; it never guesses.

/// The module type names `TYPE` reports.
package enum ModuleType {
    package static let bloom = "MBbloom--", cuckoo = "MBbloomCF", topK = "TopK-TYPE"
    package static let countMinSketch = "CMSk-TYPE", tDigest = "TDIS-TYPE", timeSeries = "TSDB-TYPE"
    /// Types whose module gives no copy callback: `COPY` answers "not supported for this module
    /// key" (checked on Redis 8.2.3 with the Redis Stack modules; RedisJSON documents copy).
    package static let withoutCopy: Set<String> = [bloom, cuckoo, topK, countMinSketch, tDigest, timeSeries, "vectorset"]
}

extension Replayer {
    /// Edits the count (and item identities, where kept) of a module value of `type`. Missing:
    /// created empty when `create`. Another type: nothing (the module answers WRONGTYPE).
    /// `body` returns false when it cannot tell the new count: the key becomes approximate.
    @discardableResult
    package func editModule(_ key: UnsafeRawBufferPointer, _ type: String, create: Bool, in db: Int? = nil,
                            _ body: (inout Int?, inout IdentitySet?) -> Bool) -> Bool {
        let db = db ?? database
        let id: Int32
        if let existing = lookup(key, in: db) {
            guard case .opaque(let existingType, _, _) = keyspace[existing].value, existingType == type else { return false }
            id = existing
        } else {
            guard create else { return false }
            id = keyspace.create(key, in: db, value: .opaque(type: type, size: 0, members: IdentitySet()))
        }
        let exact = keyspace.modify(id) { value -> Bool in
            guard case .opaque(_, var size, var members) = value else { return false }
            value = .placeholder
            defer { value = .opaque(type: type, size: size, members: members) }
            return body(&size, &members)
        }
        if !exact { keyspace[id].approximate = true }
        return true
    }

    /// Edits a JSON document; `body` returns false when the document's root length can no
    /// longer be told (the key becomes approximate).
    @discardableResult
    package func editJSON(_ key: UnsafeRawBufferPointer, _ body: (inout JSONDocument) -> Bool) -> Bool {
        guard let id = lookup(key) else { return false }
        let exact = keyspace.modify(id) { value -> Bool? in
            guard case .json(var document) = value else { return nil }
            value = .placeholder
            defer { value = .json(document) }
            return body(&document)
        }
        guard let exact else {
            // A sampled or loaded document the model holds only as a size.
            if case .opaque(let type, _, _) = keyspace[id].value, type == "ReJSON-RL" { keyspace[id].approximate = true }
            return false
        }
        if !exact { keyspace[id].approximate = true }
        return true
    }
}

/// Adds `n` to a count that may be unknown; false when the sum leaves Int (never for a real
/// server's counts, always for hostile numbers).
private func add(_ n: Int, to count: inout Int?) -> Bool {
    guard let current = count else { return false }
    let (sum, overflow) = current.addingReportingOverflow(n)
    guard !overflow, sum >= 0 else { count = nil; return false }
    count = sum
    return true
}

// MARK: - RedisJSON

/// What a JSON path names, as far as the root's length goes.
enum JSONPathTarget: Equatable {
    /// `$` or `.`: the whole document.
    case root
    /// One member of the root object (`$.name`, `.name`, `name`, `$["name"]`).
    case member(UInt64)
    /// One element of the root array (`$[3]`, `[-1]`).
    case element(Int64)
    /// Deeper inside: the root's length stays.
    case inside
    /// A wildcard or recursive step at the root (`$.*`, `$[*]`, `$..a`, filters): it may
    /// touch any number of the root's members.
    case many

    init(_ path: UnsafeRawBufferPointer) {
        var p = path[...]
        if p.first == UInt8(ascii: "$") { p = p.dropFirst() }
        if p.isEmpty || (p.count == 1 && p.first == UInt8(ascii: ".")) { self = .root; return }
        let special: Set<UInt8> = [UInt8(ascii: "."), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "*"), UInt8(ascii: "?"),
                                   UInt8(ascii: "\""), UInt8(ascii: "'"), UInt8(ascii: "$"), UInt8(ascii: "\\"), UInt8(ascii: "("), UInt8(ascii: "@")]
        if p.first == UInt8(ascii: ".") {
            p = p.dropFirst()
            guard let first = p.first, first != UInt8(ascii: "."), first != UInt8(ascii: "*") else { self = .many; return }
        } else if p.first == UInt8(ascii: "[") {
            // `["name"]`, `['name']` or `[n]`, alone.
            guard let close = p.firstIndex(of: UInt8(ascii: "]")) else { self = .inside; return }
            let inner = p[(p.startIndex + 1)..<close]
            let rest = p[(close + 1)...]
            if let quote = inner.first, quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'"), inner.count >= 2, inner.last == quote {
                let name = inner.dropFirst().dropLast()
                if name.contains(where: { $0 == quote || $0 == UInt8(ascii: "\\") }) { self = .many; return }
                self = rest.isEmpty ? .member(elementHash(UnsafeRawBufferPointer(rebasing: name))) : .inside
                return
            }
            if let index = integerValue(UnsafeRawBufferPointer(rebasing: inner)) {
                self = rest.isEmpty ? .element(index) : .inside
                return
            }
            self = .many
            return
        }
        // A bare name up to the next step.
        let end = p.firstIndex { special.contains($0) } ?? p.endIndex
        guard end > p.startIndex else { self = .many; return }
        self = end == p.endIndex ? .member(elementHash(UnsafeRawBufferPointer(rebasing: p[p.startIndex..<end]))) : .inside
    }
}

/// JSON.SET key path value [NX|XX], one triple of JSON.MSET, or JSON.MERGE (`merge`).
private func jsonSet(_ r: Replayer, key: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer,
                     onlyIfAbsent: Bool = false, onlyIfPresent: Bool = false, merge: Bool = false) {
    let target = JSONPathTarget(path)
    guard r.lookup(key) != nil else {
        // A new key takes only the root.
        guard target == .root, !onlyIfPresent, let document = JSONDocument(text: value) else { return }
        r.store(key, .json(document))
        return
    }
    r.editJSON(key) { document in
        switch target {
        case .root:
            guard !onlyIfAbsent else { return true }
            guard let new = JSONDocument(text: value) else { return false }
            if merge, new.shape == .object, document.shape == .object {
                // A merge adds the patch's members and deletes those it sets to null.
                document.bytes = nil
                return false
            }
            document = new
            return true
        case .member(let name):
            document.bytes = nil
            guard document.shape == .object else { return document.shape != nil }
            guard var members = document.members else { return onlyIfPresent }
            let present = members.contains(name)
            if (onlyIfAbsent && present) || (onlyIfPresent && !present) { return true }
            if merge, value.elementsEqual("null".utf8) {
                _ = members.remove(name)
            } else {
                _ = members.insert(name)
            }
            document.members = members
            document.count = members.count
            return true
        case .element, .inside, .many:
            document.bytes = nil
            return true
        }
    }
}

/// JSON.DEL / JSON.FORGET key [path].
private func jsonDelete(_ r: Replayer, _ a: Argv) {
    guard a.count > 1 else { return }
    let target = a.count > 2 ? JSONPathTarget(a[2]) : .root
    if target == .root {
        _ = r.delete(a[1])
        return
    }
    r.editJSON(a[1]) { document in
        document.bytes = nil
        switch target {
        case .member(let name):
            guard document.shape == .object else { return document.shape != nil }
            guard var members = document.members else { return false }
            _ = members.remove(name)
            document.members = members
            document.count = members.count
            return true
        case .element(let index):
            guard document.shape == .array else { return document.shape != nil }
            guard let count = document.count else { return false }
            if (index >= 0 && index < count) || (index < 0 && -index <= count) { document.count = count - 1 }
            return true
        case .many: return false
        case .root, .inside: return true
        }
    }
}

/// An array write (ARRAPPEND, ARRINSERT, ARRPOP, ARRTRIM) at `path` (`$` when nil): it changes
/// the root's length only when the path is the root and the root is an array.
private func jsonArrayAtRoot(_ r: Replayer, key: UnsafeRawBufferPointer, path: UnsafeRawBufferPointer?,
                             _ change: (inout Int) -> Void) {
    let target = path.map(JSONPathTarget.init) ?? .root
    r.editJSON(key) { document in
        document.bytes = nil
        switch target {
        case .root:
            guard document.shape == .array else { return document.shape != nil }
            guard var count = document.count else { return false }
            change(&count)
            document.count = count
            return true
        case .many: return false
        default: return true
        }
    }
}

/// Writes that change a value inside a document without touching the root's length.
private let jsonInside: Replayer.Effect = { r, a in
    guard a.count > 1 else { return }
    r.editJSON(a[1]) { document in
        document.bytes = nil
        return true
    }
}

private let jsonEffects: [String: Replayer.Effect] = [
    "JSON.SET": { r, a in
        guard a.count > 3 else { return }
        let nx = (4..<a.count).contains { a.token($0, "NX") }
        let xx = (4..<a.count).contains { a.token($0, "XX") }
        jsonSet(r, key: a[1], path: a[2], value: a[3], onlyIfAbsent: nx, onlyIfPresent: xx)
    },
    "JSON.MSET": { r, a in
        var i = 1
        while i + 2 < a.count {
            jsonSet(r, key: a[i], path: a[i + 1], value: a[i + 2])
            i += 3
        }
    },
    "JSON.MERGE": { r, a in
        guard a.count > 3 else { return }
        jsonSet(r, key: a[1], path: a[2], value: a[3], merge: true)
    },
    "JSON.DEL": jsonDelete,
    "JSON.FORGET": jsonDelete,
    "JSON.CLEAR": { r, a in
        guard a.count > 1 else { return }
        let target = a.count > 2 ? JSONPathTarget(a[2]) : .root
        r.editJSON(a[1]) { document in
            // Containers at the path are emptied, numbers set to 0.
            if target == .root, document.shape == .object || document.shape == .array {
                document.count = 0
                document.members = document.shape == .object ? IdentitySet() : nil
                document.bytes = 2
                return true
            }
            document.bytes = nil
            return target != .root || document.shape != nil
        }
    },
    "JSON.ARRAPPEND": { r, a in
        // JSON.ARRAPPEND key path value [value …] (the module refuses it without a path).
        guard a.count > 3 else { return }
        jsonArrayAtRoot(r, key: a[1], path: a[2]) { $0 += a.count - 3 }
    },
    "JSON.ARRINSERT": { r, a in
        // JSON.ARRINSERT key path index value [value …]: an index beyond the array is refused.
        guard a.count > 4, let index = a.int(3) else { return }
        jsonArrayAtRoot(r, key: a[1], path: a[2]) { count in
            guard (index >= 0 && index <= count) || (index < 0 && -index <= count) else { return }
            count += a.count - 4
        }
    },
    "JSON.ARRPOP": { r, a in
        guard a.count > 1 else { return }
        jsonArrayAtRoot(r, key: a[1], path: a.count > 2 ? a[2] : nil) { count in count = max(0, count - 1) }
    },
    "JSON.ARRTRIM": { r, a in
        // Inclusive start and stop, negative from the end (RedisJSON's ARRTRIM, like LTRIM).
        guard a.count > 4, let start = a.int(3), let stop = a.int(4) else { return }
        jsonArrayAtRoot(r, key: a[1], path: a[2]) { count in
            let n = Int64(count)
            let first = start < 0 ? max(0, n + start) : start
            let last = stop < 0 ? n + stop : min(stop, n - 1)
            count = first >= n || first > last ? 0 : Int(last - first + 1)
        }
    },
    "JSON.NUMINCRBY": jsonInside, "JSON.NUMMULTBY": jsonInside, "JSON.NUMPOWBY": jsonInside,
    "JSON.STRAPPEND": jsonInside, "JSON.TOGGLE": jsonInside,
]

// MARK: - RedisBloom

/// Adds items to a filter that counts each distinct item once (BF.CARD): exact while the
/// model holds the filter's items, approximate once it holds only a count.
private func addDistinct(_ r: Replayer, _ type: String, key: UnsafeRawBufferPointer, items: [UInt64], create: Bool) {
    r.editModule(key, type, create: create) { size, members in
        guard var set = members else { return items.isEmpty }
        for item in items where set.insert(item) { _ = add(1, to: &size) }
        members = set
        return size != nil
    }
}

/// Adds items to a cuckoo filter: CF.INFO's "Number of items inserted" counts every ADD, an
/// ADDNX only when the item is not (yet) in the filter.
private func cuckooAdd(_ r: Replayer, key: UnsafeRawBufferPointer, items: [UInt64], onlyNew: Bool, create: Bool) {
    r.editModule(key, ModuleType.cuckoo, create: create) { size, members in
        var exact = true
        for item in items {
            if onlyNew {
                guard var set = members else { exact = false; continue }
                if set.insert(item) { exact = add(1, to: &size) && exact }
                members = set
            } else {
                _ = members?.insert(item)
                exact = add(1, to: &size) && exact
            }
        }
        return exact
    }
}

/// `BF.INSERT` / `CF.INSERT[NX]` key [CAPACITY c] [ERROR e] [EXPANSION x] [NOCREATE] [NONSCALING] ITEMS item…
private func insertItems(_ a: Argv) -> (items: [UInt64], create: Bool)? {
    guard a.count > 3, let at = (2..<a.count).first(where: { a.token($0, "ITEMS") }) else { return nil }
    let create = !(2..<at).contains { a.token($0, "NOCREATE") }
    let items = ((at + 1)..<a.count).map { a.hash($0) }
    return (items, create)
}

private let bloomEffects: [String: Replayer.Effect] = [
    "BF.RESERVE": { r, a in
        guard a.count > 3, r.lookup(a[1]) == nil else { return }
        r.editModule(a[1], ModuleType.bloom, create: true) { _, _ in true }
    },
    "BF.ADD": { r, a in
        guard a.count > 2 else { return }
        addDistinct(r, ModuleType.bloom, key: a[1], items: [a.hash(2)], create: true)
    },
    "BF.MADD": { r, a in
        guard a.count > 2 else { return }
        addDistinct(r, ModuleType.bloom, key: a[1], items: (2..<a.count).map { a.hash($0) }, create: true)
    },
    "BF.INSERT": { r, a in
        guard let insert = insertItems(a) else { return }
        addDistinct(r, ModuleType.bloom, key: a[1], items: insert.items, create: insert.create)
    },
    "CF.RESERVE": { r, a in
        guard a.count > 2, r.lookup(a[1]) == nil else { return }
        r.editModule(a[1], ModuleType.cuckoo, create: true) { _, _ in true }
    },
    "CF.ADD": { r, a in
        guard a.count > 2 else { return }
        cuckooAdd(r, key: a[1], items: [a.hash(2)], onlyNew: false, create: true)
    },
    "CF.ADDNX": { r, a in
        guard a.count > 2 else { return }
        cuckooAdd(r, key: a[1], items: [a.hash(2)], onlyNew: true, create: true)
    },
    "CF.INSERT": { r, a in
        guard let insert = insertItems(a) else { return }
        cuckooAdd(r, key: a[1], items: insert.items, onlyNew: false, create: insert.create)
    },
    "CF.INSERTNX": { r, a in
        guard let insert = insertItems(a) else { return }
        cuckooAdd(r, key: a[1], items: insert.items, onlyNew: true, create: insert.create)
    },
    "CF.DEL": { r, a in
        // Deletes one copy when the item is there: known only when the model holds the items
        // and the item went in once (a second copy would stay behind).
        guard a.count > 2 else { return }
        let item = a.hash(2)
        r.editModule(a[1], ModuleType.cuckoo, create: false) { size, members in
            guard var set = members else { return false }
            guard set.remove(item) else { return true }
            members = set
            return add(-1, to: &size)
        }
    },
    "TOPK.RESERVE": { r, a in
        // TOPK.INFO's k: the list it keeps.
        guard a.count > 2, r.lookup(a[1]) == nil, let k = a.int(2), k > 0, k <= Int64(Int32.max) else { return }
        r.editModule(a[1], ModuleType.topK, create: true) { size, members in
            size = Int(k)
            members = nil
            return true
        }
    },
    "CMS.INITBYDIM": { r, a in
        guard a.count > 3, r.lookup(a[1]) == nil else { return }
        r.editModule(a[1], ModuleType.countMinSketch, create: true) { _, members in members = nil; return true }
    },
    "CMS.INITBYPROB": { r, a in
        guard a.count > 3, r.lookup(a[1]) == nil else { return }
        r.editModule(a[1], ModuleType.countMinSketch, create: true) { _, members in members = nil; return true }
    },
    "CMS.INCRBY": { r, a in
        // CMS.INFO's count: the sum of all increments. A non-integer increment is refused whole.
        guard a.count > 3, (a.count - 2) % 2 == 0 else { return }
        var total = 0
        for i in stride(from: 3, to: a.count, by: 2) {
            guard let n = a.int(i), n >= 0, n <= Int64(Int32.max) else { return }
            total += Int(n)
        }
        r.editModule(a[1], ModuleType.countMinSketch, create: false) { size, _ in add(total, to: &size) }
    },
    "CMS.MERGE": { r, a in
        // CMS.MERGE destination numKeys source… [WEIGHTS weight…]: the destination's count is
        // the weighted sum of the sources'.
        guard a.count > 3, let n = a.int(2), n > 0, Int(n) <= a.count - 3 else { return }
        var total: Int? = 0
        var weights: [Int64] = Array(repeating: 1, count: Int(n))
        let weightsAt = 3 + Int(n)
        if weightsAt < a.count, a.token(weightsAt, "WEIGHTS") {
            for i in 0..<Int(n) { weights[i] = a.int(weightsAt + 1 + i) ?? -1 }
        }
        for i in 0..<Int(n) {
            guard let id = r.lookup(a[3 + i]), case .opaque(ModuleType.countMinSketch, let size?, _) = r.keyspace[id].value,
                  weights[i] >= 0, weights[i] <= Int64(Int32.max) else { total = nil; break }
            let (product, overflow) = size.multipliedReportingOverflow(by: Int(weights[i]))
            guard !overflow, add(product, to: &total) else { total = nil; break }
        }
        r.editModule(a[1], ModuleType.countMinSketch, create: false) { size, _ in
            size = total
            return total != nil
        }
    },
    "TDIGEST.CREATE": { r, a in
        guard a.count > 1, r.lookup(a[1]) == nil else { return }
        r.editModule(a[1], ModuleType.tDigest, create: true) { _, members in members = nil; return true }
    },
    "TDIGEST.ADD": { r, a in
        guard a.count > 2 else { return }
        r.editModule(a[1], ModuleType.tDigest, create: false) { size, _ in add(a.count - 2, to: &size) }
    },
    "TDIGEST.RESET": { r, a in
        guard a.count > 1 else { return }
        r.editModule(a[1], ModuleType.tDigest, create: false) { size, _ in size = 0; return true }
    },
    "TDIGEST.MERGE": { r, a in
        // TDIGEST.MERGE destination numkeys source… [COMPRESSION c] [OVERRIDE]: the sources'
        // observations, plus the destination's own unless OVERRIDE.
        guard a.count > 3, let n = a.int(2), n > 0, Int(n) <= a.count - 3 else { return }
        let override = ((3 + Int(n))..<a.count).contains { a.token($0, "OVERRIDE") }
        var total: Int? = 0
        for i in 0..<Int(n) {
            guard let id = r.lookup(a[3 + i]), case .opaque(ModuleType.tDigest, let size?, _) = r.keyspace[id].value,
                  add(size, to: &total) else { total = nil; break }
        }
        let isSource = (0..<Int(n)).contains { a[3 + $0].elementsEqual(a[1]) }
        r.editModule(a[1], ModuleType.tDigest, create: true) { size, members in
            members = nil
            guard let sum = total else { size = nil; return false }
            if override || isSource {
                size = sum
                return true
            }
            return add(sum, to: &size)
        }
    },
]

// MARK: - RedisTimeSeries

/// A new sample: one more in TS.INFO's totalSamples. A series with a retention drops old
/// samples as new ones come, which the call does not show: it is approximate from then on.
private func addSample(_ r: Replayer, key: UnsafeRawBufferPointer, create: Bool, retention: Bool) {
    r.editModule(key, ModuleType.timeSeries, create: create) { size, members in
        members = nil
        return add(1, to: &size) && !retention
    }
}

/// Whether the options from `from` give the series a retention other than 0.
private func hasRetention(_ a: Argv, from: Int) -> Bool {
    guard let at = (from..<a.count).first(where: { a.token($0, "RETENTION") }) else { return false }
    return a.int(at + 1) != 0
}

private let timeSeriesEffects: [String: Replayer.Effect] = [
    "TS.CREATE": { r, a in
        guard a.count > 1, r.lookup(a[1]) == nil else { return }
        let retention = hasRetention(a, from: 2)
        r.editModule(a[1], ModuleType.timeSeries, create: true) { _, members in members = nil; return !retention }
    },
    "TS.ADD": { r, a in
        guard a.count > 3 else { return }
        addSample(r, key: a[1], create: true, retention: hasRetention(a, from: 4))
    },
    "TS.MADD": { r, a in
        // TS.MADD key timestamp value [key timestamp value …]: each key must exist.
        guard a.count > 3, (a.count - 1) % 3 == 0 else { return }
        for i in stride(from: 1, to: a.count, by: 3) { addSample(r, key: a[i], create: false, retention: false) }
    },
    "TS.INCRBY": { r, a in
        guard a.count > 2 else { return }
        addSample(r, key: a[1], create: true, retention: hasRetention(a, from: 3))
    },
    "TS.DECRBY": { r, a in
        guard a.count > 2 else { return }
        addSample(r, key: a[1], create: true, retention: hasRetention(a, from: 3))
    },
    "TS.DEL": { r, a in
        // Removes the samples in a time range: how many, the call does not say.
        guard a.count > 3 else { return }
        r.editModule(a[1], ModuleType.timeSeries, create: false) { size, _ in size == 0 }
    },
    "TS.ALTER": { r, a in
        guard a.count > 1, hasRetention(a, from: 2) else { return }
        r.editModule(a[1], ModuleType.timeSeries, create: false) { _, _ in false }
    },
    "TS.CREATERULE": { r, a in
        // The destination receives a sample per closed bucket of the source from now on.
        guard a.count > 2 else { return }
        r.editModule(a[2], ModuleType.timeSeries, create: false) { _, _ in false }
    },
]

package let moduleEffects: [String: Replayer.Effect] = jsonEffects
    .merging(bloomEffects) { first, _ in first }
    .merging(timeSeriesEffects) { first, _ in first }
