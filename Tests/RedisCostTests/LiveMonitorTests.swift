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
#if canImport(Glibc)
import Glibc
#endif

/// `redis-cost monitor` against real servers: what it counts, the sizes it samples, and how
/// it ends.
@Suite struct LiveMonitorTests {
    /// `INFO commandstats` as lowercase name → calls (`hgetall`, `client|list`).
    static func commandStats(_ connection: RedisConnection) throws -> [String: Int] {
        var stats: [String: Int] = [:]
        for (field, value) in parseInfo(try connection.require(["INFO", "commandstats"]).text ?? "") where field.hasPrefix("cmdstat_") {
            guard let calls = infoFields(value)["calls"].flatMap({ Int($0) }) else { continue }
            stats[String(field.dropFirst(8)).lowercased(), default: 0] += calls  // a module may register `VCARD`
        }
        return stats
    }

    /// The id of the client in MONITOR mode (flag O in `CLIENT LIST`), if any.
    static func monitorClientID(_ connection: RedisConnection) throws -> String? {
        let list = try connection.require(["CLIENT", "LIST"]).text ?? ""
        // flags=O (monitor), or OU over a unix socket.
        return list.split(separator: "\n").map(clientFields).first { $0["flags"]?.contains("O") == true }?["id"]
    }

    /// Calls per command in the report = the server's commandstats delta, less what the tool
    /// itself sent (JSON `live.toolCommands`) and the test's own INFO and CLIENT LIST calls.
    static func expectCallsMatchServer(_ report: AnalysisReport.Document, before: [String: Int], after: [String: Int], testINFOCalls: Int,
                                       session: Session) throws {
        let live = try #require(report.live)
        var expected = after.merging(before.mapValues { -$0 }, uniquingKeysWith: +)
        for (name, count) in live.toolCommands { expected[name.lowercased(), default: 0] -= count }
        expected["info", default: 0] -= testINFOCalls
        expected["client|list", default: 0] -= session.polls
        expected = expected.filter { $0.value != 0 }
        var counted: [String: Int] = [:]
        for command in report.commands {
            counted[command.name.lowercased().replacingOccurrences(of: " ", with: "|")] = command.calls
        }
        #expect(counted == expected)
    }

    /// A `redis-cost monitor` child process writing its JSON report to a file.
    struct Session {
        let process: Spawned
        let report: String
        let stderr: String
        var polls = 0

        init(_ server: TestServer, _ extra: [String] = [], top: Int = 100_000, overSocket: Bool = false) throws {
            let scratch = server.directory.path
            report = scratch + "/report-\(UUID().uuidString).json"
            stderr = scratch + "/stderr-\(UUID().uuidString).txt"
            let target = overSocket ? ["-s", server.socketPath] : ["-p", String(server.port)]
            process = try Spawned(try builtBinary.path, ["monitor"] + target + ["--format", "json", "-o", report,
                                                                               "--top", String(top)] + extra, stderr: stderr)
            // The workload starts once the server lists a monitor client.
            let control = try server.connect()
            for _ in 0..<400 {
                polls += 1
                if try LiveMonitorTests.monitorClientID(control) != nil { return }
                usleep(10_000)
            }
            throw TestServer.StartError(description: "redis-cost monitor did not attach: " + ((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""))
        }

        func stop(signal: Int32 = SIGTERM) -> Int32 {
            kill(process.pid, signal)
            return process.wait()
        }

        var json: AnalysisReport.Document {
            get throws {
                let text = try String(contentsOf: URL(fileURLWithPath: report), encoding: .utf8)
                expectValidReport(text, "redis-cost monitor --format json -o")
                return try decodeReport(AnalysisReport.Document.self, text)
            }
        }

        var errors: String { (try? String(contentsOfFile: stderr, encoding: .utf8)) ?? "" }
    }

