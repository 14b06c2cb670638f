import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes to string values. Strings keep their length, and their value when it is a
/// canonical integer, so INCR, APPEND and SETRANGE change STRLEN exactly.
package let stringEffects: [String: Replayer.Effect] = [
    "SET": { r, a in
        // SET key value [NX|XX|IFEQ v] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL]
        var keepTTL = false
        var expireAt: Int64 = 0
        var assumedEqual = false
        var i = 3
        // Looked up only for NX and XX (most SETs have neither): nothing before them changes
        // the keyspace, and the cost stage has already looked the key up (expiring it if due).
        func exists() -> Bool { r.lookup(a[1]) != nil }
        while i < a.count {
            if a.token(i, "NX") && exists() { return }
            if a.token(i, "XX") && !exists() { return }
            if a.token(i, "IFEQ") {
                // Valkey 8.1: only when the value equals the argument. The model knows a value
                // when it is an integer; otherwise it assumes the values were equal.
                guard let id = r.lookup(a[1]), case .string(let string) = r.keyspace[id].value else { return }
                if let integer = string.integer {
                    guard i + 1 < a.count, integerValue(a[i + 1]) == integer else { return }
                } else {
                    assumedEqual = true
                }
                i += 2
                continue
            }
            if a.token(i, "KEEPTTL") { keepTTL = true }
            if a.token(i, "GET"), holdsOtherType(r, a[1]) { return }
            switch expiry(r, a, at: i) {
            case .at(let when): expireAt = when
            case .invalid: return
            case .none: break
            }
            i += 1
        }
        // KEEPTTL with a time is a syntax error (t_string.c, parseExtendedStringArgumentsOrReply).
        if keepTTL && expireAt != 0 { return }
        let id = r.store(a[1], stringValue(a[2]), keepTTL: keepTTL)
        if expireAt != 0 { r.keyspace.setExpireAt(id, expireAt) }
        r.keyspace[id].approximate = assumedEqual
    },
    "SETNX": { r, a in if r.lookup(a[1]) == nil { r.store(a[1], stringValue(a[2])) } },
    "SETEX": { r, a in setWithTTL(r, a, scale: 1000) },
    "PSETEX": { r, a in setWithTTL(r, a, scale: 1) },
    "GETSET": { r, a in if !holdsOtherType(r, a[1]) { r.store(a[1], stringValue(a[2])) } },
    "GETDEL": { r, a in
        if let id = r.lookup(a[1]), case .string = r.keyspace[id].value { r.keyspace.delete(id, in: r.database) }
    },
    "GETEX": { r, a in
        guard a.count > 2, let id = r.lookup(a[1]), !holdsOtherType(r, a[1]) else { return }
        if a.token(2, "PERSIST") { r.keyspace.setExpireAt(id, 0); return }
        guard case .at(let when) = expiry(r, a, at: 2) else { return }
        // EXAT or PXAT already past deletes the key (t_string.c, getexCommand).
        if r.expiresByClock, when <= r.nowMilliseconds {
            r.keyspace.delete(id, in: r.database)
        } else {
            r.keyspace.setExpireAt(id, when)
        }
    },
    "MSET": { r, a in
        var i = 1
        while i + 1 < a.count { r.store(a[i], stringValue(a[i + 1])); i += 2 }
    },
    "MSETEX": { r, a in
        // MSETEX numkeys key value [key value …] [NX|XX] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] (Valkey 9)
        guard let numKeys = a.int(1), numKeys > 0, numKeys <= Int64(a.count) / 2, 2 + Int(numKeys) * 2 <= a.count else { return }
        let pairs = stride(from: 2, to: 2 + Int(numKeys) * 2, by: 2)
        var keepTTL = false
        var expireAt: Int64 = 0
        var i = 2 + Int(numKeys) * 2
        while i < a.count {
            if a.token(i, "NX"), pairs.contains(where: { r.lookup(a[$0]) != nil }) { return }
            if a.token(i, "XX"), pairs.contains(where: { r.lookup(a[$0]) == nil }) { return }
            if a.token(i, "KEEPTTL") { keepTTL = true }
            switch expiry(r, a, at: i) {
            case .at(let when): expireAt = when
            case .invalid: return
            case .none: break
            }
            i += 1
        }
        if keepTTL && expireAt != 0 { return }
        for k in pairs {
            let id = r.store(a[k], stringValue(a[k + 1]), keepTTL: keepTTL)
            if expireAt != 0 { r.keyspace.setExpireAt(id, expireAt) }
        }
    },
    "DELIFEQ": { r, a in
        // DELIFEQ key value (Valkey 9): the model knows a string's value only when it is an integer.
        guard let id = r.lookup(a[1]), case .string(let string) = r.keyspace[id].value else { return }
        if let integer = string.integer {
            if integerValue(a[2]) == integer { r.keyspace.delete(id, in: r.database) }
        } else {
            r.keyspace[id].approximate = true
        }
    },
    "MSETNX": { r, a in
        var i = 1
        while i + 1 < a.count { if r.lookup(a[i]) != nil { return }; i += 2 }
        i = 1
        while i + 1 < a.count { r.store(a[i], stringValue(a[i + 1])); i += 2 }
    },
    "APPEND": { r, a in
        changeString(r, a[1], length: { $0 + a[2].count }, bytes: { $0 + Array(a[2]) })
    },
    "SETRANGE": { r, a in
        // Redis refuses a string past proto-max-bulk-len (512 MB by default: checkStringLength).
        guard let offset = a.int(2), offset >= 0, offset <= maximumStringLength - Int64(a[3].count) else { return }
        if a[3].isEmpty { return }
        let end = Int(offset) + a[3].count
        changeString(r, a[1], length: { max($0, end) }, bytes: { old in
            var text = old
            if text.count < end { text += [UInt8](repeating: 0, count: end - text.count) }
            text.replaceSubrange(Int(offset)..<end, with: Array(a[3]))
            return text
        })
    },
    "INCR": { r, a in increment(r, a[1], by: 1) },
    "DECR": { r, a in increment(r, a[1], by: -1) },
    "INCRBY": { r, a in if let n = a.int(2) { increment(r, a[1], by: n) } },
    "DECRBY": { r, a in if let n = a.int(2), n != .min { increment(r, a[1], by: -n) } },
    "INCRBYFLOAT": { r, a in
        guard let delta = doubleValue(a[2]) else { return }
        var current = 0.0
        if let id = r.lookup(a[1]) {
            guard case .string(let string) = r.keyspace[id].value else { return }
            let integer = string.integer
            guard let integer else { r.keyspace[id].approximate = true; return }
            current = Double(integer)
        }
        let text = formatFloatLikeRedis(current + delta)
        _ = text.withUnsafeBytes { r.store(a[1], stringValue($0), keepTTL: true) }
    },
    "SETBIT": { r, a in
        guard let bit = a.int(2), bit >= 0 else { return }
        let needed = Int(bit / 8) + 1
        changeString(r, a[1], length: { max($0, needed) })
    },
    "BITFIELD": { r, a in
        // Only SET and INCRBY write; each needs the bytes up to offset + width.
        var needed = 0
        var i = 2
        while i < a.count {
            if (a.token(i, "SET") || a.token(i, "INCRBY")), i + 3 < a.count {
                let type = Array(a[i + 1])
                let width = Int(String(decoding: type.dropFirst(), as: UTF8.self)) ?? 0
                var offsetText = Array(a[i + 2])
                let multiply = offsetText.first == UInt8(ascii: "#")
                if multiply { offsetText.removeFirst() }
                // Redis refuses offsets past 2^32 bits (512 MB) and widths past 64: so does the model.
                if let raw = Int(String(decoding: offsetText, as: UTF8.self)), raw >= 0, raw < 1 << 32, (1...64).contains(width) {
                    let bitOffset = multiply ? raw * width : raw
                    if bitOffset + width <= 1 << 32 { needed = max(needed, (bitOffset + width + 7) / 8) }
                }
                i += 4
                continue
            }
            i += a.token(i, "GET") ? 3 : (a.token(i, "OVERFLOW") ? 2 : 1)
        }
        if needed > 0 { changeString(r, a[1], length: { max($0, needed) }) }
    },
    "BITOP": { r, a in
        // BITOP op destkey key…: the result is as long as the longest source (NOT: its one source).
        var longest = 0
        var unknown = false
        for i in 3..<a.count {
            guard let id = r.lookup(a[i]) else { continue }
            guard case .string(let string) = r.keyspace[id].value else { return }
            let length = string.length
            if let length { longest = max(longest, length) } else { unknown = true }
        }
        if longest == 0 && !unknown { _ = r.delete(a[2]); return }
        let id = r.store(a[2], .string(length: unknown ? nil : longest, integer: nil))
        r.keyspace[id].approximate = unknown
    },
    "PFADD": { r, a in hyperLogLog(r, a[1]) },
    "PFMERGE": { r, a in hyperLogLog(r, a[1]) },
]

