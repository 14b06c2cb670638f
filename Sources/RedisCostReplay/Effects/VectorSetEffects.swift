import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes to Redis 8 vector sets: element identities, so VCARD is exact.
package let vectorSetEffects: [String: Replayer.Effect] = [
    "VADD": { r, a in
        // VADD key [REDUCE dim] (FP32 blob | VALUES n v1 … vn) element [CAS] [NOQUANT|BIN|Q8] [EF n] [SETATTR json] [M n]
        var i = 2
        if a.token(i, "REDUCE") { i += 2 }
        if a.token(i, "FP32") {
            i += 2
        } else if a.token(i, "VALUES"), let n = a.int(i + 1), n >= 0, n < a.count {
            i += 2 + Int(n)
        } else {
            return
        }
        guard i < a.count else { return }
        let element = a.hash(i)
        r.editVectorSet(a[1], create: true) { set in set.insert(element) }
    },
    "VREM": { r, a in
        // Module commands report arity -1: the call's own length is checked here.
        guard a.count > 2 else { return }
        r.editVectorSet(a[1], create: false) { set in set.remove(a.hash(2)) }
    },
]