    @Test("a live session counts exactly the calls the server ran and reads exact sizes of keys from before it",
          arguments: TestServer.Kind.allCases)
    func countsEveryCallAndSamplesExactSizes(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let setup = try server.connect()
        // Keys of known size that exist before the session: only the sampler can know them.
        _ = try setup.pipeline([
            ["HSET", "big:hash"] + (1...1000).flatMap { ["f\($0)", "v"] },
            ["RPUSH", "big:list"] + (1...700).map(String.init),
            ["SADD", "big:set"] + (1...300).map { "m\($0)" },
            ["ZADD", "big:zset"] + (1...200).flatMap { [String($0), "z\($0)"] },
            ["SET", "greeting", String(repeating: "x", count: 100)],
            ["SELECT", "1"], ["RPUSH", "other:list"] + (1...50).map(String.init), ["SELECT", "0"],
        ])
        let before = try Self.commandStats(setup)
        let keySizes = try setup.require(["INFO", "keysizes"]).text ?? ""
        let session = try Session(server)
        let work = try server.connect()
        let other = try server.connect()
        var workload: [[String]] = [
            ["HGETALL", "big:hash"], ["LRANGE", "big:list", "0", "-1"], ["SMEMBERS", "big:set"], ["ZRANGE", "big:zset", "0", "-1"],
            ["GET", "greeting"], ["STRLEN", "greeting"], ["LINDEX", "big:list", "350"],
            ["SADD", "new:set", "a", "b", "c"], ["SMEMBERS", "new:set"], ["SADD", "new:set", "d"], ["SCARD", "new:set"],
            ["EVAL", "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('HLEN', KEYS[2])", "2", "script:key", "big:hash", "v"],
            ["MULTI"], ["INCR", "counter"], ["HGETALL", "big:hash"], ["EXEC"],
            ["SELECT", "1"], ["LRANGE", "other:list", "0", "-1"], ["SELECT", "0"],
        ]
        workload += (0..<1000).map { ["SET", "k:\($0)", "v"] }
        for batch in stride(from: 0, to: workload.count, by: 100) {
            _ = try work.pipeline(Array(workload[batch..<min(batch + 100, workload.count)]))
        }
        _ = try other.pipeline((0..<200).map { ["GET", "k:\($0)"] })
        _ = try work.command(["KEYS", "*"])
        #expect(session.stop() == 0, "\(session.errors)")
        let after = try Self.commandStats(setup)
        let report = try session.json
        let live = try #require(report.live)

        try Self.expectCallsMatchServer(report, before: before, after: after, testINFOCalls: 2, session: session)
        #expect(live.samplerCommands > 0)
        // INFO keysizes (Redis 8+) at the start: what the server said just before.
        let start = live.keySizesAtStart
        #expect(start.map { "\($0.field):\($0.value)" } == keySizes.split(whereSeparator: \.isNewline).filter { !$0.hasPrefix("#") }.map(String.init))
        if kind == .redis8 { #expect(start.contains { $0.field == "db0_distrib_lists_items" && $0.value.contains("512=1") }) }
        #expect(!live.connectionLost)

        // Exact sizes, sampled for keys from before the session and replayed for the others.
        let calls = report.topCalls
        func sizes(_ command: String, _ key: String) -> [Int?] {
            calls.filter { $0.command == command && $0.keys.first == key }.map { $0.sizes.first ?? nil }
        }
        #expect(sizes("HGETALL", "big:hash") == [1000, 1000])
        #expect(sizes("LRANGE", "big:list") == [700])
        #expect(sizes("SMEMBERS", "big:set") == [300])
        #expect(sizes("ZRANGE", "big:zset") == [200])
        #expect(sizes("LRANGE", "other:list") == [50])
        #expect(sizes("LINDEX", "big:list") == [700])
        #expect(sizes("SMEMBERS", "new:set") == [3])
        #expect(sizes("SCARD", "new:set").count == 1)
        let keys = try #require(calls.first { $0.command == "KEYS" })
        // big:*, greeting, new:set, script:key, counter, k:0…999 in db 0.
        #expect(keys.cost == 1008)
        let eval = try #require(calls.first { $0.command == "EVAL" })
        #expect(eval.cost == 2)  // SET 1 + HLEN 1
        let exec = try #require(calls.first { $0.command == "EXEC" })
        #expect(exec.cost == 1001)  // INCR 1 + HGETALL 1000
    }

    @Test("over a unix socket, where every client shows as the same address, the sampler's lines are still told apart")
    func unixSocket() throws {
        let server = try TestServer(.redis7)
        var options = server.options
        options.socketPath = server.socketPath
        let setup = try RedisConnection(options)
        _ = try setup.pipeline([["SADD", "big:set"] + (1...500).map { "m\($0)" }, ["RPUSH", "big:list"] + (1...300).map(String.init)])
        let before = try Self.commandStats(setup)
        let session = try Session(server, overSocket: true)
        let work = try RedisConnection(options)
        // The workload runs the sampler's own commands too: TYPE and SCARD of the same key.
        _ = try work.pipeline([["SMEMBERS", "big:set"], ["TYPE", "big:set"], ["SCARD", "big:set"], ["LRANGE", "big:list", "0", "-1"],
                               ["SMEMBERS", "big:set"]])
        #expect(session.stop() == 0, "\(session.errors)")
        let after = try Self.commandStats(setup)
        let report = try session.json
        try Self.expectCallsMatchServer(report, before: before, after: after, testINFOCalls: 1, session: session)
        let calls = report.topCalls
        #expect(calls.filter { $0.command == "SMEMBERS" }.map { $0.sizes.first ?? nil } == [500, 500])
        #expect(calls.first { $0.command == "LRANGE" }.flatMap { $0.sizes.first ?? nil } == 300)
    }

    @Test("PUBLISH in a live session costs the subscribers the server counts (PUBSUB NUMSUB/NUMPAT) plus those the stream shows",
          arguments: TestServer.Kind.allCases)
    func publishCountsSubscribersFromTheServer(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let setup = try server.connect()
        var subscribers: [RedisConnection] = []
        /// Subscribes a new client and waits until the server counts it.
        func subscribe(_ command: [String], until count: (RedisConnection) throws -> Bool) throws {
            let s = try server.connect()
            _ = try s.command(command)
            subscribers.append(s)
            for _ in 0..<200 where try !count(setup) { usleep(10_000) }
        }
        func numsub(_ channel: String, shard: Bool = false) throws -> Int? {
            try setup.command(["PUBSUB", shard ? "SHARDNUMSUB" : "NUMSUB", channel]).array?.last?.int
        }
        /// Waits until the sampler has run `PUBSUB <subcommand>` `n` times (the counts are read
        /// after the calls that need them arrive; the test must not subscribe before that).
        func awaitSampler(_ subcommand: String, _ n: Int) throws {
            for _ in 0..<300 where (try Self.commandStats(setup)["pubsub|\(subcommand)"] ?? 0) < n { usleep(10_000) }
        }
        // From before the session: 2 subscribers of news, 1 pattern, 1 shard subscriber of sh.
        try subscribe(["SUBSCRIBE", "news"]) { _ in try numsub("news") == 1 }
        try subscribe(["SUBSCRIBE", "news", "other"]) { _ in try numsub("news") == 2 }
        try subscribe(["PSUBSCRIBE", "n*"]) { try $0.command(["PUBSUB", "NUMPAT"]).int == 1 }
        try subscribe(["SSUBSCRIBE", "sh"]) { _ in try numsub("sh", shard: true) == 1 }
        let session = try Session(server)
        let work = try server.connect()
        _ = try work.command(["PUBLISH", "news", "a"])  // 2 + 1 pattern
        try awaitSampler("numsub", 1)
        try awaitSampler("numpat", 1)
        // A subscriber the stream shows: counted on top of the server's count.
        try subscribe(["SUBSCRIBE", "news"]) { _ in try numsub("news") == 3 }
        _ = try work.command(["PUBLISH", "news", "b"])  // 3 + 1
        _ = try work.command(["PUBLISH", "nobody", "c"])  // 0 + 1
        _ = try work.command(["SPUBLISH", "sh", "d"])  // 1
        try awaitSampler("numsub", 2)
        try awaitSampler("shardnumsub", 1)
        _ = try work.command(["PING"])
        #expect(session.stop() == 0, "\(session.errors)")
        let report = try session.json
        let commands = report.commands
        let publish = try #require(commands.first { $0.name == "PUBLISH" })
        #expect(publish.calls == 3)
        #expect(publish.unknownCostCalls == 0)
        #expect(publish.cost == 8)  // 3 + 4 + 1
        let spublish = try #require(commands.first { $0.name == "SPUBLISH" })
        #expect(spublish.cost == 1)
        #expect(spublish.unknownCostCalls == 0)
        let live = try #require(report.live)
        #expect(live.subscriberCountsRead >= 3)
        #expect(live.subscriberCountsDenied == nil)
        withExtendedLifetime(subscribers) {}
    }

    @Test("under redis-benchmark at full speed the session loses no call and its output buffer stays as small as redis-cli monitor's")
    func keepsUpWithRedisBenchmark() throws {
        let server = try TestServer(.redis7)
        let control = try server.connect()
        let session = try Session(server, top: 10)
        let ours = try #require(try Self.monitorClientID(control))
        // The reference, under the same load on the same machine: redis-cli monitor > /dev/null.
        let reference = try Spawned("/usr/bin/redis-cli", ["-p", String(server.port), "monitor"])
        defer { reference.stop() }
        func monitors() throws -> [String] {
            (try control.require(["CLIENT", "LIST"]).text ?? "").split(separator: "\n").map(clientFields)
                .filter { $0["flags"]?.contains("O") == true }.compactMap { $0["id"] }
        }
        var referenceID: String?
        for _ in 0..<400 where referenceID == nil {
            referenceID = try monitors().first { $0 != ours }
            if referenceID == nil { usleep(10_000) }
        }
        #expect(referenceID != nil)
        let before = try Self.commandStats(control)
        let benchmark = try Spawned("/usr/bin/redis-benchmark", ["-p", String(server.port), "-n", "60000", "-r", "10000", "-P", "16", "-q",
                                                                  "-t", "set,get,incr,lpush,sadd,hset,lrange_100"])
        // Both monitors' queued output (omem), sampled through the run.
        var maxReference = 0, maxOurs = 0, polls = 0
        while benchmark.isRunning {
            let list = try control.require(["CLIENT", "LIST"]).text ?? ""
            polls += 1
            for client in list.split(separator: "\n").map(clientFields) where client["flags"]?.contains("O") == true {
                let omem = client["omem"].flatMap { Int($0) } ?? 0
                if client["id"] == referenceID { maxReference = max(maxReference, omem) } else if client["id"] == ours { maxOurs = max(maxOurs, omem) }
            }
            usleep(20_000)
        }
        #expect(session.stop() == 0, "\(session.errors)")
        let after = try Self.commandStats(control)
        let report = try session.json
        var counted: [String: Int] = [:]
        for command in report.commands {
            counted[command.name.lowercased()] = command.calls
        }
        var total = 0
        for name in ["set", "get", "incr", "lpush", "sadd", "hset", "lrange"] {
            let ran = after[name, default: 0] - before[name, default: 0]
            total += ran
            #expect(counted[name] == ran, "\(name)")
        }
        #expect(total == 60000 * 8)  // lrange_100 fills its list with LPUSH first
        #expect(report.live?.endReason == "stopped by a signal")
        // A reader that fell behind would leave megabytes of the run's ~40 MB of MONITOR output
        // queued on the server. On an idle machine both stay far below 1 MiB; on a busy one both
        // queue more, so the bound is redis-cli's own under the same load.
        let live = try #require(report.live)
        let watched = try #require(live.maxMonitorOutputBytes)
        #expect(polls > 0)
        // redis-cli only writes the stream to /dev/null, we parse and analyse it: on a machine
        // busy with other work we get less of the CPU we need, hence the factor.
        #expect(max(watched, maxOurs) <= max(1 << 20, 4 * maxReference), "ours \(max(watched, maxOurs)), redis-cli \(maxReference)")
    }

    @Test("--count ends the session, --save-capture keeps lines that analyze reads back the same")
    func countAndSaveCapture() throws {
        let server = try TestServer(.redis7)
        let capture = server.directory.appendingPathComponent("capture.txt").path
        let session = try Session(server, ["--count", "120", "--save-capture", capture])
        let work = try server.connect()
        _ = try work.pipeline((0..<150).map { ["SET", "key:\($0)", String(repeating: "v", count: $0)] })
        #expect(session.process.wait() == 0, "\(session.errors)")
        let report = try session.json
        #expect(report.totals.calls == 120)
        #expect(report.live?.endReason == "--count reached")
        let lines = try String(contentsOfFile: capture, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 120)
        #expect(lines[0].hasSuffix(#""SET" "key:0" """#))
        let again = try runCLI(["analyze", capture, "--format", "json"])
        #expect(again.status == 0)
        #expect(try decodeReport(AnalysisReport.Document.self, again.stdout).totals.calls == 120)
    }

    @Test("a lost connection writes the report, says so and exits 1")
    func lostConnection() throws {
        let server = try TestServer(.redis7)
        let session = try Session(server)
        let work = try server.connect()
        _ = try work.pipeline((0..<10).map { ["INCR", "n\($0)"] })
        // The calls must have reached the monitor before it is killed.
        usleep(300_000)
        _ = try work.require(["CLIENT", "KILL", "ID", try #require(try Self.monitorClientID(work))])
        #expect(session.process.wait() == 1)
        let errors = session.errors
        #expect(errors.contains("127.0.0.1:\(server.port): the server closed the MONITOR connection; the report covers the 10 calls seen before"),
                "\(errors)")
        let live = try #require(try session.json.live)
        #expect(live.connectionLost)
    }

    @Test("--duration ends the session by itself")
    func duration() throws {
        let server = try TestServer(.redis7)
        let result = try runCLI(["monitor", "-p", String(server.port), "--duration", "300ms", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try decodeReport(AnalysisReport.Document.self, result.stdout).live?.endReason == "--duration reached")
    }

    @Test("MONITOR refused by an ACL, and a wrong password, are one clear line each")
    func refusals() throws {
        let server = try TestServer(.redis7)
        try server.run(["ACL", "SETUSER", "reader", "on", ">secret", "~*", "+@all", "-monitor"])
        let denied = try runCLI(["monitor", "-p", String(server.port), "--user", "reader", "--duration", "1s"], environment: ["REDISCLI_AUTH": "secret"])
        #expect(denied.status == 1)
        #expect(denied.stdout.isEmpty)
        #expect(denied.stderr.hasPrefix("redis-cost: 127.0.0.1:\(server.port): MONITOR: NOPERM"), "\(denied.stderr)")
        #expect(denied.stderr.split(separator: "\n").count == 1)
        // Without +client (no sampler name, no buffer watch) the session still runs.
        try server.run(["ACL", "SETUSER", "watcher", "on", ">pw", "~*", "+@all", "-client"])
        let limited = try runCLI(["monitor", "-p", String(server.port), "--user", "watcher", "-a", "pw", "--duration", "300ms", "--format", "json"])
        #expect(limited.status == 0, "\(limited.stderr)")
        #expect(limited.stdout.contains("\"endReason\" : \"--duration reached\""))
        let wrong = try runCLI(["monitor", "-p", String(server.port), "--user", "reader", "-a", "nope"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "redis-cost: 127.0.0.1:\(server.port): AUTH: authentication failed (wrong user or password)\n")
    }

    @Test("analyze capture.txt --sample reads the sizes of keys from before the capture from the server")
    func sampleForACaptureFile() throws {
        let server = try TestServer(.redis7)
        let setup = try server.connect()
        _ = try setup.pipeline([["HSET", "big:hash"] + (1...1000).flatMap { ["f\($0)", "v"] },
                                ["RPUSH", "big:list"] + (1...700).map(String.init)])
        let capture = server.directory.appendingPathComponent("capture.txt").path
        let cli = try Spawned("/usr/bin/redis-cli", ["-p", String(server.port), "monitor"], stdout: capture)
        for _ in 0..<400 where try Self.monitorClientID(setup) == nil { usleep(10_000) }
        _ = try setup.pipeline([["HGETALL", "big:hash"], ["SADD", "new:set", "a", "b"], ["SMEMBERS", "new:set"], ["LRANGE", "big:list", "0", "-1"]])
        usleep(200_000)
        cli.stop()

        func sizes(_ arguments: [String]) throws -> [String: [Int?]] {
            let run = try runCLI(["analyze", capture, "--format", "json"] + arguments)
            #expect(run.status == 0, "\(run.stderr)")
            var out: [String: [Int?]] = [:]
            for call in try decodeReport(AnalysisReport.Document.self, run.stdout).topCalls {
                out[call.command] = call.sizes
            }
            return out
        }
        let sampled = try sizes(["--sample", "-p", String(server.port)])
        #expect(sampled["HGETALL"] == [1000])
        #expect(sampled["LRANGE"] == [700])
        #expect(sampled["SMEMBERS"] == [2])  // created in the capture: the model's size, not sampled
        let unsampled = try sizes([])
        #expect(unsampled["HGETALL"] == nil)  // unknown cost: not among the costliest calls
        // state takes --sample too: the pre-capture hash and list at their sampled sizes.
        let state = try runCLI(["state", capture, "--sample", "-p", String(server.port)])
        let keys = try decodeReport([String: [String: StateReport.Key]].self, state.stdout)
        let sized = Dictionary(uniqueKeysWithValues: (keys["0"] ?? [:]).values.map { ($0.key, $0.size) })
        #expect(sized["big:hash"] == 1000 && sized["big:list"] == 700 && sized["new:set"] == 2)
        let misuse = try runCLI(["analyze", capture, "--sample", "--baseline", "empty"])
        #expect(misuse.status == 2)
    }
}
