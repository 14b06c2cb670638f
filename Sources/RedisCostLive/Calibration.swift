import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostKeyspace
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// `redis-cost calibrate`: fits the time model on a live server. Each probe is one command
/// called on temporary keys at several sizes (elements in the key, items in the call, bytes
/// of a value); the server's own time for it comes from `INFO commandstats` (usec) read before
/// and after every call, and its features from the table's formula over the sizes the keys
/// have at that moment — the same `TimeModel.Features` the analysis prices. A least-squares
/// fit (`LeastSquaresFit`) gives each probed command its coefficients, and each class the fit
/// of all its commands' probes together (what unprobed commands of the class are priced by).
///
/// Never hurting the server: every key is under a unique `redis-cost-calibrate:<random>:`
/// prefix in the database the user names, no key exceeds `elements` elements (strings 100 KB),
/// each measurement's keys are removed after it and all of them again whatever happens (an
/// error, `isCancelled` after an interrupt), and nothing else is written (no script is loaded:
/// EVAL would stay in the script cache).
public enum Calibration {
    /// One measured call: its argv and the sizes its keys have just before it.
    public struct ProbeCall: Sendable {
        public var argv: [String]
        public var sizes: [KeySize]
        /// Clients subscribed to the channel it names (a `Probe.subscribers` probe's m).
        public var subscribers: Int? = nil
    }

    public struct Probe: Sendable {
        /// The table entry (`SET`, `ZRANGE`) whose coefficients this fits.
        public var command: String
        /// Its INFO commandstats name.
        public var statName: String
        /// The sizes (elements; bytes for a string probe) and items per call it is measured at,
        /// as fractions of the largest key: each size at each item count.
        public var sizes: [Int]
        public var items: [Int]
        /// Keys to make before the measurement: argv lists (key, n, m, repeats).
        public var build: @Sendable (_ key: String, _ n: Int, _ m: Int, _ repeats: Int) -> [[String]]
        /// The r-th call (0-based) on those keys.
        public var call: @Sendable (_ key: String, _ n: Int, _ m: Int, _ r: Int, _ repeats: Int) -> ProbeCall
        /// A wrapper whose own time is its usec minus that of the calls it ran (this command's
        /// stat; m of them): its features are its own, its items the calls it ran.
        public var nestedStat: String? = nil
        /// Sent unmeasured before each measured call (MULTI and the calls it queues).
        public var queue: (@Sendable (_ key: String, _ n: Int, _ m: Int) -> [[String]])? = nil
        /// Sent after each measured call, unmeasured (DISCARD after MULTI).
        public var after: [String]? = nil
        /// Sent right after each measured call, before the counters are read: what takes the
        /// connection out of the mode the call put it in (UNSUBSCRIBE after SUBSCRIBE; a
        /// subscribed RESP2 connection cannot send INFO). Its own stat is not the probe's.
        public var leave: [String]? = nil
        /// Its m is clients subscribed to the channel named by the probe's key: that many
        /// connections subscribe before its calls and close after them.
        public var subscribers = false
    }

    package static func chunks(_ key: String, _ command: String, _ range: Range<Int>, _ item: (Int) -> [String]) -> [[String]] {
        stride(from: range.lowerBound, to: range.upperBound, by: 1000).map { start in
            [command, key] + (start..<min(range.upperBound, start + 1000)).flatMap(item)
        }
    }

    private static func value(_ n: Int) -> String { String(repeating: "x", count: max(1, n)) }
    /// Size placeholders: the largest key of the linear fit (`--elements`), a tenth of it, and
    /// ten times it (beyond the fit: where the size curve is measured).
    private static let large = -1, mid = -2, huge = -3
    /// A script that runs its m calls (ARGV[1] INCRs of KEYS[1]): the EVAL and EVALSHA probes'.
    package static let script = "for i = 1, tonumber(ARGV[1]) do redis.call('INCR', KEYS[1]) end return 1"
    /// Builders of keys of n elements; `pad` lengthens every member, field, value and list
    /// element (the whole reads' second probe: their reply bytes per element).
    private static func hash(_ k: String, _ n: Int, pad: String = "") -> [[String]] { chunks(k, "HSET", 0..<n) { ["f\($0)\(pad)", "v\($0 % 97)\(pad)"] } }
    private static func set(_ k: String, _ n: Int, pad: String = "") -> [[String]] { set(k, n, from: 0, pad: pad) }
    private static func set(_ k: String, _ n: Int, from: Int, pad: String = "") -> [[String]] { chunks(k, "SADD", from..<(from + n)) { ["m\($0)\(pad)"] } }
    private static func zset(_ k: String, _ n: Int, pad: String = "") -> [[String]] { chunks(k, "ZADD", 0..<n) { [score($0 * 7919), "m\($0)\(pad)"] } }
    private static func list(_ k: String, _ n: Int, pad: String = "") -> [[String]] { chunks(k, "RPUSH", 0..<n) { ["e\($0)\(pad)"] } }
    /// What the padded probes add to each element's bytes.
    private static let pad = String(repeating: "p", count: 40)
    private static func each(_ m: Int, _ item: (Int) -> String) -> [String] { (0..<m).map(item) }
    private static func pairs(_ m: Int, _ item: (Int) -> [String]) -> [String] { (0..<m).flatMap(item) }
    private static func score(_ i: Int) -> String { String(i % 1_000_003) }
    private static func one(_ argv: [String], _ sizes: [KeySize]) -> ProbeCall { ProbeCall(argv: argv, sizes: sizes) }
    /// Per key a build writes (`[command, key, arguments…]`), its bytes per argument as the
    /// analysis keeps them (`Keyspace.noteElementBytes`).
    private static func elementBytes(of build: [[String]]) -> [String: Float] {
        var bytes: [String: Float] = [:]
        for argv in build where argv.count > 2 {
            bytes[argv[1]] = Keyspace.movingElementBytes(bytes[argv[1]], bytes: argv.dropFirst(2).reduce(0) { $0 + $1.utf8.count }, count: argv.count - 2)
        }
        return bytes
    }
    /// A write probe's key for call r: at size 0 each call creates a key of its own (what a
    /// workload's first write into a key costs); else the key built, grown by the calls before.
    private static func target(_ k: String, _ n: Int, _ r: Int, grownBy m: Int = 1) -> (key: String, size: KeySize) {
        n == 0 ? ("\(k):new:\(r)", .missing) : (k, .elements(n + r * m))
    }

