import Foundation
import RedisCostCore
import RedisCostFormats
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
        /// A wrapper whose own time is its usec minus that of the calls it ran (this command's stat).
        public var nestedStat: String? = nil
        /// Sent after each measured call, unmeasured (DISCARD after MULTI).
        public var after: [String]? = nil
    }

    package static func chunks(_ key: String, _ command: String, _ range: Range<Int>, _ item: (Int) -> [String]) -> [[String]] {
        stride(from: range.lowerBound, to: range.upperBound, by: 1000).map { start in
            [command, key] + (start..<min(range.upperBound, start + 1000)).flatMap(item)
        }
    }

    private static func value(_ n: Int) -> String { String(repeating: "x", count: max(1, n)) }
    private static let large = -1, mid = -2   // size placeholders: the largest key, a tenth of it
    private static func hash(_ k: String, _ n: Int) -> [[String]] { chunks(k, "HSET", 0..<n) { ["f\($0)", "v\($0 % 97)"] } }
    private static func set(_ k: String, _ n: Int) -> [[String]] { set(k, n, from: 0) }
    private static func set(_ k: String, _ n: Int, from: Int) -> [[String]] { chunks(k, "SADD", from..<(from + n)) { ["m\($0)"] } }
    private static func zset(_ k: String, _ n: Int) -> [[String]] { chunks(k, "ZADD", 0..<n) { [score($0 * 7919), "m\($0)"] } }
    private static func list(_ k: String, _ n: Int) -> [[String]] { chunks(k, "RPUSH", 0..<n) { ["e\($0)"] } }
    private static func each(_ m: Int, _ item: (Int) -> String) -> [String] { (0..<m).map(item) }
    private static func pairs(_ m: Int, _ item: (Int) -> [String]) -> [String] { (0..<m).flatMap(item) }
    private static func score(_ i: Int) -> String { String(i % 1_000_003) }
    private static func one(_ argv: [String], _ sizes: [KeySize]) -> ProbeCall { ProbeCall(argv: argv, sizes: sizes) }

    /// Reads of n elements; writes of m items into keys of n; wrappers of m calls. Sizes and
    /// items: `large`/`mid` scale with --elements.
    public static let probes: [Probe] = {
        let reads = [0, 1, 10, 100, mid, large], writes = [0, 100, large], counts = [1, 10, 100, 1000]
        func read(_ command: String, _ build: @escaping @Sendable (String, Int) -> [[String]], _ argv: @escaping @Sendable (String) -> [String],
                  sizes: [Int] = reads) -> Probe {
            Probe(command: command, statName: command.lowercased(), sizes: sizes, items: [1], build: { k, n, _, _ in build(k, n) },
                  call: { k, n, _, _, rs in one(argv(k), [.elements(n)]) })
        }
        return [
            // Strings: sizes are bytes of the value.
            Probe(command: "SET", statName: "set", sizes: [1, 100, 10_000, 100_000], items: [1], build: { k, n, _, _ in [["SET", k, value(n)]] },
                  call: { k, n, _, _, rs in one(["SET", k, value(n)], [.bytes(n)]) }),
            Probe(command: "SETEX", statName: "setex", sizes: [1, 100, 10_000, 100_000], items: [1], build: { k, n, _, _ in [["SET", k, value(n)]] },
                  call: { k, n, _, _, rs in one(["SETEX", k, "3600", value(n)], [.bytes(n)]) }),
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
                  call: { k, n, m, r, rs in one(["HSET", k] + pairs(m) { ["n\(r):\($0)", "v"] }, [.elements(n + r * m)]) }),
            Probe(command: "HDEL", statName: "hdel", sizes: writes, items: [1, 100], build: { k, n, m, repeats in hash(k, n + m * repeats) },
                  call: { k, n, m, r, rs in one(["HDEL", k] + each(m) { "f\(n + r * m + $0)" }, [.elements(n + m * (rs - r))]) }),
            read("HGETALL", hash, { ["HGETALL", $0] }),
            read("HGET", hash, { ["HGET", $0, "f0"] }, sizes: [1, 100, large]),
            Probe(command: "HMGET", statName: "hmget", sizes: [large], items: [1, 10, 100], build: { k, n, _, _ in hash(k, n) },
                  call: { k, n, m, _, rs in one(["HMGET", k] + each(m) { "f\($0)" }, [.elements(n)]) }),
            read("HINCRBY", hash, { ["HINCRBY", $0, "counter", "1"] }, sizes: [1, large]),
            // Sets.
            Probe(command: "SADD", statName: "sadd", sizes: writes, items: counts, build: { k, n, _, _ in set(k, n) },
                  call: { k, n, m, r, rs in one(["SADD", k] + each(m) { "n\(r):\($0)" }, [.elements(n + r * m)]) }),
            Probe(command: "SREM", statName: "srem", sizes: writes, items: [1, 100], build: { k, n, m, repeats in set(k, n + m * repeats) },
                  call: { k, n, m, r, rs in one(["SREM", k] + each(m) { "m\(n + r * m + $0)" }, [.elements(n + m * (rs - r))]) }),
            read("SMEMBERS", set, { ["SMEMBERS", $0] }),
            read("SISMEMBER", set, { ["SISMEMBER", $0, "m0"] }, sizes: [1, 100, large]),
            read("SCARD", set, { ["SCARD", $0] }, sizes: [1, large]),
            Probe(command: "SUNIONSTORE", statName: "sunionstore", sizes: [1, 10, 100, mid, large], items: [1],
                  build: { k, n, _, _ in set("\(k):a", n) + set("\(k):b", n, from: n / 2) },
                  call: { k, n, _, r, rs in one(["SUNIONSTORE", "\(k):d", "\(k):a", "\(k):b"], [r == 0 ? .missing : .elements(n + n / 2), .elements(n), .elements(n)]) }),
            Probe(command: "SINTER", statName: "sinter", sizes: [1, 10, 100, mid, large], items: [1],
                  build: { k, n, _, _ in set("\(k):a", n) + set("\(k):b", n, from: n / 2) },
                  call: { k, n, _, _, rs in one(["SINTER", "\(k):a", "\(k):b"], [.elements(n), .elements(n)]) }),
            // Sorted sets.
            Probe(command: "ZADD", statName: "zadd", sizes: writes, items: counts, build: { k, n, _, _ in zset(k, n) },
                  call: { k, n, m, r, rs in one(["ZADD", k] + pairs(m) { [score($0 * 104_729 + r), "n\(r):\($0)"] }, [.elements(n + r * m)]) }),
            Probe(command: "ZREM", statName: "zrem", sizes: writes, items: [1, 100], build: { k, n, m, repeats in zset(k, n + m * repeats) },
                  call: { k, n, m, r, rs in one(["ZREM", k] + each(m) { "m\(n + r * m + $0)" }, [.elements(n + m * (rs - r))]) }),
            read("ZRANGE", zset, { ["ZRANGE", $0, "0", "-1"] }),
            Probe(command: "ZRANGE", statName: "zrange", sizes: [100, mid, large], items: [1], build: { k, n, _, _ in zset(k, n) },
                  call: { k, n, _, _, rs in one(["ZRANGE", k, "0", "9"], [.elements(n)]) }),
            read("ZRANGEBYSCORE", zset, { ["ZRANGEBYSCORE", $0, "-inf", "+inf"] }),
            read("ZSCORE", zset, { ["ZSCORE", $0, "m0"] }, sizes: [1, 100, large]),
            read("ZINCRBY", zset, { ["ZINCRBY", $0, "1", "m0"] }, sizes: [1, 100, large]),
            read("ZCARD", zset, { ["ZCARD", $0] }, sizes: [1, large]),
            // Lists.
            Probe(command: "RPUSH", statName: "rpush", sizes: writes, items: counts, build: { k, n, _, _ in list(k, n) },
                  call: { k, n, m, r, rs in one(["RPUSH", k] + each(m) { "n\(r):\($0)" }, [.elements(n + r * m)]) }),
            Probe(command: "LPUSH", statName: "lpush", sizes: writes, items: counts, build: { k, n, _, _ in list(k, n) },
                  call: { k, n, m, r, rs in one(["LPUSH", k] + each(m) { "n\(r):\($0)" }, [.elements(n + r * m)]) }),
            Probe(command: "LPOP", statName: "lpop", sizes: [1, 100, large], items: [1], build: { k, n, _, repeats in list(k, n + repeats) },
                  call: { k, n, _, r, rs in one(["LPOP", k], [.elements(n + rs - r)]) }),
            Probe(command: "RPOP", statName: "rpop", sizes: [1, 100, large], items: [1], build: { k, n, _, repeats in list(k, n + repeats) },
                  call: { k, n, _, r, rs in one(["RPOP", k], [.elements(n + rs - r)]) }),
            read("LRANGE", list, { ["LRANGE", $0, "0", "-1"] }),
            Probe(command: "LRANGE", statName: "lrange", sizes: [100, mid, large], items: [1], build: { k, n, _, _ in list(k, n) },
                  call: { k, n, _, _, rs in one(["LRANGE", k, "0", "99"], [.elements(n)]) }),
            read("LLEN", list, { ["LLEN", $0] }, sizes: [1, large]),
            // Streams.
            Probe(command: "XADD", statName: "xadd", sizes: [0, 100, mid], items: [1], build: { k, n, _, _ in (0..<n).map { ["XADD", k, "*", "n", String($0)] } },
                  call: { k, n, _, r, rs in one(["XADD", k, "*", "n", String(r)], [.elements(n + r)]) }),
            read("XRANGE", { k, n in (0..<n).map { ["XADD", k, "*", "n", String($0)] } }, { ["XRANGE", $0, "-", "+"] }, sizes: [1, 10, 100, mid]),
            // Transactions: EXEC's own time is its usec minus its queued INCRs'.
            Probe(command: "EXEC", statName: "exec", sizes: [1], items: [1, 10, 100], build: { k, _, _, _ in [["SET", k, "1"]] },
                  call: { _, _, _, _, _ in one(["EXEC"], []) }, nestedStat: "incr"),
            Probe(command: "PUBLISH", statName: "publish", sizes: [1], items: [1], build: { _, _, _, _ in [] },
                  call: { k, _, _, _, rs in one(["PUBLISH", k, "message"], []) }),
        ]
    }()

    /// One probe's fit.
    public struct Measurement: Sendable {
        public var command: String
        public var elementClass: String
        public var points: Int
        public var coefficients: TimeModel.Coefficients
        public var relativeError: Double
    }

    public struct Interrupted: Error {}

    public static func run(_ connection: RedisConnection, server: String, serverID: String? = nil, elements: Int = 10_000, repeats: Int = 20,
                           table: CommandTable, progress: ((String) -> Void)? = nil,
                           isCancelled: @escaping () -> Bool = { false }) throws(ServerError) -> (TimeModel, [Measurement], Double) {
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

        /// The mean server µs of `repeats` calls of the probe at (n, m) and their mean features;
        /// retried when other clients ran the same command meanwhile.
        func measure(_ probe: Probe, index: Int, n: Int, m: Int) throws(ServerError) -> (TimeModel.Features, Double)? {
            let key = prefix + "\(probe.command.lowercased()):\(n):\(m)"
            let names = [probe.statName] + (probe.nestedStat.map { [$0] } ?? [])
            for _ in 0..<3 {
                if isCancelled() { throw ServerError(server: server, command: nil, detail: "interrupted; the temporary keys were removed") }
                let build = probe.build(key, n, m, repeats)
                build.forEach(note)
                for start in stride(from: 0, to: build.count, by: 200) {
                    let replies = try connection.pipeline(Array(build[start..<min(build.count, start + 200)]))
                    if let failure = replies.first(where: { if case .error = $0 { true } else { false } }), case .error(let message) = failure {
                        throw ServerError(server: server, command: build.first?.first, detail: message)
                    }
                }
                var features = TimeModel.Features(calls: 0, elements: 0)
                var usec: [Int] = []
                var clean = true
                for r in 0..<repeats {
                    let call = probe.call(key, n, m, r, repeats)
                    note(call.argv)
                    let facts = CallFacts(argv: call.argv, keyPositions: call.argv.indices.filter { call.argv[$0].hasPrefix(prefix) }, sizes: call.sizes)
                    let value = table.formulas[index]?.evaluate(facts).value ?? 1
                    var f = TimeModel.Features.of(facts, elements: value, nameWords: 1)
                    let queued = probe.nestedStat != nil
                    // Read before MULTI: inside the transaction INFO would be queued too.
                    let before = try stats(names)
                    if queued {
                        _ = try connection.pipeline([["MULTI"]] + Array(repeating: ["INCR", key], count: m))
                        f = TimeModel.Features(calls: 1, elements: 0, items: Double(m))
                    }
                    let reply = try connection.command(call.argv)
                    if case .error(let message) = reply { throw ServerError(server: server, command: call.argv.first, detail: message) }
                    let after = try stats(names)
                    if let finish = probe.after { _ = try connection.command(finish) }
                    // Compared, not subtracted blindly: counters from a hostile server could overflow a difference.
                    let nestedCalls = queued ? m : 0
                    if before[0].calls == .max || after[0].calls != before[0].calls + 1 || after[0].usec < before[0].usec { clean = false; break }
                    var own = after[0].usec - before[0].usec
                    if queued {
                        guard after[1].calls == before[1].calls + nestedCalls, after[1].usec >= before[1].usec else { clean = false; break }
                        own = max(0, own - (after[1].usec - before[1].usec))
                    }
                    usec.append(own)
                    features = features + f
                }
                removeCreated()
                if clean {
                    let k = Double(repeats)
                    // The mean, as commandstats averages a workload's calls (a busy machine's
                    // descheduling included on both sides).
                    return (TimeModel.Features(calls: features.calls / k, elements: features.elements / k, items: features.items / k,
                                               bytes: features.bytes / k), Double(usec.reduce(0, +)) / k)
                }
            }
            throw ServerError(server: server, command: "INFO commandstats", detail: "other clients kept running \(probe.statName.uppercased()) during the measurement; calibrate on a quieter server or database")
        }

        var byCommand: [String: (rows: [[Double]], targets: [Double])] = [:]
        var order: [String] = []
        for probe in probes {
            guard let index = table.indexByName[probe.command] else { continue }
            progress?(probe.command)
            for n in Set(probe.sizes.map(scaled)).sorted() {
                for m in probe.items where m <= max(1, elements) {
                    guard let (f, us) = try measure(probe, index: index, n: n, m: m) else { continue }
                    if byCommand[probe.command] == nil { order.append(probe.command) }
                    // A call measured at 0 µs (the clock's resolution) counts as half of one.
                    byCommand[probe.command, default: ([], [])].rows.append(f.vector)
                    byCommand[probe.command, default: ([], [])].targets.append(max(0.5, us))
                }
            }
        }
        var measurements: [Measurement] = []
        var commands: [String: TimeModel.Coefficients] = [:]
        var pooled: [String: (rows: [[Double]], targets: [Double])] = [:]
        var errors: [Double] = []
        for command in order {
            guard let data = byCommand[command], let index = table.indexByName[command],
                  let fit = LeastSquaresFit.fit(rows: data.rows, targets: data.targets) else { continue }
            let cls = TimeModel.elementClass(ofGroup: table.entries[index].group)
            let c = TimeModel.Coefficients(fit.coefficients)
            commands[command] = c
            pooled[cls, default: ([], [])].rows += data.rows
            pooled[cls, default: ([], [])].targets += data.targets
            errors.append(fit.relativeError)
            measurements.append(Measurement(command: command, elementClass: cls, points: data.rows.count, coefficients: c, relativeError: fit.relativeError))
        }
        var classes: [String: TimeModel.Coefficients] = [:]
        for (cls, data) in pooled {
            if let fit = LeastSquaresFit.fit(rows: data.rows, targets: data.targets) { classes[cls] = TimeModel.Coefficients(fit.coefficients) }
        }
        // What a MONITOR client adds to a wrapper per call it runs: the EXEC probe again with
        // one attached, its per-item coefficient against the plain one's.
        var watchedPerNestedCall = 0.0
        if let exec = probes.first(where: { $0.nestedStat != nil }), let index = table.indexByName[exec.command],
           let plain = commands[exec.command] {
            progress?("\(exec.command) with a monitor attached")
            let monitor = try MonitorDrain(connection.options, server: server)
            defer { monitor.stop() }
            var rows: [[Double]] = [], targets: [Double] = []
            for m in exec.items where m <= max(1, elements) {
                guard let (f, us) = try measure(exec, index: index, n: 1, m: m) else { continue }
                rows.append(f.vector)
                targets.append(max(0.5, us))
            }
            if let fit = LeastSquaresFit.fit(rows: rows, targets: targets) {
                watchedPerNestedCall = max(0, TimeModel.Coefficients(fit.coefficients).perItem - plain.perItem)
            }
        }

        // How a call's fixed time grows with the server's idle time before it.
        progress?("calls after idle time")
        let idle = try idleFactors(connection, server: server, prefix: prefix, isCancelled: isCancelled, note: { created.insert($0) })
        removeCreated()

        let perCalls = commands.values.map(\.perCall).sorted()
        let median = perCalls.isEmpty ? TimeModel.defaults.perCall : perCalls[perCalls.count / 2]
        // The classes' fallback per element (what files of earlier versions held); a class no
        // probe measured keeps the default.
        var perElement: [String: Double] = [:]
        for cls in TimeModel.classes { perElement[cls] = classes[cls]?.perElement ?? TimeModel.defaults.perElement[cls] }
        let overall = errors.isEmpty ? 0 : (errors.map { $0 * $0 }.reduce(0, +) / Double(errors.count)).squareRoot()
        let model = TimeModel(perCall: median, perElement: perElement,
                              source: "calibrated on \(server) with \(grouped(elements))-element keys, \(repeats) calls each",
                              classCoefficients: classes, commandCoefficients: commands, fittedOn: serverID,
                              idle: idle, watchedPerNestedCall: watchedPerNestedCall)
        return (model, measurements, overall)
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

    /// The idle times probed (µs of sleep between calls; 0: back to back).
    package static let idleSleeps = [0, 300, 1_000, 3_000, 10_000, 30_000, 100_000]

    /// A few O(1) reads, each called `calls` times with `sleep` µs between calls, their mean
    /// server time (INFO commandstats before and after the run) against the same calls back
    /// to back: per idle time (the sleep and the round trip, less the server's time), the
    /// median factor over the commands, never decreasing with idle time.
    static func idleFactors(_ connection: RedisConnection, server: String, prefix: String, isCancelled: () -> Bool,
                            note: (String) -> Void) throws(ServerError) -> [TimeModel.IdlePoint] {
        let string = prefix + "idle:string", hash = prefix + "idle:hash", zset = prefix + "idle:zset"
        [string, hash, zset].forEach(note)
        let build = [["SET", string, "value"]] + Self.hash(hash, 100) + Self.zset(zset, 100)
        _ = try connection.pipeline(build)
        let calls: [(stat: String, argv: [String])] = [("get", ["GET", string]), ("hget", ["HGET", hash, "f1"]), ("zscore", ["ZSCORE", zset, "m1"])]
        /// Per command: mean server µs per call and mean idle µs before it.
        func run(sleep: Int) throws(ServerError) -> [(usec: Double, idle: Double)] {
            let count = sleep >= 10_000 ? 20 : sleep > 0 ? 50 : 200
            var results: [(Double, Double)] = []
            for call in calls {
                for attempt in 0..<3 {
                    if isCancelled() { throw ServerError(server: server, command: nil, detail: "interrupted; the temporary keys were removed") }
                    let before = try commandStats(connection, [call.stat])[0]
                    let start = monotonicSeconds()
                    for _ in 0..<count {
                        if sleep > 0 { usleep(useconds_t(sleep)) }
                        _ = try connection.command(call.argv)
                    }
                    let wall = (monotonicSeconds() - start) * 1e6 / Double(count)
                    let after = try commandStats(connection, [call.stat])[0]
                    // Other clients ran the command meanwhile: measured again.
                    // Compared, not added blindly: a hostile server's counter could overflow a sum.
                    guard before.calls <= Int.max - count, after.calls == before.calls + count, after.usec >= before.usec else {
                        if attempt == 2 { throw ServerError(server: server, command: "INFO commandstats", detail: "other clients kept running \(call.stat.uppercased()) during the measurement; calibrate on a quieter server") }
                        continue
                    }
                    let serverMicroseconds = max(0.5, Double(after.usec - before.usec) / Double(count))
                    results.append((serverMicroseconds, max(1, wall - serverMicroseconds)))
                    break
                }
            }
            return results
        }
        let hot = try run(sleep: 0)
        var points: [TimeModel.IdlePoint] = []
        for sleep in idleSleeps {
            let measured = sleep == 0 ? hot : try run(sleep: sleep)
            let ratios = zip(measured, hot).map { $0.usec / $1.usec }.sorted()
            let idle = measured.map(\.idle).sorted()[measured.count / 2]
            let factor = max(points.last?.factor ?? 1, ratios[ratios.count / 2])
            guard idle > (points.last?.idleMicroseconds ?? 0) else { continue }
            points.append(TimeModel.IdlePoint(idleMicroseconds: idle, factor: sleep == 0 ? 1 : factor))
        }
        return points
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
