import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// `redis-cost calibrate`: measures the time model's constants on a live server. For each
/// element class it builds a temporary key of `elements` elements and one of a single
/// element, runs a probe that reads every element `repeats` times on each, and takes the
/// server's own execution time from `INFO commandstats` (usec). Keys live under a unique
/// prefix in the database the user names and are removed afterwards, whatever happens.
public enum Calibration {
    public struct Probe: Sendable {
        public var elementClass: String
        /// The command whose commandstats entry is read.
        public var statName: String
        /// Builds a key of n elements (argv lists).
        public var build: @Sendable (_ key: String, _ n: Int) -> [[String]]
        /// The measured call.
        public var call: @Sendable (_ key: String) -> [String]
        /// Whether the call destroys the key (it is rebuilt before every repetition).
        public var consumes = false
    }

    package static func chunks(_ key: String, _ command: String, _ n: Int, _ item: (Int) -> [String]) -> [[String]] {
        stride(from: 0, to: n, by: 1000).map { start in [command, key] + (start..<min(n, start + 1000)).flatMap(item) }
    }

    public static let probes: [Probe] = [
        Probe(elementClass: "hash", statName: "hgetall", build: { k, n in chunks(k, "HSET", n) { ["f\($0)", "v"] } }, call: { ["HGETALL", $0] }),
        Probe(elementClass: "set", statName: "smembers", build: { k, n in chunks(k, "SADD", n) { ["m\($0)"] } }, call: { ["SMEMBERS", $0] }),
        Probe(elementClass: "zset", statName: "zrange", build: { k, n in chunks(k, "ZADD", n) { [String($0), "m\($0)"] } }, call: { ["ZRANGE", $0, "0", "-1"] }),
        Probe(elementClass: "list", statName: "lrange", build: { k, n in chunks(k, "RPUSH", n) { ["e\($0)"] } }, call: { ["LRANGE", $0, "0", "-1"] }),
        Probe(elementClass: "stream", statName: "xrange", build: { k, n in (0..<n).map { ["XADD", k, "*", "n", String($0)] } }, call: { ["XRANGE", $0, "-", "+"] }),
        Probe(elementClass: "string", statName: "getrange", build: { k, n in [["SET", k, String(repeating: "x", count: n)]] }, call: { ["GETRANGE", $0, "0", "-1"] }),
        Probe(elementClass: "keyspace", statName: "del", build: { k, n in chunks(k, "SADD", n) { ["m\($0)"] } }, call: { ["DEL", $0] }, consumes: true),
    ]

    public struct Measurement: Sendable {
        public var elementClass: String
        public var microsecondsSmall: Double
        public var microsecondsLarge: Double
        public var perElement: Double
    }

    public static func run(_ connection: RedisConnection, server: String, elements: Int = 10_000, repeats: Int = 20,
                           progress: ((String) -> Void)? = nil) throws(ServerError) -> (TimeModel, [Measurement]) {
        let prefix = "redis-cost-calibrate:\(UInt64.random(in: 0...UInt64.max)):"
        var created: Set<String> = []
        defer {
            // Removed whatever happened (UNLINK: freed in the background).
            if !created.isEmpty { _ = try? connection.command(["UNLINK"] + Array(created)) }
        }
        func usec(_ name: String) throws(ServerError) -> (calls: Int, usec: Double) {
            let text = try connection.require(["INFO", "commandstats"]).text ?? ""
            guard let value = parseInfo(text)["cmdstat_\(name)"] else { return (0, 0) }
            let fields = infoFields(value)
            return (fields["calls"].flatMap { Int($0) } ?? 0, fields["usec"].flatMap { Double($0) } ?? 0)
        }
        /// Mean server microseconds of the probe on a key of n elements; retried when other
        /// clients ran the same command meanwhile.
        func measure(_ probe: Probe, _ n: Int) throws(ServerError) -> Double {
            let key = prefix + probe.elementClass + ":\(n)"
            created.insert(key)
            for _ in 0..<3 {
                if !probe.consumes { _ = try connection.pipeline([["DEL", key]] + probe.build(key, n)) }
                var total = 0.0
                var clean = true
                for _ in 0..<repeats {
                    if probe.consumes { _ = try connection.pipeline([["DEL", key]] + probe.build(key, n)) }
                    let before = try usec(probe.statName)
                    let reply = try connection.command(probe.call(key))
                    if case .error(let message) = reply { throw ServerError(server: server, command: probe.call(key).first, detail: message) }
                    let after = try usec(probe.statName)
                    // Compared, not subtracted: counters from a hostile server could overflow a difference.
                    if before.calls == .max || after.calls != before.calls + 1 { clean = false }
                    total += after.usec - before.usec
                }
                if clean { return total / Double(repeats) }
            }
            throw ServerError(server: server, command: "INFO commandstats", detail: "other clients kept running \(probe.statName.uppercased()) during the measurement; calibrate on a quieter server or database")
        }
        var measurements: [Measurement] = []
        var perCall: [Double] = []
        for probe in probes {
            progress?(probe.elementClass)
            let small = try measure(probe, 1)
            let large = try measure(probe, elements)
            perCall.append(small)
            measurements.append(Measurement(elementClass: probe.elementClass, microsecondsSmall: small, microsecondsLarge: large,
                                            perElement: max(0, (large - small) / Double(elements - 1))))
        }
        let median = perCall.sorted()[perCall.count / 2]
        let model = TimeModel(perCall: median, perElement: Dictionary(uniqueKeysWithValues: measurements.map { ($0.elementClass, $0.perElement) }),
                              source: "calibrated on \(server) with \(grouped(elements))-element keys, \(repeats) calls each")
        return (model, measurements)
    }
}