    /// Reads of n elements; writes of m items into keys of n; wrappers of m calls. Sizes and
    /// items: `large`/`mid` scale with --elements.
    public static let probes: [Probe] = {
        let reads = [0, 1, 10, 100, mid, large, huge], writes = [0, 100, large, huge], counts = [1, 10, 100, 1000]
        let sha = SHA1.hex(script.utf8)
        func read(_ command: String, _ build: @escaping @Sendable (String, Int) -> [[String]], _ argv: @escaping @Sendable (String) -> [String],
                  sizes: [Int] = reads) -> Probe {
            Probe(command: command, statName: command.lowercased(), sizes: sizes, items: [1], build: { k, n, _, _ in build(k, n) },
                  call: { k, n, _, _, rs in one(argv(k), [n == 0 ? .missing : .elements(n)]) })
        }
        /// A read that replies the elements it walks: measured again on keys of longer
        /// elements, which tells its time per byte of reply from its time per element.
        func wholeRead(_ command: String, _ build: @escaping @Sendable (String, Int, String) -> [[String]], _ argv: @escaping @Sendable (String) -> [String]) -> [Probe] {
            [read(command, { build($0, $1, "") }, argv), read(command, { build($0, $1, pad) }, argv, sizes: [large])]
        }
        return [
            // Strings: sizes are bytes of the value.
            // Size 0: a value of one byte, each call into a key of its own.
            Probe(command: "SET", statName: "set", sizes: [0, 1, 100, 10_000, 100_000], items: [1], build: { k, n, _, _ in n == 0 ? [] : [["SET", k, value(n)]] },
                  call: { k, n, _, r, rs in n == 0 ? one(["SET", "\(k):new:\(r)", value(n)], [.missing]) : one(["SET", k, value(n)], [.bytes(n)]) }),
            Probe(command: "SETEX", statName: "setex", sizes: [0, 1, 100, 10_000, 100_000], items: [1], build: { k, n, _, _ in n == 0 ? [] : [["SET", k, value(n)]] },
                  call: { k, n, _, r, rs in n == 0 ? one(["SETEX", "\(k):new:\(r)", "3600", value(n)], [.missing]) : one(["SETEX", k, "3600", value(n)], [.bytes(n)]) }),
            Probe(command: "GET", statName: "get", sizes: [1, 100, 10_000, 100_000], items: [1], build: { k, n, _, _ in [["SET", k, value(n)]] },
                  call: { k, n, _, _, rs in one(["GET", k], [.bytes(n)]) }),
            Probe(command: "GETRANGE", statName: "getrange", sizes: [1, 10_000, 100_000], items: [1], build: { k, n, _, _ in [["SET", k, value(n)]] },
                  call: { k, n, _, _, rs in one(["GETRANGE", k, "0", "-1"], [.bytes(n)]) }),
            Probe(command: "INCR", statName: "incr", sizes: [1], items: [1], build: { k, _, _, _ in [["SET", k, "1"]] },
                  call: { k, _, _, r, rs in one(["INCR", k], [.bytes(String(1 + r).utf8.count)]) }),
            Probe(command: "MGET", statName: "mget", sizes: [100], items: [1, 10, 100], build: { k, n, m, _ in (0..<m).map { (i: Int) -> [String] in ["SET", "\(k):\(i)", value(n)] } },
                  call: { k, n, m, _, rs in one(["MGET"] + each(m) { "\(k):\($0)" }, Array(repeating: .bytes(n), count: m)) }),
            Probe(command: "MSET", statName: "mset", sizes: [100], items: [1, 10, 100], build: { _, _, _, _ in [] },
                  call: { k, n, m, r, rs in one(["MSET"] + pairs(m) { ["\(k):\($0)", value(n)] }, Array(repeating: r == 0 ? .missing : .bytes(n), count: m)) }),
            // The keyspace.
            Probe(command: "DEL", statName: "del", sizes: [0, 1, 100, mid, large], items: [1], build: { k, n, _, repeats in (0..<repeats).flatMap { set("\(k):\($0)", n) } },
                  call: { k, n, _, r, rs in one(["DEL", "\(k):\(r)"], [n == 0 ? .missing : .elements(n)]) }),
            Probe(command: "EXPIRE", statName: "expire", sizes: [1], items: [1], build: { k, _, _, _ in [["SET", k, "1"]] },
                  call: { k, _, _, _, rs in one(["EXPIRE", k, "3600"], [.bytes(1)]) }),
            Probe(command: "EXISTS", statName: "exists", sizes: [1], items: [1], build: { k, _, _, _ in [["SET", k, "1"]] },
                  call: { k, _, _, _, rs in one(["EXISTS", k], [.bytes(1)]) }),
            // Hashes.
            Probe(command: "HSET", statName: "hset", sizes: writes, items: counts, build: { k, n, _, _ in hash(k, n) },
                  call: { k, n, m, r, rs in let t = target(k, n, r, grownBy: m); return one(["HSET", t.key] + pairs(m) { ["n\(r):\($0)", "v"] }, [t.size]) }),
            Probe(command: "HDEL", statName: "hdel", sizes: writes, items: [1, 100], build: { k, n, m, repeats in hash(k, n + m * repeats) },
                  call: { k, n, m, r, rs in one(["HDEL", k] + each(m) { "f\(n + r * m + $0)" }, [.elements(n + m * (rs - r))]) }),
        ] + wholeRead("HGETALL", { hash($0, $1, pad: $2) }, { ["HGETALL", $0] }) + [
            read("HGET", { hash($0, $1) }, { ["HGET", $0, "f0"] }, sizes: [1, 100, large]),
            Probe(command: "HMGET", statName: "hmget", sizes: [large], items: [1, 10, 100], build: { k, n, _, _ in hash(k, n) },
                  call: { k, n, m, _, rs in one(["HMGET", k] + each(m) { "f\($0)" }, [.elements(n)]) }),
            read("HINCRBY", { hash($0, $1) }, { ["HINCRBY", $0, "counter", "1"] }, sizes: [1, large]),
            read("HINCRBYFLOAT", { hash($0, $1) }, { ["HINCRBYFLOAT", $0, "counter", "1.5"] }, sizes: [1, large]),
            // Sets.
            Probe(command: "SADD", statName: "sadd", sizes: writes, items: counts, build: { k, n, _, _ in set(k, n) },
                  call: { k, n, m, r, rs in let t = target(k, n, r, grownBy: m); return one(["SADD", t.key] + each(m) { "n\(r):\($0)" }, [t.size]) }),
            Probe(command: "SREM", statName: "srem", sizes: writes, items: [1, 100], build: { k, n, m, repeats in set(k, n + m * repeats) },
                  call: { k, n, m, r, rs in one(["SREM", k] + each(m) { "m\(n + r * m + $0)" }, [.elements(n + m * (rs - r))]) }),
        ] + wholeRead("SMEMBERS", { set($0, $1, pad: $2) }, { ["SMEMBERS", $0] }) + [
            read("SISMEMBER", { set($0, $1) }, { ["SISMEMBER", $0, "m0"] }, sizes: [1, 100, large]),
            read("SCARD", { set($0, $1) }, { ["SCARD", $0] }, sizes: [1, large]),
            Probe(command: "SUNIONSTORE", statName: "sunionstore", sizes: [1, 10, 100, mid, large, huge], items: [1],
                  build: { k, n, _, _ in set("\(k):a", n) + set("\(k):b", n, from: n / 2) },
                  call: { k, n, _, r, rs in one(["SUNIONSTORE", "\(k):d", "\(k):a", "\(k):b"], [r == 0 ? .missing : .elements(n + n / 2), .elements(n), .elements(n)]) }),
            Probe(command: "SINTER", statName: "sinter", sizes: [1, 10, 100, mid, large, huge], items: [1],
                  build: { k, n, _, _ in set("\(k):a", n) + set("\(k):b", n, from: n / 2) },
                  call: { k, n, _, _, rs in one(["SINTER", "\(k):a", "\(k):b"], [.elements(n), .elements(n)]) }),
            // Sorted sets.
            Probe(command: "ZADD", statName: "zadd", sizes: writes, items: counts, build: { k, n, _, _ in zset(k, n) },
                  call: { k, n, m, r, rs in let t = target(k, n, r, grownBy: m); return one(["ZADD", t.key] + pairs(m) { [score($0 * 104_729 + r), "n\(r):\($0)"] }, [t.size]) }),
            Probe(command: "ZREM", statName: "zrem", sizes: writes, items: [1, 100], build: { k, n, m, repeats in zset(k, n + m * repeats) },
                  call: { k, n, m, r, rs in one(["ZREM", k] + each(m) { "m\(n + r * m + $0)" }, [.elements(n + m * (rs - r))]) }),
        ] + wholeRead("ZRANGE", { zset($0, $1, pad: $2) }, { ["ZRANGE", $0, "0", "-1"] }) + [
            Probe(command: "ZRANGE", statName: "zrange", sizes: [100, mid, large], items: [1], build: { k, n, _, _ in zset(k, n) },
                  call: { k, n, _, _, rs in one(["ZRANGE", k, "0", "9"], [.elements(n)]) }),
        ] + wholeRead("ZRANGEBYSCORE", { zset($0, $1, pad: $2) }, { ["ZRANGEBYSCORE", $0, "-inf", "+inf"] }) + [
            read("ZSCORE", { zset($0, $1) }, { ["ZSCORE", $0, "m0"] }, sizes: [1, 100, large]),
            read("ZINCRBY", { zset($0, $1) }, { ["ZINCRBY", $0, "1", "m0"] }, sizes: [1, 100, large]),
            read("ZCARD", { zset($0, $1) }, { ["ZCARD", $0] }, sizes: [1, large]),
            // Lists.
            Probe(command: "RPUSH", statName: "rpush", sizes: writes, items: counts, build: { k, n, _, _ in list(k, n) },
                  call: { k, n, m, r, rs in let t = target(k, n, r, grownBy: m); return one(["RPUSH", t.key] + each(m) { "n\(r):\($0)" }, [t.size]) }),
            Probe(command: "LPUSH", statName: "lpush", sizes: writes, items: counts, build: { k, n, _, _ in list(k, n) },
                  call: { k, n, m, r, rs in let t = target(k, n, r, grownBy: m); return one(["LPUSH", t.key] + each(m) { "n\(r):\($0)" }, [t.size]) }),
            Probe(command: "LPOP", statName: "lpop", sizes: [1, 100, large], items: [1], build: { k, n, _, repeats in list(k, n + repeats) },
                  call: { k, n, _, r, rs in one(["LPOP", k], [.elements(n + rs - r)]) }),
            Probe(command: "RPOP", statName: "rpop", sizes: [1, 100, large], items: [1], build: { k, n, _, repeats in list(k, n + repeats) },
                  call: { k, n, _, r, rs in one(["RPOP", k], [.elements(n + rs - r)]) }),
        ] + wholeRead("LRANGE", { list($0, $1, pad: $2) }, { ["LRANGE", $0, "0", "-1"] }) + [
            Probe(command: "LRANGE", statName: "lrange", sizes: [100, mid, large], items: [1], build: { k, n, _, _ in list(k, n) },
                  call: { k, n, _, _, rs in one(["LRANGE", k, "0", "99"], [.elements(n)]) }),
            read("LLEN", { list($0, $1) }, { ["LLEN", $0] }, sizes: [1, large]),
            // A blocking pop that finds an element does not block.
            Probe(command: "BRPOP", statName: "brpop", sizes: [1, 100, large], items: [1], build: { k, n, _, repeats in list(k, n + repeats) },
                  call: { k, n, _, r, rs in one(["BRPOP", k, "1"], [.elements(n + rs - r)]) }),
            // Streams.
            Probe(command: "XADD", statName: "xadd", sizes: [0, 100, mid], items: [1], build: { k, n, _, _ in (0..<n).map { ["XADD", k, "*", "n", String($0)] } },
                  call: { k, n, _, r, rs in let t = target(k, n, r); return one(["XADD", t.key, "*", "n", String(r)], [t.size]) }),
            read("XRANGE", { k, n in (0..<n).map { ["XADD", k, "*", "n", String($0)] } }, { ["XRANGE", $0, "-", "+"] }, sizes: [1, 10, 100, mid]),
            // Transactions: EXEC's own time is its usec minus its queued INCRs'.
            Probe(command: "EXEC", statName: "exec", sizes: [1], items: [1, 10, 100], build: { k, _, _, _ in [["SET", k, "1"]] },
                  call: { _, _, _, _, _ in one(["EXEC"], []) }, nestedStat: "incr",
                  queue: { k, _, m in [["MULTI"]] + Array(repeating: ["INCR", k], count: m) }),
            // Scripts: EVAL hashes and looks up its body each call; EVALSHA finds it by digest.
            // Both run the one script above, the only thing calibrate leaves (in the script cache).
            Probe(command: "EVAL", statName: "eval", sizes: [1], items: [0, 1, 10, 100], build: { k, _, _, _ in [["SET", k, "1"]] },
                  call: { k, _, m, _, _ in one(["EVAL", script, "1", k, String(m)], [.bytes(1)]) }, nestedStat: "incr"),
            Probe(command: "EVALSHA", statName: "evalsha", sizes: [1], items: [0, 1, 10, 100],
                  build: { k, _, _, _ in [["SET", k, "1"], ["SCRIPT", "LOAD", script]] },
                  call: { k, _, m, _, _ in one(["EVALSHA", sha, "1", k, String(m)], [.bytes(1)]) }, nestedStat: "incr"),
            // PUBLISH appends the message to each subscriber's output (sent after it returns).
            Probe(command: "PUBLISH", statName: "publish", sizes: [1], items: [0, 1, 10, 30], build: { _, _, _, _ in [] },
                  call: { k, _, m, _, _ in ProbeCall(argv: ["PUBLISH", k, "message"], sizes: [], subscribers: m) }, subscribers: true),
            // A client's subscriptions, made and dropped on calibrate's own connection (each
            // call names one channel, so it answers with one reply), and its greeting.
            Probe(command: "SUBSCRIBE", statName: "subscribe", sizes: [1], items: [1], build: { _, _, _, _ in [] },
                  call: { k, _, _, _, _ in one(["SUBSCRIBE", k], []) }, leave: ["UNSUBSCRIBE"]),
            Probe(command: "UNSUBSCRIBE", statName: "unsubscribe", sizes: [1], items: [1], build: { _, _, _, _ in [] },
                  call: { k, _, _, _, _ in one(["UNSUBSCRIBE", k], []) }, queue: { k, _, _ in [["SUBSCRIBE", k]] }),
            Probe(command: "HELLO", statName: "hello", sizes: [1], items: [1], build: { _, _, _, _ in [] },
                  call: { _, _, _, _, _ in one(["HELLO", "2"], []) }),
        ]
    }()

