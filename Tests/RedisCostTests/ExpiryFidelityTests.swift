import Foundation
import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// Every write's effect on a key's expiry, checked on real servers: a family's writes run on
/// keys with TTLs no test outlives, then every key's type, size and whether it has a TTL
/// must be the same on the server, in the replay of the server's AOF and in the replay of a
/// MONITOR capture of the same calls.
@Suite struct ExpiryFidelityTests {
    /// Seconds: nothing expires while a test runs.
    static let ttl = "100000"
    static let biggest = "9223372036854775807"
    static let smallest = "-9223372036854775808"

    @Test("strings: SET keeps a TTL only with KEEPTTL, in-place edits keep it", arguments: TestServer.Kind.allCases)
    func strings(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            try w.run("SET", "s:keepttl", "v")
            try w.expiring("s:keepttl")
            try w.run("SET", "s:keepttl", "w", "KEEPTTL")
            try w.run("SET", "s:plain", "v", "EX", Self.ttl)
            try w.run("SET", "s:plain", "w")
            try w.run("SET", "s:get", "v", "PX", Self.ttl + "000")
            try w.run("SET", "s:get", "w", "GET")
            try w.run("SET", "s:nx", "v", "EX", Self.ttl)
            try w.run("SET", "s:nx", "w", "NX")
            try w.run("SET", "s:xx", "v", "EX", Self.ttl)
            try w.run("SET", "s:xx", "w", "XX")
            try w.run("SET", "s:xx-keepttl", "v", "EX", Self.ttl)
            try w.run("SET", "s:xx-keepttl", "w", "XX", "KEEPTTL")
            try w.run("SET", "s:xx-missing", "w", "XX", "EX", Self.ttl)
            try w.run("SET", "s:exat", "v", "EXAT", w.later)
            try w.run("SET", "s:pxat", "v", "PXAT", w.later + "000")
            try w.run("SET", "s:pxat-biggest", "v", "PXAT", Self.biggest)
            try w.run("SET", "s:past", "v")
            try w.run("SET", "s:past", "w", "PXAT", "1")
            try w.run("SET", "s:refused", "v", "EX", Self.ttl)
            for option in ["EX", "PX", "EXAT", "PXAT"] {
                for amount in [Self.biggest, Self.smallest, "0", "-1"] where !(option == "PXAT" && amount == Self.biggest) {
                    try w.refused("SET", "s:refused", "w", option, amount)
                }
            }
            try w.refused("SET", "s:refused-new", "w", "EX", Self.biggest)
            try w.refused("SET", "s:refused", "w", "EX", Self.ttl, "KEEPTTL")
            try w.run("SET", "s:getset", "v", "EX", Self.ttl)
            try w.run("GETSET", "s:getset", "w")
            try w.run("SETEX", "s:setex", Self.ttl, "v")
            try w.run("SET", "s:setex-over", "v", "EX", Self.ttl)
            try w.run("PSETEX", "s:setex-over", Self.ttl + "000", "w")
            for command in ["SETEX", "PSETEX"] {
                for amount in [Self.biggest, Self.smallest, "0"] { try w.refused(command, "s:refused", amount, "w") }
            }
            try w.refused("SETEX", "s:setex-refused-new", Self.biggest, "w")
            try w.run("SET", "s:setnx", "v", "EX", Self.ttl)
            try w.run("SETNX", "s:setnx", "w")
            try w.run("SET", "s:mset", "v", "EX", Self.ttl)
            try w.run("MSET", "s:mset", "w", "s:mset-new", "x")
            try w.run("MSETNX", "s:msetnx-1", "a", "s:msetnx-2", "b")
            try w.run("MSETNX", "s:keepttl", "x", "s:msetnx-3", "c")
            // GETEX: an absolute time in the past deletes the key.
            try w.run("SET", "s:getex-ex", "v")
            try w.run("GETEX", "s:getex-ex", "EX", Self.ttl)
            try w.run("SET", "s:getex-persist", "v", "EX", Self.ttl)
            try w.run("GETEX", "s:getex-persist", "PERSIST")
            try w.run("SET", "s:getex-plain", "v", "EX", Self.ttl)
            try w.run("GETEX", "s:getex-plain")
            try w.run("SET", "s:getex-pxat", "v")
            try w.run("GETEX", "s:getex-pxat", "PXAT", w.later + "000")
            try w.run("SET", "s:getex-past", "v", "EX", Self.ttl)
            try w.run("GETEX", "s:getex-past", "EXAT", "1")
            for option in ["EX", "PX", "EXAT", "PXAT"] {
                for amount in [Self.biggest, Self.smallest, "0"] where !(option == "PXAT" && amount == Self.biggest) {
                    try w.refused("GETEX", "s:getex-plain", option, amount)
                }
            }
            // Writes that read the old value refuse another type.
            try w.run("RPUSH", "s:list", "a")
            try w.expiring("s:list")
            try w.refused("GETEX", "s:list", "PERSIST")
            try w.refused("GETSET", "s:list", "v")
            try w.refused("SET", "s:list", "v", "GET")
            try w.refused("PFADD", "s:list", "x")
            try w.run("SET", "s:getdel", "v", "EX", Self.ttl)
            try w.run("GETDEL", "s:getdel")
            try w.run("SET", "s:getdel", "w")
            // In-place edits keep the TTL.
            try w.run("SET", "s:counter", "10", "EX", Self.ttl)
            for edit in [["INCR"], ["DECR"], ["INCRBY", "5"], ["DECRBY", "2"], ["INCRBYFLOAT", "1.5"]] {
                try w.run([edit[0], "s:counter"] + edit.dropFirst())
            }
            try w.run("SET", "s:append", "abc", "EX", Self.ttl)
            try w.run("APPEND", "s:append", "def")
            try w.run("SET", "s:range", "abc", "EX", Self.ttl)
            try w.run("SETRANGE", "s:range", "5", "xy")
            try w.run("INCR", "s:new-counter")
            // Valkey 9.
            try w.run("MSETEX", "2", "s:msetex-1", "a", "s:msetex-2", "b", "EX", Self.ttl)
            try w.run("MSETEX", "1", "s:msetex-1", "c")
            try w.run("MSETEX", "1", "s:msetex-2", "d", "KEEPTTL")
            try w.refused("MSETEX", "1", "s:msetex-2", "e", "EX", Self.biggest)
            try w.refused("MSETEX", "1", "s:msetex-2", "f", "KEEPTTL", "PX", Self.ttl)
            try w.run("SET", "s:delifeq", "5", "EX", Self.ttl)
            try w.run("DELIFEQ", "s:delifeq", "5")
            try w.run("SET", "s:delifeq", "6")
            if try w.has("SET", option: "IFEQ") {
                try w.run("SET", "s:ifeq", "5", "EX", Self.ttl)
                try w.run("SET", "s:ifeq", "6", "IFEQ", "5")
                try w.run("SET", "s:ifeq-not", "5", "EX", Self.ttl)
                try w.run("SET", "s:ifeq-not", "6", "IFEQ", "7")
            }
        }
    }

    @Test("bitmaps and HyperLogLogs: SETBIT, BITFIELD, PFADD, PFMERGE keep a TTL; BITOP clears it", arguments: TestServer.Kind.allCases)
    func bitmapsAndHyperLogLogs(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            try w.run("SET", "b:bits", "abc", "EX", Self.ttl)
            try w.run("SETBIT", "b:bits", "100", "1")
            try w.run("BITFIELD", "b:bits", "SET", "u8", "0", "255", "INCRBY", "u8", "200", "1")
            try w.run("SETBIT", "b:new", "7", "1")
            try w.run("SET", "b:other", "xyzw")
            try w.run("SET", "b:dest", "v", "EX", Self.ttl)
            try w.run("BITOP", "OR", "b:dest", "b:bits", "b:other")
            try w.run("SET", "b:dest-not", "v", "EX", Self.ttl)
            try w.run("BITOP", "NOT", "b:dest-not", "b:other")
            try w.run("SET", "b:dest-empty", "v", "EX", Self.ttl)
            try w.run("BITOP", "AND", "b:dest-empty", "b:missing")
            try w.run("PFADD", "h:hll", "a", "b", "c")
            try w.expiring("h:hll")
            try w.run("PFADD", "h:hll", "d")
            try w.run("PFADD", "h:dest", "x")
            try w.expiring("h:dest")
            try w.run("PFMERGE", "h:dest", "h:hll")
            try w.run("PFMERGE", "h:new-dest", "h:hll")
        }
    }

    @Test("lists: a move onto the same key keeps it and its TTL; an emptied list comes back without one", arguments: TestServer.Kind.allCases)
    func lists(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            // A one-element queue rotated onto itself (Dramatiq's RPOPLPUSH) keeps its TTL.
            for (key, move) in [("l:rpoplpush", ["RPOPLPUSH"]), ("l:lmove", ["LMOVE", "LEFT", "RIGHT"]),
                                ("l:lmove-ll", ["LMOVE", "LEFT", "LEFT"]), ("l:blmove", ["BLMOVE", "RIGHT", "LEFT", "0"]),
                                ("l:brpoplpush", ["BRPOPLPUSH", "0"])] {
                try w.run("RPUSH", key, "only")
                try w.expiring(key)
                try w.run([move[0], key, key] + move.dropFirst())
            }
            try w.run("RPUSH", "l:lmove-many", "a", "b", "c")
            try w.expiring("l:lmove-many")
            try w.run("LMOVE", "l:lmove-many", "l:lmove-many", "RIGHT", "LEFT")
            // Between keys: an emptied source goes, the destination keeps its TTL.
            try w.run("RPUSH", "l:src-1", "a")
            try w.expiring("l:src-1")
            try w.run("RPUSH", "l:dst-1", "z")
            try w.expiring("l:dst-1")
            try w.run("LMOVE", "l:src-1", "l:dst-1", "LEFT", "RIGHT")
            try w.run("RPUSH", "l:src-2", "a", "b")
            try w.expiring("l:src-2")
            try w.run("LMOVE", "l:src-2", "l:dst-2", "LEFT", "RIGHT")
            try w.run("RPUSH", "l:src-3", "a")
            try w.expiring("l:src-3")
            try w.run("RPOPLPUSH", "l:src-3", "l:dst-3")
            try w.run("RPUSH", "l:src-3", "b")
            try w.run("RPUSH", "l:wrongtype-src", "a")
            try w.expiring("l:wrongtype-src")
            try w.run("SET", "l:wrongtype-dst", "v")
            try w.refused("LMOVE", "l:wrongtype-src", "l:wrongtype-dst", "LEFT", "LEFT")
            // Emptied by a pop, then recreated: a new key without a TTL.
            try w.run("RPUSH", "l:pop", "a")
            try w.expiring("l:pop")
            try w.run("LPOP", "l:pop")
            try w.run("LPUSH", "l:pop", "b")
            try w.run("RPUSH", "l:lmpop", "a", "b")
            try w.expiring("l:lmpop")
            try w.run("LMPOP", "1", "l:lmpop", "LEFT", "COUNT", "5")
            try w.run("RPUSH", "l:lmpop", "c")
            try w.run("RPUSH", "l:blmpop", "a", "b")
            try w.expiring("l:blmpop")
            try w.run("BLMPOP", "0", "1", "l:blmpop", "RIGHT", "COUNT", "1")
            try w.run("RPUSH", "l:blpop", "a")
            try w.expiring("l:blpop")
            try w.run("BLPOP", "l:blpop", "0")
            try w.run("RPUSH", "l:brpop", "a", "b")
            try w.expiring("l:brpop")
            try w.run("BRPOP", "l:brpop", "0")
            try w.run("RPUSH", "l:rpop-count", "a", "b")
            try w.expiring("l:rpop-count")
            try w.run("RPOP", "l:rpop-count", "5")
            try w.run("RPUSH", "l:rpop-count", "c")
            // Edits in place keep the TTL.
            try w.run("RPUSH", "l:edit", "a", "b", "c", "d", "e")
            try w.expiring("l:edit")
            try w.run("LPUSH", "l:edit", "f")
            try w.run("RPUSHX", "l:edit", "g")
            try w.run("LPUSHX", "l:edit", "h")
            try w.run("LSET", "l:edit", "0", "z")
            try w.run("LINSERT", "l:edit", "BEFORE", "b", "y")
            try w.run("LREM", "l:edit", "1", "c")
            try w.run("LTRIM", "l:edit", "0", "4")
            try w.run("LPUSHX", "l:missing", "a")
            try w.run("RPUSH", "l:trim-all", "a", "b")
            try w.expiring("l:trim-all")
            try w.run("LTRIM", "l:trim-all", "5", "10")
            try w.run("RPUSH", "l:trim-all", "c")
            try w.run("RPUSH", "l:rem-all", "a", "a")
            try w.expiring("l:rem-all")
            try w.run("LREM", "l:rem-all", "0", "a")
        }
    }

    @Test("sets: SMOVE onto the same key keeps it; the *STORE destinations lose their TTL", arguments: TestServer.Kind.allCases)
    func sets(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            try w.run("SADD", "set:smove-same", "m")
            try w.expiring("set:smove-same")
            try w.run("SMOVE", "set:smove-same", "set:smove-same", "m")
            try w.run("SMOVE", "set:smove-same", "set:smove-same", "absent")
            try w.run("SADD", "set:src-1", "m")
            try w.expiring("set:src-1")
            try w.run("SADD", "set:dst-1", "z")
            try w.expiring("set:dst-1")
            try w.run("SMOVE", "set:src-1", "set:dst-1", "m")
            try w.run("SADD", "set:src-2", "m", "n")
            try w.expiring("set:src-2")
            try w.run("SMOVE", "set:src-2", "set:dst-2", "m")
            try w.run("SADD", "set:srem", "a")
            try w.expiring("set:srem")
            try w.run("SREM", "set:srem", "a")
            try w.run("SADD", "set:srem", "b")
            try w.run("SADD", "set:spop", "a")
            try w.expiring("set:spop")
            try w.run("SPOP", "set:spop")
            try w.run("SADD", "set:spop", "b")
            try w.run("SADD", "set:spop-count", "a", "b", "c")
            try w.expiring("set:spop-count")
            try w.run("SPOP", "set:spop-count", "2")
            try w.run("SADD", "set:spop-all", "a", "b")
            try w.expiring("set:spop-all")
            try w.run("SPOP", "set:spop-all", "5")
            try w.run("SADD", "set:spop-all", "c")
            try w.run("SADD", "set:edit", "a", "b", "c")
            try w.expiring("set:edit")
            try w.run("SADD", "set:edit", "d")
            try w.run("SREM", "set:edit", "a", "absent")
            try w.run("SADD", "set:a", "1", "2", "3")
            try w.run("SADD", "set:b", "2", "3", "4")
            for (command, destination) in [("SINTERSTORE", "set:inter"), ("SUNIONSTORE", "set:union"), ("SDIFFSTORE", "set:diff")] {
                try w.run("SADD", destination, "old")
                try w.expiring(destination)
                try w.run(command, destination, "set:a", "set:b")
            }
            try w.run("SADD", "set:inter-empty", "old")
            try w.expiring("set:inter-empty")
            try w.run("SINTERSTORE", "set:inter-empty", "set:a", "set:missing")
            try w.run("SADD", "set:self", "9")
            try w.expiring("set:self")
            try w.run("SUNIONSTORE", "set:self", "set:self", "set:a")
        }
    }

    @Test("hashes: field writes keep the key's TTL; fields expired at once leave, and an emptied hash goes", arguments: TestServer.Kind.allCases)
    func hashes(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            try w.run("HSET", "hash:edit", "f", "1", "g", "2")
            try w.expiring("hash:edit")
            try w.run("HSET", "hash:edit", "h", "3")
            try w.run("HMSET", "hash:edit", "i", "4")
            try w.run("HSETNX", "hash:edit", "j", "5")
            try w.run("HINCRBY", "hash:edit", "f", "1")
            try w.run("HINCRBYFLOAT", "hash:edit", "k", "1.5")
            try w.run("HDEL", "hash:edit", "g", "absent")
            try w.run("HSET", "hash:hdel-all", "f", "1")
            try w.expiring("hash:hdel-all")
            try w.run("HDEL", "hash:hdel-all", "f")
            try w.run("HSET", "hash:hdel-all", "g", "2")
            try w.run("HSET", "hash:incr", "f", "1")
            try w.expiring("hash:incr")
            try w.run("HINCRBYFLOAT", "hash:incr", "f", "2.5")
            // Redis 8 and Valkey 9: fields with their own TTLs.
            try w.run("HSET", "hash:hgetdel", "f", "1", "g", "2")
            try w.expiring("hash:hgetdel")
            try w.run("HGETDEL", "hash:hgetdel", "FIELDS", "1", "f")
            try w.run("HSET", "hash:hgetdel-all", "f", "1")
            try w.expiring("hash:hgetdel-all")
            try w.run("HGETDEL", "hash:hgetdel-all", "FIELDS", "1", "f")
            try w.run("HSET", "hash:hsetex", "f", "1")
            try w.expiring("hash:hsetex")
            try w.run("HSETEX", "hash:hsetex", "EX", Self.ttl, "FIELDS", "1", "g", "2")
            try w.run("HSETEX", "hash:hsetex", "KEEPTTL", "FIELDS", "1", "h", "3")
            try w.refused("HSETEX", "hash:hsetex", "EX", Self.biggest, "FIELDS", "1", "i", "4")
            try w.run("HSETEX", "hash:hsetex-new", "PX", Self.ttl + "000", "FIELDS", "1", "f", "1")
            try w.run("HSET", "hash:hsetex-past", "f", "1", "g", "2")
            try w.expiring("hash:hsetex-past")
            try w.run("HSETEX", "hash:hsetex-past", "PXAT", "1", "FIELDS", "1", "f", "3")
            try w.run("HSET", "hash:hsetex-past-all", "f", "1")
            try w.expiring("hash:hsetex-past-all")
            try w.run("HSETEX", "hash:hsetex-past-all", "EXAT", "1", "FIELDS", "1", "f", "3")
            try w.run("HSET", "hash:hgetex", "f", "1", "g", "2", "h", "3")
            try w.expiring("hash:hgetex")
            try w.run("HGETEX", "hash:hgetex", "EX", Self.ttl, "FIELDS", "1", "f")
            try w.run("HGETEX", "hash:hgetex", "PERSIST", "FIELDS", "1", "f")
            try w.run("HGETEX", "hash:hgetex", "EX", "0", "FIELDS", "1", "g")
            try w.run("HGETEX", "hash:hgetex", "PXAT", "1", "FIELDS", "2", "absent", "h")
            try w.refused("HGETEX", "hash:hgetex", "EX", Self.biggest, "FIELDS", "1", "f")
            try w.refused("HGETEX", "hash:hgetex", "EX", "-1", "FIELDS", "1", "f")
            try w.refused("HSETEX", "hash:hgetex", "EX", "-1", "FIELDS", "1", "f", "1")
            try w.run("HSET", "hash:hgetex-all", "f", "1")
            try w.expiring("hash:hgetex-all")
            try w.run("HGETEX", "hash:hgetex-all", "PX", "0", "FIELDS", "1", "f")
            try w.run("HSET", "hash:hexpire", "f", "1", "g", "2", "h", "3")
            try w.expiring("hash:hexpire")
            try w.run("HEXPIRE", "hash:hexpire", Self.ttl, "FIELDS", "1", "f")
            try w.run("HPERSIST", "hash:hexpire", "FIELDS", "1", "f")
            try w.run("HPEXPIRE", "hash:hexpire", "0", "FIELDS", "1", "g")
            try w.run("HEXPIREAT", "hash:hexpire", "1", "FIELDS", "1", "absent")
            try w.refused("HEXPIRE", "hash:hexpire", Self.biggest, "FIELDS", "1", "h")
            try w.refused("HPEXPIRE", "hash:hexpire", "-1", "FIELDS", "1", "h")
            // A past time is never later than a field's TTL (GT), always earlier (LT).
            try w.run("HSET", "hash:hexpire-conditions", "f", "1", "g", "2", "h", "3")
            try w.expiring("hash:hexpire-conditions")
            try w.run("HEXPIRE", "hash:hexpire-conditions", Self.ttl, "FIELDS", "1", "f")
            try w.run("HEXPIRE", "hash:hexpire-conditions", "0", "GT", "FIELDS", "2", "f", "g")
            try w.run("HEXPIRE", "hash:hexpire-conditions", "0", "LT", "FIELDS", "1", "f")
            try w.run("HPEXPIRE", "hash:hexpire-conditions", "0", "NX", "FIELDS", "1", "g")
            try w.run("HSET", "hash:hexpire-all", "f", "1")
            try w.expiring("hash:hexpire-all")
            try w.run("HPEXPIREAT", "hash:hexpire-all", "1", "FIELDS", "1", "f")
            try w.run("HSET", "hash:hexpire-all", "g", "2")
        }
    }

    @Test("sorted sets and geo: edits keep a TTL, the *STORE destinations lose it", arguments: TestServer.Kind.allCases)
    func sortedSets(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            try w.run("ZADD", "z:edit", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e")
            try w.expiring("z:edit")
            try w.run("ZADD", "z:edit", "6", "f")
            try w.run("ZINCRBY", "z:edit", "1", "a")
            try w.run("ZREM", "z:edit", "b")
            try w.run("ZREMRANGEBYSCORE", "z:edit", "100", "200")
            try w.run("ZREMRANGEBYRANK", "z:edit", "0", "0")
            try w.run("ZPOPMIN", "z:edit")
            try w.run("ZPOPMAX", "z:edit")
            for (key, removal) in [("z:zrem", ["ZREM", "a"]), ("z:zpopmax", ["ZPOPMAX"]), ("z:zpopmin", ["ZPOPMIN", "3"]),
                                   ("z:bzpopmin", ["BZPOPMIN", "0"]), ("z:bzpopmax", ["BZPOPMAX", "0"]),
                                   ("z:zmpop", ["ZMPOP", "MIN", "COUNT", "5"]),
                                   ("z:byscore", ["ZREMRANGEBYSCORE", "-inf", "+inf"]), ("z:byrank", ["ZREMRANGEBYRANK", "0", "-1"]),
                                   ("z:bylex", ["ZREMRANGEBYLEX", "-", "+"])] {
                try w.run("ZADD", key, "1", "a")
                try w.expiring(key)
                if removal[0] == "ZMPOP" {
                    try w.run(["ZMPOP", "1", key] + removal.dropFirst())
                } else {
                    try w.run([removal[0], key] + removal.dropFirst())
                }
                try w.run("ZADD", key, "2", "b")
            }
            try w.run("ZADD", "z:bzmpop", "1", "a", "2", "b")
            try w.expiring("z:bzmpop")
            try w.run("BZMPOP", "0", "1", "z:bzmpop", "MAX")
            try w.run("ZADD", "z:a", "1", "x", "2", "y", "3", "z")
            try w.run("ZADD", "z:b", "2", "y", "3", "z", "4", "w")
            try w.run("SADD", "z:set", "x", "v")
            for (command, destination) in [("ZUNIONSTORE", "z:union"), ("ZINTERSTORE", "z:inter"), ("ZDIFFSTORE", "z:diff")] {
                try w.run("ZADD", destination, "9", "old")
                try w.expiring(destination)
                try w.run(command, destination, "3", "z:a", "z:b", "z:set")
            }
            try w.run("ZADD", "z:inter-empty", "9", "old")
            try w.expiring("z:inter-empty")
            try w.run("ZINTERSTORE", "z:inter-empty", "2", "z:a", "z:missing")
            try w.run("ZADD", "z:range", "9", "old")
            try w.expiring("z:range")
            try w.run("ZRANGESTORE", "z:range", "z:a", "0", "1")
            try w.run("ZADD", "z:range-lex", "9", "old")
            try w.expiring("z:range-lex")
            try w.run("ZRANGESTORE", "z:range-lex", "z:a", "[a", "[z", "BYLEX")
            try w.run("ZADD", "z:range-empty", "9", "old")
            try w.expiring("z:range-empty")
            try w.run("ZRANGESTORE", "z:range-empty", "z:a", "10", "20")
            // Geo: a sorted set of geohashes.
            try w.run("GEOADD", "g:points", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania")
            try w.expiring("g:points")
            try w.run("GEOADD", "g:points", "12.496366", "41.902782", "Rome")
            for (destination, search) in [
                ("g:search", ["GEOSEARCHSTORE", "g:search", "g:points", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "ASC"]),
                ("g:search-dist", ["GEOSEARCHSTORE", "g:search-dist", "g:points", "FROMMEMBER", "Palermo", "BYBOX", "400", "400", "km", "STOREDIST"]),
                ("g:radius", ["GEORADIUS", "g:points", "15", "37", "200", "km", "STORE", "g:radius"]),
                ("g:radius-member", ["GEORADIUSBYMEMBER", "g:points", "Palermo", "200", "km", "STOREDIST", "g:radius-member"]),
                // A missing source finds nothing: the destination goes.
                ("g:from-missing", ["GEOSEARCHSTORE", "g:from-missing", "g:missing", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km"]),
                ("g:radius-from-missing", ["GEORADIUS", "g:missing", "15", "37", "200", "km", "STORE", "g:radius-from-missing"]),
            ] {
                try w.run("SET", destination, "old", "EX", Self.ttl)
                try w.run(search)
            }
        }
    }

    @Test("streams: entries come and go under a TTL; an emptied stream stays with it", arguments: TestServer.Kind.allCases)
    func streams(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            try w.run("XADD", "x:s", "1-1", "f", "v")
            try w.run("XADD", "x:s", "1-2", "f", "v")
            try w.expiring("x:s")
            for id in ["1-3", "1-4", "1-5", "1-6"] { try w.run("XADD", "x:s", id, "f", "v") }
            try w.run("XADD", "x:s", "MAXLEN", "5", "1-7", "f", "v")
            try w.run("XTRIM", "x:s", "MAXLEN", "4")
            try w.run("XDEL", "x:s", "1-4")
            try w.run("XGROUP", "CREATE", "x:s", "g", "0")
            try w.run("XGROUP", "CREATECONSUMER", "x:s", "g", "c2")
            try w.run("XREADGROUP", "GROUP", "g", "c", "COUNT", "2", "STREAMS", "x:s", ">")
            try w.run("XACK", "x:s", "g", "1-3")
            try w.run("XCLAIM", "x:s", "g", "c2", "0", "1-5")
            try w.run("XAUTOCLAIM", "x:s", "g", "c", "0", "0")
            try w.run("XGROUP", "DELCONSUMER", "x:s", "g", "c2")
            try w.run("XGROUP", "SETID", "x:s", "g", "0")
            try w.run("XSETID", "x:s", "1-9")
            // Redis 8.2.
            try w.run("XDELEX", "x:s", "IDS", "1", "1-6")
            try w.run("XREADGROUP", "GROUP", "g", "c", "STREAMS", "x:s", ">")
            try w.run("XACKDEL", "x:s", "g", "IDS", "1", "1-7")
            try w.run("XGROUP", "DESTROY", "x:s", "g")
            try w.run("XADD", "x:empty", "1-1", "f", "v")
            try w.expiring("x:empty")
            try w.run("XDEL", "x:empty", "1-1")
            try w.run("XADD", "x:trim-all", "1-1", "f", "v")
            try w.expiring("x:trim-all")
            try w.run("XTRIM", "x:trim-all", "MAXLEN", "0")
            try w.run("XADD", "x:missing", "NOMKSTREAM", "1-1", "f", "v")
            try w.run("XGROUP", "CREATE", "x:made", "g", "$", "MKSTREAM")
        }
    }

    @Test("vector sets: edits keep a TTL, an emptied set comes back without one", arguments: TestServer.Kind.allCases)
    func vectorSets(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            guard try w.has("VADD") else { return }
            try w.run("VADD", "v:set", "VALUES", "2", "1", "2", "e1")
            try w.expiring("v:set")
            try w.run("VADD", "v:set", "VALUES", "2", "3", "4", "e2")
            try w.run("VSETATTR", "v:set", "e1", "{\"a\":1}")
            try w.run("VREM", "v:set", "e2")
            try w.run("VADD", "v:one", "VALUES", "2", "1", "2", "e1")
            try w.expiring("v:one")
            try w.run("VREM", "v:one", "e1")
            try w.run("VADD", "v:one", "VALUES", "2", "1", "2", "e2")
        }
    }

    @Test("EXPIRE and its kin: NX/XX/GT/LT, times in the past delete, times that overflow are refused", arguments: TestServer.Kind.allCases)
    func expire(kind: TestServer.Kind) throws {
        try expectSameExpiry(kind) { w in
            for command in ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"] {
                let key = "k:\(command.lowercased())"
                try w.run("SET", key, "v")
                let absolute = command.hasSuffix("AT")
                let amount = absolute ? w.later : Self.ttl
                try w.run(command, key, command.hasPrefix("P") ? amount + "000" : amount)
            }
            // A key without a TTL counts as one that never expires (expire.c, expireGenericCommand).
            for (condition, hasTTL) in [("NX", false), ("NX", true), ("XX", false), ("XX", true), ("GT", false), ("GT", true),
                                        ("LT", false), ("LT", true)] {
                let key = "k:\(condition.lowercased())-\(hasTTL ? "ttl" : "plain")"
                try w.run("SET", key, "v")
                if hasTTL { try w.run("EXPIRE", key, "200000") }
                try w.run("EXPIRE", key, Self.ttl, condition)
            }
            try w.run("SET", "k:xx-gt", "v", "EX", Self.ttl)
            try w.run("EXPIRE", "k:xx-gt", "200000", "XX", "GT")
            try w.refused("EXPIRE", "k:xx-gt", "300000", "NX", "GT")
            try w.refused("EXPIRE", "k:xx-gt", "300000", "GT", "LT")
            try w.refused("EXPIRE", "k:xx-gt", "300000", "SOON")
            try w.run("SET", "k:gt-past", "v", "EX", Self.ttl)
            try w.run("EXPIRE", "k:gt-past", "-5", "GT")
            try w.run("SET", "k:lt-past", "v", "EX", Self.ttl)
            try w.run("EXPIRE", "k:lt-past", "-5", "LT")
            for (command, amount) in [("EXPIRE", "0"), ("EXPIRE", "-1"), ("PEXPIRE", "-100"), ("EXPIREAT", "1"), ("PEXPIREAT", "1"),
                                      ("PEXPIRE", Self.smallest), ("PEXPIREAT", Self.smallest)] {
                let key = "k:past-\(command.lowercased())-\(amount)"
                try w.run("SET", key, "v", "EX", Self.ttl)
                try w.run(command, key, amount)
            }
            try w.run("SET", "k:past-expire-0", "again")
            try w.run("SET", "k:overflow", "v", "EX", Self.ttl)
            // The largest seconds that still convert to milliseconds: the sum with the clock overflows.
            for (command, amount) in [("EXPIRE", Self.biggest), ("EXPIRE", Self.smallest), ("EXPIRE", "9223372036854775"),
                                      ("PEXPIRE", Self.biggest), ("EXPIREAT", Self.biggest), ("EXPIREAT", Self.smallest)] {
                try w.refused(command, "k:overflow", amount)
            }
            try w.run("SET", "k:pexpireat-biggest", "v")
            try w.run("PEXPIREAT", "k:pexpireat-biggest", Self.biggest)
            try w.run("SET", "k:persist", "v", "EX", Self.ttl)
            try w.run("PERSIST", "k:persist")
            try w.run("EXPIRE", "k:missing", Self.ttl)
        }
    }

    @Test("keys: RENAME, MOVE, COPY, SWAPDB carry a TTL; RESTORE, SORT STORE and overwritten destinations do not", arguments: TestServer.Kind.allCases)
    func keys(kind: TestServer.Kind) throws {
        let other = try TestServer(kind)
        try expectSameExpiry(kind) { w in
            try w.run("SET", "k:flushall", "v", "EX", Self.ttl)
            try w.run("FLUSHALL")
            try w.run("SET", "k:flushall", "again")
            try w.run("SET", "k:rename-src", "v", "EX", Self.ttl)
            try w.run("SET", "k:rename-dst", "old")
            try w.run("RENAME", "k:rename-src", "k:rename-dst")
            try w.run("SET", "k:plain-src", "v")
            try w.run("SET", "k:ttl-dst", "old", "EX", Self.ttl)
            try w.run("RENAME", "k:plain-src", "k:ttl-dst")
            try w.run("SET", "k:self", "v", "EX", Self.ttl)
            try w.run("RENAME", "k:self", "k:self")
            try w.run("SET", "k:renamenx-src", "v", "EX", Self.ttl)
            try w.run("RENAMENX", "k:renamenx-src", "k:renamenx-dst")
            try w.run("SET", "k:renamenx-taken", "v", "EX", Self.ttl)
            try w.run("RENAMENX", "k:renamenx-taken", "k:ttl-dst")
            try w.run("SET", "k:move", "v", "EX", Self.ttl)
            try w.run("MOVE", "k:move", "1")
            try w.run("SET", "k:move-taken", "v", "EX", Self.ttl)
            try w.run("SELECT", "1")
            try w.run("SET", "k:move-taken", "there")
            try w.run("SELECT", "0")
            try w.run("MOVE", "k:move-taken", "1")
            try w.run("SET", "k:copy-src", "v", "EX", Self.ttl)
            try w.run("COPY", "k:copy-src", "k:copy-new")
            try w.run("COPY", "k:copy-src", "k:copy-db", "DB", "2")
            try w.run("SET", "k:copy-plain", "v")
            try w.run("SET", "k:copy-replaced", "old", "EX", Self.ttl)
            try w.run("COPY", "k:copy-plain", "k:copy-replaced", "REPLACE")
            try w.run("SET", "k:copy-kept", "old", "EX", Self.ttl)
            try w.run("COPY", "k:copy-plain", "k:copy-kept")
            try w.run("SELECT", "3")
            try w.run("SET", "k:in-3", "v", "EX", Self.ttl)
            try w.run("RPUSH", "k:list-in-3", "a")
            try w.run("SELECT", "4")
            try w.run("SET", "k:in-4", "v")
            try w.run("SWAPDB", "3", "4")
            try w.run("SELECT", "5")
            try w.run("SET", "k:flushed", "v", "EX", Self.ttl)
            try w.run("FLUSHDB")
            try w.run("SET", "k:flushed", "again")
            try w.run("SELECT", "0")
            try w.run("SET", "k:del", "v", "EX", Self.ttl)
            try w.run("DEL", "k:del")
            try w.run("SET", "k:del", "again")
            try w.run("SET", "k:unlink", "v", "EX", Self.ttl)
            try w.run("UNLINK", "k:unlink")
            try w.run("SADD", "k:unlink", "again")
            // RESTORE: the TTL is the one given, none for 0; one already past creates nothing.
            try w.run("RPUSH", "k:dumped", "a", "b", "c")
            let payload = try w.dump("k:dumped")
            try w.restore("k:restored", "0", payload)
            try w.restore("k:restored-ttl", Self.ttl + "000", payload)
            try w.restore("k:restored-at", w.later + "000", payload, "ABSTTL")
            try w.run("SET", "k:restore-replaced", "old", "EX", Self.ttl)
            try w.restore("k:restore-replaced", "0", payload, "REPLACE")
            try w.restore("k:restore-past", "1", payload, "ABSTTL")
            try w.run("SET", "k:restore-past-replaced", "old", "EX", Self.ttl)
            try w.restore("k:restore-past-replaced", "1", payload, "ABSTTL", "REPLACE")
            // The server's sum of a huge TTL and its clock wraps below zero: already past.
            try w.restore("k:restore-huge", Self.biggest, payload)
            try w.run("SET", "k:restore-huge-replaced", "old", "EX", Self.ttl)
            try w.restore("k:restore-huge-replaced", Self.biggest, payload, "REPLACE")
            try w.restore("k:restore-biggest-at", Self.biggest, payload, "ABSTTL")
            try w.restore("k:restore-refused", Self.smallest, payload, refused: true)
            // SORT … STORE writes a new list.
            try w.run("RPUSH", "k:numbers", "3", "1", "2")
            try w.run("SET", "k:sorted", "old", "EX", Self.ttl)
            try w.run("SORT", "k:numbers", "STORE", "k:sorted")
            try w.run("SET", "k:sorted-empty", "old", "EX", Self.ttl)
            try w.run("SORT", "k:numbers", "LIMIT", "0", "0", "STORE", "k:sorted-empty")
            // MIGRATE moves a key away (COPY leaves it).
            try w.run("SET", "k:migrated", "v", "EX", Self.ttl)
            try w.run("MIGRATE", "127.0.0.1", String(other.port), "k:migrated", "0", "5000")
            try w.run("SET", "k:migrate-copy", "v", "EX", Self.ttl)
            try w.run("MIGRATE", "127.0.0.1", String(other.port), "k:migrate-copy", "0", "5000", "COPY")
        }
    }

    // MARK: - the comparison

    /// Runs `workload` on a fresh server of `kind` with an AOF and a MONITOR capture, then
    /// compares every key of the server with both replays.
    func expectSameExpiry(_ kind: TestServer.Kind, _ workload: (ExpiryWorkload) throws -> Void) throws {
        let server = try TestServer(kind, arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", "no",
                                                      "--appendfsync", "always", "--aof-timestamp-enabled", "yes"])
        let monitor = try server.connect()
        #expect(try monitor.command(["MONITOR"]) == .simple("OK"))
        let w = try ExpiryWorkload(server.connect())
        try workload(w)
        // The capture ends at a call the workload makes last.
        let marker = "expiry-fidelity-end"
        _ = try w.connection.require(["ECHO", marker])
        var lines: [String] = []
        while case .simple(let line) = try monitor.reply(label: "MONITOR"), !line.hasSuffix("\"\(marker)\"") { lines.append(line) }
        let capture = server.directory.appendingPathComponent("capture.txt")
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: capture)

        let truth = try serverState(server)
        let fromAOF = Analyzer(table: try CommandTable.embedded())
        _ = try fromAOF.run(try AOFInput(path: server.directory.appendingPathComponent("appendonlydir").path))
        #expect(Self.differences(fromAOF.replayer.keyspace, truth) == [:], "the AOF of \(kind)")
        let fromCapture = Analyzer(table: try CommandTable.embedded())
        _ = try fromCapture.run(monitor: capture.path, options: .init(startsEmpty: true))
        #expect(Self.differences(fromCapture.replayer.keyspace, truth) == [:], "the MONITOR capture of \(kind)")
        // A family of commands the server lacks altogether leaves it empty.
        #expect(truth.isEmpty == (w.calls == 0))
    }

    /// Keys whose type, TTL or size differ. A key the model marks approximate says it does not
    /// know its size: only its type and TTL count.
    static func differences(_ keyspace: Keyspace, _ truth: [String: [String: KeyTruth]]) -> [String: String] {
        var (state, approximate) = modelState(keyspace)
        for (db, keys) in approximate {
            for hex in keys where truth[db]?[hex]?.type == state[db]?[hex]?.type { state[db]?[hex]?.size = truth[db]?[hex]?.size }
        }
        return RedisCostTests.differences(state, truth)
    }
}

