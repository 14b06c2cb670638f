import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// A map from 64-bit identities (which are hashes already) to small integers: open
/// addressing with linear probing, no second hashing, no removal. The analysis looks up
/// several of these per call (command spellings, clients, keys, patterns); Swift's
/// Dictionary would hash each key again with SipHash.
package struct IdentityMap {
    private var keys: [UInt64]
    private var values: [Int32]
    private var mask: Int
    public private(set) var count = 0
    /// Identity 0 marks an empty slot; its own value is kept aside.
    private var zeroValue: Int32?

    package init(capacity: Int = 64) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        keys = Array(repeating: 0, count: size)
        values = Array(repeating: 0, count: size)
        mask = size - 1
    }

    package subscript(key: UInt64) -> Int? {
        get {
            if key == 0 { return zeroValue.map(Int.init) }
            var i = Int(truncatingIfNeeded: key ^ (key >> 32)) & mask
            while true {
                let k = keys[i]
                if k == key { return Int(values[i]) }
                if k == 0 { return nil }
                i = (i + 1) & mask
            }
        }
        set {
            guard let newValue else { preconditionFailure("IdentityMap does not remove") }
            if key == 0 {
                if zeroValue == nil { count += 1 }
                zeroValue = Int32(newValue)
                return
            }
            var i = Int(truncatingIfNeeded: key ^ (key >> 32)) & mask
            while true {
                let k = keys[i]
                if k == key { values[i] = Int32(newValue); return }
                if k == 0 { break }
                i = (i + 1) & mask
            }
            keys[i] = key
            values[i] = Int32(newValue)
            count += 1
            if count * 2 > keys.count { grow() }
        }
    }

    private mutating func grow() {
        let oldKeys = keys, oldValues = values
        keys = Array(repeating: 0, count: oldKeys.count * 2)
        values = Array(repeating: 0, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (key, value) in zip(oldKeys, oldValues) where key != 0 {
            var i = Int(truncatingIfNeeded: key ^ (key >> 32)) & mask
            while keys[i] != 0 { i = (i + 1) & mask }
            keys[i] = key
            values[i] = value
        }
    }
}

/// The index of `key`'s entry in `items`, appending a new one made by `make` the first time.
@inline(__always)
package func intern<T>(_ key: UInt64, in index: inout IdentityMap, _ items: inout [T], make: () -> T) -> Int {
    if let known = index[key] { return known }
    index[key] = items.count
    items.append(make())
    return items.count - 1
}