    /// One probe's fit.
    public struct Measurement: Sendable {
        public var command: String
        public var elementClass: String
        public var points: Int
        public var coefficients: TimeModel.Coefficients
        public var relativeError: Double
        /// Its size curve (empty: none measured).
        public var sizeCurve: [TimeModel.SizePoint]
    }

    public struct Interrupted: Error {}

    /// What a calibration gives: the model, each probe's fit, the fits' error, and the probes
    /// the server refused (command, its answer).
    public struct Result: Sendable {
        public var model: TimeModel
        public var measurements: [Measurement]
        public var relativeError: Double
        public var refused: [(command: String, reason: String)]
        /// µs of a GET of a 5-byte string back to back (`referenceSpeed`), at the start and at
        /// the end of the run: whether the machine's speed held while it was measured.
        public var referenceMicroseconds: (start: Double, end: Double)?
    }

    /// The server µs of `GET` of a short string: the median of five rounds of 2,000 calls
    /// pipelined, from commandstats; nil when other clients ran GET meanwhile (the figure
    /// would not be this run's). The server times each call in whole µs and a GET takes a
    /// fraction of one, so a round needs thousands of calls; and two rounds back to back
    /// differ by up to ×1.8 on a shared machine, so one round cannot tell a drift from noise.
    static func referenceSpeed(_ connection: RedisConnection, key: String) throws(ServerError) -> Double? {
        _ = try connection.command(["SET", key, "value"])
        let count = 2000
        var rounds: [Double] = []
        for _ in 0..<5 {
            let before = try commandStats(connection, ["get"])[0]
            _ = try connection.pipeline(Array(repeating: ["GET", key], count: count))
            let after = try commandStats(connection, ["get"])[0]
            guard let usec = elapsed(before, after, calls: count) else { return nil }
            rounds.append(max(0.5, Double(usec)) / Double(count))
        }
        return rounds.sorted()[rounds.count / 2]
    }