/// A family's calls on one server. A command the server does not have (COMMAND INFO answers
/// nil for it) is skipped on that server only.
final class ExpiryWorkload {
    let connection: RedisConnection
    /// The server's clock plus the test TTL, in seconds: for EXPIREAT, EXAT and ABSTTL.
    let later: String
    private var known: [String: Bool] = [:]
    /// Calls sent (those of commands the server lacks are not).
    private(set) var calls = 0

    init(_ connection: RedisConnection) throws {
        self.connection = connection
        let seconds = try #require(Int64(try connection.require(["TIME"]).array?.first?.text ?? ""))
        later = String(seconds + Int64(ExpiryFidelityTests.ttl)!)
    }

    /// Whether the server has the command (`COMMAND INFO` answers nil for one it lacks).
    func has(_ command: String) throws -> Bool {
        let name = command.lowercased()
        if let answer = known[name] { return answer }
        let answer = try connection.require(["COMMAND", "INFO", name]).array?.first.map { $0 != .null } ?? false
        known[name] = answer
        return answer
    }

    /// Whether the server's `COMMAND DOCS` names `token` among the command's arguments.
    func has(_ command: String, option token: String) throws -> Bool {
        func mentions(_ value: RESPValue) -> Bool {
            switch value {
            case .array(let items):
                for (i, item) in items.enumerated() {
                    if item.text == "token", i + 1 < items.count, items[i + 1].text?.uppercased() == token { return true }
                    if mentions(item) { return true }
                }
                return false
            case .map(let pairs): return pairs.contains { ($0.0.text == "token" && $0.1.text?.uppercased() == token) || mentions($0.1) }
            default: return false
            }
        }
        return mentions(try connection.require(["COMMAND", "DOCS", command.lowercased()]))
    }