/// What an expiry option of SET, GETEX, SETEX or MSETEX asks for.
package enum ExpiryOption: Equatable {
    /// An absolute time in Unix milliseconds.
    case at(Int64)
    /// Not positive, or not positive once in milliseconds and on the clock (an overflow):
    /// "invalid expire time", the whole call changes nothing (t_string.c, getExpireMillisecondsOrReply).
    case invalid
    /// The argument is no expiry option.
    case none
}

/// `EX s`, `PX ms`, `EXAT s` or `PXAT ms` at `i` (a missing number is invalid too).
package func expiry(_ r: Replayer, _ a: Argv, at i: Int) -> ExpiryOption {
    let scale: Int64, base: Int64
    if a.token(i, "EX") { (scale, base) = (1000, r.nowMilliseconds) }
    else if a.token(i, "PX") { (scale, base) = (1, r.nowMilliseconds) }
    else if a.token(i, "EXAT") { (scale, base) = (1000, 0) }
    else if a.token(i, "PXAT") { (scale, base) = (1, 0) }
    else { return .none }
    return positiveExpiry(a.int(i + 1), scale: scale, plus: base)
}

/// `amount` × `scale` + `base`, valid only when both it and `amount` are positive.
package func positiveExpiry(_ amount: Int64?, scale: Int64, plus base: Int64) -> ExpiryOption {
    guard let amount, amount > 0, let when = expireTime(amount, scale: scale, plus: base), when > 0 else { return .invalid }
    return .at(when)
}

