import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable

/// Writes to streams: entry IDs in order, so trimming by MAXLEN or MINID and XDEL are exact.
/// (An AOF records an approximate `MAXLEN ~ n` trim as the exact `MAXLEN = n` it produced.)
package let streamEffects: [String: Replayer.Effect] = [
    "XADD": { r, a in
        // XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] id|* field value…
        var i = 2
        var create = true
        var trim: TrimRule?
        while i < a.count {
            if a.token(i, "NOMKSTREAM") { create = false; i += 1; continue }
            if a.token(i, "MAXLEN") || a.token(i, "MINID") {
                let (rule, next) = trimRule(a, at: i)
                guard let rule else { return }  // a bad threshold: the server adds nothing
                trim = rule
                i = next
                continue
            }
            break
        }
        guard i < a.count else { return }
        let idArgument = a[i]
        var approximateTrim = false
        r.editStream(a[1], create: create) { stream in
            let id: StreamID
            if idArgument.count == 1, idArgument[0] == UInt8(ascii: "*") {
                let ms = UInt64(max(r.nowMilliseconds, 0))
                id = ms > stream.lastID.milliseconds
                    ? StreamID(milliseconds: ms, sequence: 0)
                    : StreamID(milliseconds: stream.lastID.milliseconds, sequence: stream.lastID.sequence &+ 1)
            } else if let explicit = StreamID(idArgument) {
                id = explicit
            } else {
                return
            }
            guard stream.append(id) else { return }
            if let trim { approximateTrim = apply(trim, to: &stream) }
        }
        if approximateTrim { r.markApproximate(a[1]) }
    },
    "XTRIM": { r, a in
        let (rule, _) = trimRule(a, at: 2)
        guard let rule else { return }
        var approximate = false
        r.editStream(a[1], create: false) { stream in
            approximate = apply(rule, to: &stream)
        }
        if approximate { r.markApproximate(a[1]) }
    },
    "XDEL": { r, a in
        r.editStream(a[1], create: false) { stream in
            for i in 2..<a.count { if let id = StreamID(a[i]) { stream.delete(id) } }
        }
    },
    // XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id…
    "XDELEX": { r, a in deleteEntries(r, a, optionsFrom: 2) },
    // XACKDEL key group [KEEPREF|DELREF|ACKED] IDS numids id… (Redis 8.2): acknowledges the
    // entries in the group and deletes them from the stream as XDELEX does.
    "XACKDEL": { r, a in deleteEntries(r, a, optionsFrom: 3) },
    "XGROUP CREATE": { r, a in
        // XGROUP CREATE key group id [MKSTREAM] [ENTRIESREAD n]
        guard (5..<a.count).contains(where: { a.token($0, "MKSTREAM") }), r.lookup(a[2]) == nil else { return }
        r.keyspace.create(a[2], in: r.database, value: .stream(StreamEntries()))
    },
]

package enum TrimRule {
    case maxLength(Int, approximate: Bool)
    case minID(StreamID, approximate: Bool)
}

/// Parses `MAXLEN|MINID [=|~] threshold [LIMIT count]` at `i`; returns the rule and the next index.
package func trimRule(_ a: Argv, at start: Int) -> (TrimRule?, Int) {
    var i = start + 1
    var approximate = false
    if i < a.count, a[i].count == 1, a[i][0] == UInt8(ascii: "~") || a[i][0] == UInt8(ascii: "=") {
        approximate = a[i][0] == UInt8(ascii: "~")
        i += 1
    }
    guard i < a.count else { return (nil, i) }
    let rule: TrimRule?
    if a.token(start, "MAXLEN") {
        // A negative MAXLEN is an error.
        rule = a.int(i).flatMap { $0 >= 0 ? .maxLength(Int($0), approximate: approximate) : nil }
    } else {
        rule = StreamID(a[i]).map { .minID($0, approximate: approximate) }
    }
    i += 1
    if a.token(i, "LIMIT") { i += 2 }
    return (rule, i)
}

/// Applies a trim; returns true when it was `~` (the server may keep more than asked:
/// it trims whole nodes only), which a MONITOR capture can contain but an AOF cannot.
package func apply(_ rule: TrimRule, to stream: inout StreamEntries) -> Bool {
    switch rule {
    case .maxLength(let n, let approximate):
        if !approximate { stream.trim(maxLength: n) }
        return approximate && stream.count > n
    case .minID(let id, let approximate):
        if !approximate { stream.trim(minID: id) }
        return approximate
    }
}

/// Deletes the entries listed after `IDS numids`; the options before it start at `start`.
package func deleteEntries(_ r: Replayer, _ a: Argv, optionsFrom start: Int) {
    guard let ids = idsClause(a, from: start) else { return }
    r.editStream(a[1], create: false) { stream in
        for i in ids { if let id = StreamID(a[i]) { stream.delete(id) } }
    }
    // ACKED deletes only acknowledged entries: the model does not track the PELs.
    if (start..<ids.lowerBound).contains(where: { a.token($0, "ACKED") }) { r.markApproximate(a[1]) }
}

package func idsClause(_ a: Argv, from start: Int) -> Range<Int>? {
    var i = start
    while i < a.count, !a.token(i, "IDS") { i += 1 }
    guard let count = a.int(i + 1), count > 0, count <= a.count - i - 2 else { return nil }
    return (i + 2)..<(i + 2 + Int(count))
}