    func run(_ argv: String...) throws { try run(argv) }
    func run(_ argv: [String]) throws { try call(argv.map { Array($0.utf8) }, refused: false) }
    /// A call the server must refuse (an invalid expire time, a wrong type): it changes nothing.
    func refused(_ argv: String...) throws { try call(argv.map { Array($0.utf8) }, refused: true) }

    /// Gives a key a TTL that no test outlives.
    func expiring(_ key: String) throws { try run("EXPIRE", key, ExpiryFidelityTests.ttl) }

    func dump(_ key: String) throws -> [UInt8] {
        guard case .bulk(let payload) = try connection.require(["DUMP", key]) else { throw TestServer.StartError(description: "DUMP \(key)") }
        return payload
    }

    func restore(_ key: String, _ ttl: String, _ payload: [UInt8], _ options: String..., refused: Bool = false) throws {
        try call([Array("RESTORE".utf8), Array(key.utf8), Array(ttl.utf8), payload] + options.map { Array($0.utf8) }, refused: refused)
    }

    private func call(_ argv: [[UInt8]], refused: Bool) throws {
        guard try has(String(decoding: argv[0], as: UTF8.self)) else { return }
        calls += 1
        let reply = try connection.pipelineBytes([argv], label: "workload")[0]
        var isError = false
        if case .error = reply { isError = true }
        #expect(isError == refused, "\(argv.map { String(decoding: $0, as: UTF8.self) }.joined(separator: " ")): \(reply)")
    }
}