/// Whether the key holds a value the model knows is not a string: the writes that read the
/// old value first (GETSET, GETEX, SET … GET, PFADD) then answer WRONGTYPE and change nothing.
package func holdsOtherType(_ r: Replayer, _ key: UnsafeRawBufferPointer) -> Bool {
    guard let id = r.lookup(key) else { return false }
    let type = r.keyspace[id].value.typeName
    return type != "string" && type != "unknown"
}

/// A string value's record from its bytes.
package func stringValue(_ bytes: UnsafeRawBufferPointer) -> KeyValue {
    .string(length: bytes.count, integer: integerValue(bytes))
}

/// SETEX and PSETEX: the time is relative and must be valid as SET's EX and PX are.
package func setWithTTL(_ r: Replayer, _ a: Argv, scale: Int64) {
    guard case .at(let when) = positiveExpiry(a.int(2), scale: scale, plus: r.nowMilliseconds) else { return }
    let id = r.store(a[1], stringValue(a[3]))
    r.keyspace.setExpireAt(id, when)
}

package func increment(_ r: Replayer, _ key: UnsafeRawBufferPointer, by delta: Int64) {
    guard let id = r.lookup(key) else {
        r.store(key, .string(length: decimalLength(delta), integer: delta))
        return
    }
    guard case .string(let string) = r.keyspace[id].value else { return }
    guard let integer = string.integer else {
        // INCR on a value we do not know as an integer (e.g. "007" is not one; Redis errors).
        r.keyspace[id].approximate = true
        return
    }
    let (sum, overflow) = integer.addingReportingOverflow(delta)
    guard !overflow else { return }
    r.keyspace[id].value = .string(length: decimalLength(sum), integer: sum)
}

/// The length of `value`'s decimal text as Redis writes it (ll2string: a '-' and the digits),
/// counted without making the text.
package func decimalLength(_ value: Int64) -> Int {
    var magnitude = value.magnitude
    var length = value < 0 ? 2 : 1
    while magnitude >= 10 {
        magnitude /= 10
        length += 1
    }
    return length
}

/// Changes a string: through its bytes when the model knows them (a missing key, or an
/// integer value), so the value stays known; otherwise through its length alone.
package let maximumStringLength: Int64 = 512 << 20

/// The model keeps a string's length and, when it is an integer, its value (INCR needs it):
/// a longer result than any integer's text is only a length, never its bytes.
package let longestIntegerText = 20

package func changeString(_ r: Replayer, _ key: UnsafeRawBufferPointer, length newLength: (Int) -> Int,
                  bytes transform: (([UInt8]) -> [UInt8])? = nil) {
    var known: [UInt8]? = []
    var length = 0
    if let id = r.lookup(key) {
        guard case .string(let string) = r.keyspace[id].value else { return }
        let oldLength = string.length, integer = string.integer
        guard let oldLength else {
            r.keyspace[id].approximate = true
            return
        }
        length = oldLength
        known = integer.map { Array(String($0).utf8) }
    }
    if let transform, let known, newLength(length) <= longestIntegerText {
        _ = transform(known).withUnsafeBytes { r.store(key, stringValue($0), keepTTL: true) }
    } else {
        r.store(key, .string(length: newLength(length), integer: nil), keepTTL: true)
    }
}

/// HyperLogLog strings change encoding and length as they fill: the model does not follow them.
package func hyperLogLog(_ r: Replayer, _ key: UnsafeRawBufferPointer) {
    if holdsOtherType(r, key) { return }
    let id = r.lookup(key) ?? r.keyspace.create(key, in: r.database, value: .string(length: nil, integer: nil))
    r.keyspace[id].value = .string(length: nil, integer: nil)
    r.keyspace[id].approximate = true
}

/// INCRBYFLOAT's result text: Redis prints with %.17Lf and strips trailing zeros.
package func formatFloatLikeRedis(_ value: Double) -> [UInt8] {
    var text = String(format: "%.17f", value)
    if text.contains(".") {
        while text.hasSuffix("0") { text.removeLast() }
        if text.hasSuffix(".") { text.removeLast() }
    }
    return Array(text.utf8)
}