    public static func run(_ connection: RedisConnection, server: String, serverID: String? = nil, elements: Int = 10_000, repeats: Int = 20, passes: Int = 3,
                           table: CommandTable, progress: ((String) -> Void)? = nil,
                           isCancelled: @escaping () -> Bool = { false }) throws(ServerError) -> Result {
        let prefix = "redis-cost-calibrate:\(UInt64.random(in: 0...UInt64.max)):"
        var created: Set<String> = []
        func removeCreated() {
            // A transaction left open by an error would queue the UNLINK instead of running it.
            _ = try? connection.command(["DISCARD"])
            // UNLINK: freed in the background; in slices, so no call names too many keys.
            let names = Array(created)
            for start in stride(from: 0, to: names.count, by: 500) {
                _ = try? connection.command(["UNLINK"] + names[start..<min(names.count, start + 500)])
            }
            created = []
        }
        defer { removeCreated() }
        func stats(_ names: [String]) throws(ServerError) -> [(calls: Int, usec: Int)] { try commandStats(connection, names) }
        func scaled(_ n: Int) -> Int { n == large ? elements : n == mid ? max(1, elements / 10) : n }
        func note(_ argv: [String]) { for a in argv.dropFirst() where a.hasPrefix(prefix) { created.insert(a) } }
        /// Each probe key's bytes per argument of the writes that built it: what a whole read's
        /// reply bytes are priced by.
        var builtBytes: [String: Float] = [:]
        /// A probe call (its keys: the arguments under the prefix) as the analysis prices it: its
        /// formula's elements and its features; a wrapper (`nestedCalls`) has no elements of its
        /// own, and its items are the calls it ran.
        func priced(_ argv: [String], _ sizes: [KeySize], index: Int, nestedCalls: Int? = nil, subscribers: Int? = nil) -> (facts: CallFacts, features: TimeModel.Features) {
            var facts = CallFacts(argv: argv, keyPositions: argv.indices.filter { argv[$0].hasPrefix(prefix) }, sizes: sizes)
            facts.elementBytes = facts.keyPositions.map { builtBytes[argv[$0]].map(Double.init) }
            if let subscribers {
                facts.channelSubscribers = subscribers
                facts.patternSubscriptions = patterns
            }
            let value = nestedCalls != nil ? 0 : table.formulas[index]?.evaluate(facts).value ?? 1
            // Every probe key was built here, so its mean is known; a key made by the call itself has none.
            let reply = table.entries[index].semantics.repliesElements ? facts.keyElementBytes(0) ?? 0 : nil
            var features = TimeModel.Features.of(facts, elements: value, nameWords: 1, replyElementBytes: reply, createsKeys: table.entries[index].semantics.createsKeys)
            if let nestedCalls { features.items = Double(nestedCalls) }
            return (facts, features)
        }

        /// The server's pattern subscriptions, which every PUBLISH walks.
        let patterns = try connection.command(["PUBSUB", "NUMPAT"]).int ?? 0
        /// Probes the server refused (an ACL, scripting turned off, a command renamed away): the
        /// command and the server's answer. They keep the class or default figures.
        var refused: [(command: String, reason: String)] = []

        /// The mean server µs of `repeats` calls of the probe at (n, m), their mean features and
        /// the largest key they touched; retried when other clients ran the same command meanwhile.
        /// Nil when the server answered one of its commands with an error (noted in `refused`).
        func measure(_ probe: Probe, index: Int, n: Int, m: Int) throws(ServerError) -> (features: TimeModel.Features, usec: Double, largest: Double)? {
            let key = prefix + "\(probe.command.lowercased()):\(n):\(m)"
            let names = [probe.statName] + (probe.nestedStat.map { [$0] } ?? [])
            for _ in 0..<3 {
                if isCancelled() { throw interrupted(server) }
                let build = probe.build(key, n, m, repeats)
                build.forEach(note)
                builtBytes = elementBytes(of: build)
                for start in stride(from: 0, to: build.count, by: 200) {
                    let replies = try connection.pipeline(Array(build[start..<min(build.count, start + 200)]))
                    if let i = replies.firstIndex(where: { if case .error = $0 { true } else { false } }), case .error(let message) = replies[i] {
                        let argv = build[start + i]
                        refused.append((probe.command, "\(argv.prefix(argv.first == "SCRIPT" ? 2 : 1).joined(separator: " ")): \(message)"))
                        return nil
                    }
                }
                var measured: [(features: TimeModel.Features, usec: Int)] = []
                var largest = 0.0
                var clean = true
                let wrapper = probe.nestedStat != nil
                // Closed (unsubscribed) when the measurement ends.
                var listeners: [RedisConnection] = []
                for _ in 0..<(probe.subscribers ? m : 0) {
                    let listener = try RedisConnection(connection.options)
                    if case .error(let message) = try listener.command(["SUBSCRIBE", key]) {
                        refused.append((probe.command, "SUBSCRIBE: \(message)"))
                        return nil
                    }
                    listeners.append(listener)
                }
                defer { listeners = [] }
                for r in 0..<repeats {
                    let call = probe.call(key, n, m, r, repeats)
                    note(call.argv)
                    let (facts, f) = priced(call.argv, call.sizes, index: index, nestedCalls: wrapper ? m : nil, subscribers: call.subscribers)
                    largest = max(largest, TimeModel.largestKey(facts))
                    // Read before MULTI: inside the transaction INFO would be queued too.
                    let before = try stats(names)
                    if let queue = probe.queue {
                        let queued = queue(key, n, m)
                        queued.forEach(note)
                        _ = try connection.pipeline(queued)
                    }
                    let reply = try connection.command(call.argv)
                    if case .error(let message) = reply {
                        refused.append((probe.command, "\(call.argv.first ?? probe.command): \(message)"))
                        return nil
                    }
                    if let leave = probe.leave { _ = try connection.command(leave) }
                    let after = try stats(names)
                    if let finish = probe.after { _ = try connection.command(finish) }
                    guard var own = elapsed(before[0], after[0], calls: 1) else { clean = false; break }
                    if wrapper {
                        guard let nested = elapsed(before[1], after[1], calls: m) else { clean = false; break }
                        own = max(0, own - nested)
                    }
                    measured.append((f, own))
                }
                removeCreated()
                if clean, let mean = robustMean(measured) { return (mean.features, mean.usec, largest) }
            }
            throw ServerError(server: server, command: "INFO commandstats", detail: "other clients kept running \(probe.statName.uppercased()) during the measurement; calibrate on a quieter server or database")
        }

        /// The probe's build of a key of n elements sent a call at a time, each timed: a key
        /// grown from nothing in calls of 1,000 items, as applications bulk-load. Such calls
        /// cost more per item than the probes into a key of settled size (allocations; the hash
        /// table doubling, then moving every element to the new one). Each call's features, µs
        /// and the size of its key before it; nil when the build is not of the probe's own
        /// command (LPUSH's keys are built by RPUSH), the server refused it or other clients
        /// ran the command meanwhile (the probe keeps its other measurements).
        func growth(_ probe: Probe, index: Int, n: Int) throws(ServerError) -> [(features: TimeModel.Features, usec: Double, largest: Double)]? {
            let key = prefix + "\(probe.command.lowercased()):growth"
            let build = probe.build(key, n, 1000, 1)
            guard build.allSatisfy({ $0.first?.lowercased() == probe.statName }) else { return nil }
            build.forEach(note)
            defer { removeCreated() }
            var points: [(features: TimeModel.Features, usec: Double, largest: Double)] = []
            var size = 0
            for argv in build {
                if isCancelled() { throw interrupted(server) }
                builtBytes = elementBytes(of: [argv])
                let (_, f) = priced(argv, [size == 0 ? .missing : .elements(size)], index: index)
                let before = try stats([probe.statName])[0]
                if case .error = try connection.command(argv) { return nil }
                let after = try stats([probe.statName])[0]
                guard let usec = elapsed(before, after, calls: 1) else { return nil }
                points.append((f, max(0.5, Double(usec)), Double(size)))
                // `chunks` puts 1,000 items, each a new element, in every call but the last.
                size += 1000
            }
            return points
        }

        let referenceKey = prefix + "reference"
        created.insert(referenceKey)
        let startSpeed = try referenceSpeed(connection, key: referenceKey)
        var byCommand: [String: (rows: [[Double]], targets: [Double], largest: Double)] = [:]
        /// Measured on keys ten times the fit's largest: what the size curve is made of.
        var beyond: [String: [(features: TimeModel.Features, usec: Double, largest: Double)]] = [:]
        var order: [String] = []
        var wrappers: Set<String> = []
        let hugeSize = min(1_000_000, elements * 10)
        /// Each probe's points: its sizes (beyond the fit's or not) at each item count.
        func points(_ probe: Probe) -> [(n: Int, m: Int, isHuge: Bool)] {
            let fitted = Set(probe.sizes.filter { $0 != huge }.map(scaled)).sorted()
            let sizes = fitted.map { ($0, false) } + (probe.sizes.contains(huge) && hugeSize > elements ? [(hugeSize, true)] : [])
            return sizes.flatMap { n, isHuge in probe.items.filter { $0 <= max(1, elements) }.map { (n, $0, isHuge) } }
        }
        // Every point measured in `passes` sweeps over all the probes, the median kept: a
        // machine's speed moves by half within a minute, and a sweep spreads each command's
        // measurements over the whole run instead of one moment of it.
        var sweeps: [[[(features: TimeModel.Features, usec: Double, largest: Double)]]] = probes.map { points($0).map { _ in [] } }
        var refusedCommands: Set<String> = []
        for pass in 0..<passes {
            for (p, probe) in probes.enumerated() where !refusedCommands.contains(probe.command) {
                guard let index = table.indexByName[probe.command] else { continue }
                progress?(passes > 1 ? "\(probe.command) (\(pass + 1)/\(passes))" : probe.command)
                for (i, point) in points(probe).enumerated() {
                    // Refused: what this command measured is dropped, not fitted on part of its sizes.
                    guard let measured = try measure(probe, index: index, n: point.n, m: point.m) else { refusedCommands.insert(probe.command); break }
                    sweeps[p][i].append(measured)
                }
            }
        }
        for (p, probe) in probes.enumerated() where !refusedCommands.contains(probe.command) {
            guard let index = table.indexByName[probe.command] else { continue }
            if probe.nestedStat != nil { wrappers.insert(probe.command) }
            if !order.contains(probe.command) { order.append(probe.command) }
            for (point, results) in zip(points(probe), sweeps[p]) where !results.isEmpty {
                let (f, us, largest) = results.sorted { $0.usec < $1.usec }[results.count / 2]
                if point.isHuge { beyond[probe.command, default: []].append((f, us, largest)); continue }
                // A call measured at 0 µs (the clock's resolution) counts as half of one.
                byCommand[probe.command, default: ([], [], 0)].rows.append(f.vector)
                byCommand[probe.command, default: ([], [], 0)].targets.append(max(0.5, us))
                byCommand[probe.command, default: ([], [], 0)].largest = max(byCommand[probe.command]?.largest ?? 0, largest)
            }
            // A write that adds elements, measured again while it grows a key from nothing to
            // the size curve's: its calls up to the largest key the probes fitted join the fit,
            // the larger ones the curve.
            if let anchor = byCommand[probe.command]?.largest, table.entries[index].semantics.write == .adds,
               probe.sizes.contains(huge), hugeSize > elements, let points = try growth(probe, index: index, n: hugeSize) {
                for (f, us, largest) in points {
                    if largest > anchor { beyond[probe.command, default: []].append((f, us, largest)); continue }
                    byCommand[probe.command, default: ([], [], 0)].rows.append(f.vector)
                    byCommand[probe.command, default: ([], [], 0)].targets.append(max(0.5, us))
                }
            }
        }
        var measurements: [Measurement] = []
        var commands: [String: TimeModel.Coefficients] = [:]
        var curves: [String: [TimeModel.SizePoint]] = [:]
        var pooled: [String: (rows: [[Double]], targets: [Double], curves: [[TimeModel.SizePoint]])] = [:]
        var errors: [Double] = []
        for command in order {
            guard let data = byCommand[command], let index = table.indexByName[command],
                  let fit = LeastSquaresFit.fit(rows: data.rows, targets: data.targets) else { continue }
            let cls = TimeModel.elementClass(ofGroup: table.entries[index].group)
            let c = TimeModel.Coefficients(fit.coefficients)
            commands[command] = c
            let curve = sizeCurve(c, anchor: data.largest, beyond: beyond[command] ?? [])
            curves[command] = curve
            // A wrapper's items are the calls it ran, not arguments: it is priced by its own fit only.
            if !wrappers.contains(command) {
                pooled[cls, default: ([], [], [])].rows += data.rows
                pooled[cls, default: ([], [], [])].targets += data.targets
                if let curve { pooled[cls, default: ([], [], [])].curves.append(curve) }
            }
            errors.append(fit.relativeError)
            measurements.append(Measurement(command: command, elementClass: cls, points: data.rows.count, coefficients: c, relativeError: fit.relativeError,
                                            sizeCurve: curve ?? []))
        }
        var classes: [String: TimeModel.Coefficients] = [:]
        var classCurves: [String: [TimeModel.SizePoint]] = [:]
        for (cls, data) in pooled {
            if let fit = LeastSquaresFit.fit(rows: data.rows, targets: data.targets) { classes[cls] = TimeModel.Coefficients(fit.coefficients) }
            classCurves[cls] = classSizeCurve(data.curves)
        }
        // What a MONITOR client adds to a wrapper per call it runs: the EXEC probe again with
        // one attached, its per-item coefficient against the plain one's.
        var watchedPerNestedCall = 0.0, watchedPerNestedByte = 0.0
        if let exec = probes.first(where: { $0.nestedStat != nil }), let index = table.indexByName[exec.command],
           let plain = commands[exec.command] {
            progress?("\(exec.command) with a monitor attached")
            let monitor = try MonitorDrain(connection.options, server: server)
            defer { monitor.stop() }
            var rows: [[Double]] = [], targets: [Double] = []
            for m in exec.items where m <= max(1, elements) {
                guard let (f, us, _) = try measure(exec, index: index, n: 1, m: m) else { break }
                rows.append(f.vector)
                targets.append(max(0.5, us))
            }
            if let fit = LeastSquaresFit.fit(rows: rows, targets: targets) {
                watchedPerNestedCall = max(0, TimeModel.Coefficients(fit.coefficients).perItem - plain.perItem)
            }
            // And per byte of the calls it runs (the feed formats every argument, escaping it):
            // ten queued SETs of 10 to 10,000-byte values; the slope of EXEC's own time.
            let sets = Probe(command: exec.command, statName: exec.statName, sizes: [10, 1000, 10_000], items: [10], build: { _, _, _, _ in [] },
                             call: exec.call, nestedStat: "set", queue: { k, n, m in [["MULTI"]] + Array(repeating: ["SET", k, value(n)], count: m) })
            var byteRows: [[Double]] = [], byteTargets: [Double] = []
            for n in sets.sizes {
                guard let (_, us, _) = try measure(sets, index: index, n: n, m: 10) else { break }
                byteRows.append([1, Double(10 * n)])
                byteTargets.append(max(0.5, us))
            }
            if let fit = LeastSquaresFit.fit(rows: byteRows, targets: byteTargets) { watchedPerNestedByte = max(0, fit.coefficients[1]) }
        }

        // How a call's fixed time grows with the server's idle time before it.
        progress?("calls after idle time")
        // A command run again in its burst is measured against what the fit says of it.
        let idle = try idleFactors(connection, server: server, prefix: prefix, isCancelled: isCancelled, note: { created.insert($0) }) { argv, sizes in
            guard let index = table.indexByName[argv[0]], let c = commands[argv[0]] else { return nil }
            let us = c.microseconds(priced(argv, sizes, index: index).features)
            return us > 0 ? us : nil
        }
        created.insert(referenceKey)
        let endSpeed = try referenceSpeed(connection, key: referenceKey)
        removeCreated()

        let perCalls = commands.values.map(\.perCall).sorted()
        let median = perCalls.isEmpty ? TimeModel.defaults.perCall : perCalls[perCalls.count / 2]
        // A key whose writes the analysis did not see is priced with the bytes per argument of
        // the probes' own keys (the median over the four types' builders): as the fit priced them.
        let probesBytes = [hash("k", elements), set("k", elements), zset("k", elements), list("k", elements)].map { elementBytes(of: $0)["k"] ?? 0 }.sorted()
        let referenceBytes = Double(probesBytes[probesBytes.count / 2])
        // The classes' fallback per element (what files of earlier versions held); a class no
        // probe measured keeps the default.
        var perElement: [String: Double] = [:]
        for cls in TimeModel.classes {
            perElement[cls] = classes[cls].map { $0.perElement(atElementBytes: referenceBytes) } ?? TimeModel.defaults.perElement[cls]
        }
        let overall = errors.isEmpty ? 0 : (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        let model = TimeModel(perCall: median, perElement: perElement,
                              source: "calibrated on \(server) with \(grouped(elements))-element keys, \(repeats) calls each",
                              classCoefficients: classes, commandCoefficients: commands, fittedOn: serverID,
                              idle: idle.first, watchedPerNestedCall: watchedPerNestedCall, watchedPerNestedByte: watchedPerNestedByte,
                              idleInBurst: idle.following, repeatedInBurst: idle.repeated,
                              commandSizeCurves: curves.compactMapValues { $0 }, classSizeCurves: classCurves,
                              elementBytes: referenceBytes)
        let reference = startSpeed.flatMap { start in endSpeed.map { (start, $0) } }
        return Result(model: model, measurements: measurements, relativeError: overall, refused: refused, referenceMicroseconds: reference)
    }

    /// The mean µs and features of a probe's calls, as commandstats averages a workload's,
    /// but without the calls the machine took the server off its core during (over four
    /// times the median and 5 µs more): one such call among twenty can double a small
    /// command's mean and is a matter of luck, not of the command. Nil without calls.
    package static func robustMean(_ calls: [(features: TimeModel.Features, usec: Int)]) -> (features: TimeModel.Features, usec: Double)? {
        guard !calls.isEmpty else { return nil }
        let median = calls.map(\.usec).sorted()[calls.count / 2]
        let kept = calls.filter { Double($0.usec) <= 4 * Double(median) + 5 }
        let k = Double(kept.count)
        return (kept.reduce(TimeModel.Features.zero) { $0 + $1.features } / k, Double(kept.reduce(0) { $0 + $1.usec }) / k)
    }

    /// A command's size curve: 1 at the largest key its fit saw (`anchor`), then a point per
    /// band of larger keys measured (a factor of √10 wide: a growth's calls between the anchor
    /// and ten times it fall in two, the probes at ten times it in the second or a third): the
    /// ratio of the measured time beyond the fixed part to the fit's, summed over the band's
    /// calls (so those with the most such time weigh most), at the geometric mean of their
    /// largest keys. A band where the fit says too little grows with the data (under 5 µs in
    /// all) for a ratio to mean anything is left out; nil when no band is left.
    package static func sizeCurve(_ c: TimeModel.Coefficients, anchor: Double,
                          beyond: [(features: TimeModel.Features, usec: Double, largest: Double)]) -> [TimeModel.SizePoint]? {
        guard anchor > 0 else { return nil }
        var bands: [Int: (measured: Double, predicted: Double, logSize: Double, count: Double, smallest: Double, largest: Double)] = [:]
        for point in beyond where point.largest > anchor {
            let band = Int((2 * log10(point.largest / anchor)).rounded(.up))
            let fixed = c.fixedMicroseconds(point.features)
            var sums = bands[band] ?? (0, 0, 0, 0, point.largest, point.largest)
            sums.predicted += max(0, c.microseconds(point.features) - fixed)
            sums.measured += max(0, point.usec - fixed)
            sums.logSize += log(point.largest)
            sums.count += 1
            sums.smallest = min(sums.smallest, point.largest)
            sums.largest = max(sums.largest, point.largest)
            bands[band] = sums
        }
        let points = bands.keys.sorted().compactMap { band -> TimeModel.SizePoint? in
            guard let sums = bands[band], sums.predicted >= 5 else { return nil }
            // Probes all at one size keep it exactly (no rounding through the logarithm).
            let at = sums.smallest == sums.largest ? sums.largest : exp(sums.logSize / sums.count)
            return TimeModel.SizePoint(elements: at, factor: min(20, max(0.25, sums.measured / sums.predicted)))
        }
        return points.isEmpty ? nil : [TimeModel.SizePoint(elements: anchor, factor: 1)] + points
    }

    /// A class's size curve from its commands': at each size any of them has a point at, the
    /// median of their factors there (each read off its own curve). Nil without curves.
    package static func classSizeCurve(_ curves: [[TimeModel.SizePoint]]) -> [TimeModel.SizePoint]? {
        let sizes = Set(curves.flatMap { $0.map(\.elements) }).sorted()
        guard !sizes.isEmpty else { return nil }
        return sizes.map { x in
            let factors = curves.map { TimeModel.sizeFactor($0, elements: x) }.sorted()
            return TimeModel.SizePoint(elements: x, factor: factors[factors.count / 2])
        }
    }

    /// What a calibration stopped by `isCancelled` (Ctrl-C) throws, after its keys are removed.
    static func interrupted(_ server: String) -> ServerError {
        ServerError(server: server, command: nil, detail: "interrupted; the temporary keys were removed")
    }

    /// The server µs a command's counters say `calls` calls took between two readings; nil when
    /// they did not count exactly those calls (other clients ran the command meanwhile) or the
    /// time went down. Compared, not subtracted blindly: a hostile server's counters could
    /// overflow a difference (`commandStats` keeps usec below Int.max / 4).
    static func elapsed(_ before: (calls: Int, usec: Int), _ after: (calls: Int, usec: Int), calls: Int) -> Int? {
        guard calls >= 0, before.calls <= Int.max - calls, after.calls == before.calls + calls, after.usec >= before.usec else { return nil }
        return after.usec - before.usec
    }

    /// Per INFO commandstats name (`hget`), its calls and usec counters; (0, 0) when absent.
    static func commandStats(_ connection: RedisConnection, _ names: [String]) throws(ServerError) -> [(calls: Int, usec: Int)] {
        let text = try connection.require(["INFO", "commandstats"]).text ?? ""
        let info = parseInfo(text)
        return names.map { name in
            guard let value = info["cmdstat_\(name)"] else { return (0, 0) }
            let fields = infoFields(value)
            // Checked: a server's counters are input; a negative or absurd one reads as 0.
            let calls = fields["calls"].flatMap { Int($0) }.map { $0 >= 0 ? $0 : 0 } ?? 0
            let usec = fields["usec"].flatMap { Int($0) }.map { $0 >= 0 && $0 < Int.max / 4 ? $0 : 0 } ?? 0
            return (calls, usec)
        }
    }

    /// The idle times probed (µs of sleep between bursts; 0: back to back). 100 µs is where
    /// a client that sends a call at a time and works a little between them stands.
    package static let idleSleeps = [0, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000]
    /// Spins until `microseconds` have passed (the idle probe's gaps: a client at work).
    static func busyWait(microseconds: Int) {
        let end = monotonicSeconds() + Double(microseconds) / 1e6
        while monotonicSeconds() < end {}
    }

    /// Sweeps over `idleSleeps`, each point's median kept.
    package static let idleRounds = 3

    /// A burst of four O(1) calls (two reads, two writes) sent as one pipeline, `count` times
    /// with `sleep` µs between bursts, each call first in turn; each call's mean server time
    /// (INFO commandstats before and after the run) in units of what the fit says of the call
    /// (`predicted`), per idle time (the sleep and the round trip, less the server's time): the
    /// median factor of the first call of a burst (`first`: 1 plus its µs over the same bursts
    /// back to back) and of the calls that follow it (`following`: their µs), each never
    /// decreasing with idle time. And each call repeated back to back in one pipeline against `predicted`: the
    /// median is `repeated`, the factor of a command run again in its burst (nil when the fit
    /// says nothing of them).
    static func idleFactors(_ connection: RedisConnection, server: String, prefix: String, isCancelled: () -> Bool,
                            note: (String) -> Void, predicted: ([String], [KeySize]) -> Double?)
        throws(ServerError) -> (first: [TimeModel.IdlePoint], following: [TimeModel.IdlePoint], repeated: Double?) {
        let string = prefix + "idle:string", hash = prefix + "idle:hash", zset = prefix + "idle:zset"
        [string, hash, zset].forEach(note)
        let build = [["SET", string, "value"]] + Self.hash(hash, 100) + Self.zset(zset, 100)
        _ = try connection.pipeline(build)
        let calls: [(stat: String, argv: [String], sizes: [KeySize])] = [
            ("get", ["GET", string], [.bytes(5)]), ("hset", ["HSET", hash, "f1", "v"], [.elements(100)]),
            ("zscore", ["ZSCORE", zset, "m1"], [.elements(100)]), ("expire", ["EXPIRE", string, "3600"], [.bytes(5)])]
        let names = calls.map(\.stat)
        /// Per rotation r (call r first), each call's mean server µs; the median idle µs before a burst.
        func run(sleep: Int) throws(ServerError) -> (usec: [[Double]], idle: Double) {
            let count = sleep >= 10_000 ? 20 : sleep > 0 ? 50 : 200
            var usec: [[Double]] = [], idles: [Double] = []
            for r in calls.indices {
                let burst = (calls[r...] + calls[..<r]).map(\.argv)
                for attempt in 0..<3 {
                    if isCancelled() { throw interrupted(server) }
                    let before = try commandStats(connection, names)
                    let start = monotonicSeconds()
                    for _ in 0..<count {
                        // Busy between bursts, as a workload's client is between its calls: on a
                        // machine it shares with the server that keeps the machine awake (a CPU
                        // clocked down by sleeping would make every gap look dearer than a
                        // workload's); on another machine it changes nothing on the server's.
                        if sleep > 0 { busyWait(microseconds: sleep) }
                        _ = try connection.pipeline(burst)
                    }
                    let wall = (monotonicSeconds() - start) * 1e6 / Double(count)
                    let after = try commandStats(connection, names)
                    // Other clients ran one of the commands meanwhile: measured again.
                    let spent = zip(before, after).compactMap { elapsed($0, $1, calls: count) }
                    guard spent.count == names.count else {
                        if attempt == 2 { throw ServerError(server: server, command: "INFO commandstats", detail: "other clients kept running \(names.joined(separator: ", ").uppercased()) during the measurement; calibrate on a quieter server") }
                        continue
                    }
                    let perCall = spent.map { max(0.5, Double($0) / Double(count)) }
                    usec.append(perCall)
                    idles.append(max(1, wall - perCall.reduce(0, +)))
                    break
                }
            }
            return (usec, idles.sorted()[idles.count / 2])
        }
        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        // The sweep three times over, interleaved, and the median of each point: one sweep's
        // figures move with whatever else the machine did meanwhile.
        var runs: [[(usec: [[Double]], idle: Double)]] = Array(repeating: [], count: idleSleeps.count)
        for _ in 0..<idleRounds {
            for (i, sleep) in idleSleeps.enumerated() { runs[i].append(try run(sleep: sleep)) }
        }
        // Each call back to back: its mean over the positions it took, the median over the rounds.
        let base = calls.indices.map { i in median(runs[0].map { round in round.usec.map { $0[i] }.reduce(0, +) / Double(round.usec.count) }) }
        // The factors are on the fit's fixed time, so they are measured in the fit's units:
        // what the fit says of the call. The first call of a burst back to back stands where
        // the fit's probes stood (a call after a round trip: factor 1), and idle time adds its
        // µs over that; a factor over back to back alone counted the difference between the
        // probes (each sent alone between two INFO calls) and calls in a pipeline twice (×12
        // after 10 ms on Redis 7.0.15, where the same calls sent alone after 10 ms took ×3–10
        // of their time sent alone without a pause). The calls that follow in a burst never
        // wait for the network: their µs against the fit's, at every idle time (below 1 back
        // to back: rq's transactions' HSET and EXPIRE at 0.6 of the fit's figure).
        let unit = calls.indices.map { i in predicted(calls[i].argv, calls[i].sizes) ?? base[i] }
        var first: [TimeModel.IdlePoint] = [], following: [TimeModel.IdlePoint] = []
        for (point, sleep) in idleSleeps.enumerated() {
            let idle = median(runs[point].map(\.idle))
            guard idle > (first.last?.idleMicroseconds ?? 0) else { continue }
            var firsts: [Double] = [], follows: [Double] = []
            for round in runs[point] {
                for (r, row) in round.usec.enumerated() {
                    for (i, us) in row.enumerated() {
                        if i == r { firsts.append(1 + (us - base[i]) / unit[i]) } else { follows.append(us / unit[i]) }
                    }
                }
            }
            first.append(TimeModel.IdlePoint(idleMicroseconds: idle, factor: sleep == 0 ? 1 : max(first.last?.factor ?? 1, median(firsts))))
            following.append(TimeModel.IdlePoint(idleMicroseconds: idle, factor: min(100, max(following.last?.factor ?? 0.1, median(follows)))))
        }
        // Each command repeated back to back.
        var repeatedRatios: [Double] = []
        let count = 50
        for call in calls {
            guard let expected = predicted(call.argv, call.sizes) else { continue }
            let before = try commandStats(connection, [call.stat])[0]
            _ = try connection.pipeline(Array(repeating: call.argv, count: count))
            let after = try commandStats(connection, [call.stat])[0]
            // Other clients ran it meanwhile: this command is left out.
            guard let usec = elapsed(before, after, calls: count) else { continue }
            repeatedRatios.append(max(0.5, Double(usec)) / Double(count) / expected)
        }
        let repeated = repeatedRatios.isEmpty ? nil : min(100, max(0.1, median(repeatedRatios)))
        return (first, following, repeated)
    }
}

/// A MONITOR client attached for a while (calibrate's watched wrapper probe): its stream read
/// and dropped on a thread, so the server never buffers it, until `stop`.
private final class MonitorDrain: @unchecked Sendable {
    private let connection: RedisConnection
    private let done = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var stopped = false
    private var isStopped: Bool { lock.lock(); defer { lock.unlock() }; return stopped }

    init(_ options: ConnectionOptions, server: String) throws(ServerError) {
        connection = try RedisConnection(options)
        let reply = try connection.command(["MONITOR"])
        if case .error(let message) = reply { throw ServerError(server: server, command: "MONITOR", detail: message) }
        Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { try? connection.receive(into: $0, label: "MONITOR") }
                // nil: no line within the timeout (or a failed read: paused); 0: closed.
                if n == 0 || isStopped { break }
                if n == nil { usleep(1000) }
            }
            done.signal()
        }.start()
    }

    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
        shutdown(connection.fileDescriptor, Int32(SHUT_RDWR))
        done.wait()
    }
}
