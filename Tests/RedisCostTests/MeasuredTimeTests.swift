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

/// The estimate beside the truth: a live session's `INFO commandstats` deltas per command
/// (less the tool's own calls), its slow log matched to the costliest calls, and the keys the
/// server spent the most time on.
@Suite struct MeasuredTimeTests {
    /// Waits until the session has made its first `INFO commandstats` read (the tool's third
    /// INFO: `INFO server` and `INFO keysizes` come before MONITOR), so the whole workload falls
    /// inside the measured window. Each of this connection's own INFOs counts once it has run.
    static func waitForFirstRead(_ control: RedisConnection, infoBefore: Int) throws {
        for poll in 0..<400 {
            let seen = try LiveMonitorTests.commandStats(control)["info"] ?? 0
            // The `before` read and the earlier polls are this connection's.
            if seen - infoBefore - 1 - poll >= 3 { return }
            usleep(10_000)
        }
        throw TestServer.StartError(description: "redis-cost monitor never read INFO commandstats")
    }

    @Test("a live session sets the server's calls and time beside the estimate, matches the slow log, and ranks the big-hot key first",
          arguments: [TestServer.Kind.redis7, .valkey9])
    func measuredBesideEstimated(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let setup = try server.connect()
        _ = try setup.pipeline([
            ["CONFIG", "SET", "slowlog-log-slower-than", "0"], ["CONFIG", "SET", "slowlog-max-len", "1024"],
            // Large and hot: read whole 6 times. Large and cold: once. Small and hot: 30 times.
            ["HSET", "big:hash"] + (1...5000).flatMap { ["f\($0)", "v"] },
            ["SADD", "cold:set"] + (1...1000).map { "m\($0)" },
            ["SET", "small:hot", "v"],
            ["RPUSH", "medium:list"] + (1...100).map(String.init),
        ])
        let before = try LiveMonitorTests.commandStats(setup)
        let session = try LiveMonitorTests.Session(server, ["--stats-interval", "1s"])
        try Self.waitForFirstRead(setup, infoBefore: before["info"] ?? 0)

        let work = try server.connect()
        var workload: [[String]] = (0..<6).map { _ in ["HGETALL", "big:hash"] }
        workload += [["SMEMBERS", "cold:set"]]
        workload += (0..<30).map { _ in ["GET", "small:hot"] }
        workload += [["LRANGE", "medium:list", "0", "-1"], ["MULTI"], ["INCR", "counter"], ["EXEC"],
                     ["EVAL", "return redis.call('LLEN', KEYS[1])", "1", "medium:list"]]
        workload += (0..<10).map { ["SET", "k:\($0)", "v"] }
        _ = try work.pipeline(workload)
        // The session reads commandstats every second: let it read in the middle once.
        usleep(1_200_000)
        _ = try work.command(["GET", "small:hot"])
        #expect(session.stop() == 0, "\(session.errors)")
        let report = try session.json

        // Measured calls per command are exactly the workload's: the delta less the tool's own.
        let measured = try #require(report.measuredTime)
        #expect(measured.unavailable == nil)
        #expect(measured.reads >= 3)
        #expect(!measured.countersReset)
        var expected = ["hgetall": 6, "smembers": 1, "get": 31, "lrange": 1, "multi": 1, "incr": 1, "exec": 1, "eval": 1, "llen": 1, "set": 10]
        // The poll that saw the first read ran after it: it is in the window, on both sides.
        expected["info"] = 1
        let rows = Dictionary(uniqueKeysWithValues: measured.commands.map { ($0.command.lowercased(), $0) })
        // The session's CLIENT LIST poll that saw the monitor may have run after the first read:
        // MONITOR does not show it (an admin command), so it is measured only.
        #expect(Set(rows.keys).subtracting(["client|list"]) == Set(expected.keys), "\(rows.keys.sorted())")
        for row in measured.commands where row.command != "client|list" { #expect(row.measuredCalls == row.estimatedCalls, "\(row.command)") }
        if let poll = rows["client|list"] { #expect(poll.measuredCalls == 1 && poll.estimatedCalls == 0) }
        for (name, calls) in expected {
            let row = try #require(rows[name], "\(name)")
            #expect(row.measuredCalls == calls, "\(name)")
            #expect(row.estimatedCalls == calls, "\(name)")
            #expect(row.measuredMicroseconds != nil, "\(name)")
            if name != "info" { #expect(row.estimatedMicroseconds.map { $0 > 0 } == true, "\(name)") }
        }
        // The sampler ran LLEN/HLEN/SCARD/STRLEN on keys from before the session: taken out exactly.
        #expect(rows["exec"]?.wrapper == true && rows["eval"]?.wrapper == true && rows["get"]?.wrapper == false)
        #expect(rows["hgetall"]?.ratio != nil)
        // Each call once: the wrappers are out of the total, their calls in it.
        #expect(measured.total.estimatedCalls == measured.commands.filter { !$0.wrapper }.reduce(0) { $0 + $1.estimatedCalls })
        #expect(measured.total.estimatedCalls >= expected.filter { $0.key != "exec" && $0.key != "eval" }.values.reduce(0, +))
        #expect(measured.total.measuredCalls == measured.total.estimatedCalls)
        #expect(measured.total.ratio != nil)
        // The costliest command by estimate leads the table and the by-command list.
        #expect(measured.commands.first?.command.lowercased() == "hgetall")
        #expect(report.commands.first?.name == "HGETALL")

        // Big-hot: the big hash read 6 times first, with its exact calls and size.
        let big = try #require(report.bigHotKeys.first)
        #expect(big.key == "big:hash")
        #expect(big.calls == 6)
        #expect(big.size == 5000)
        #expect(big.estimatedMicroseconds > 0)
        let hot = try #require(report.bigHotKeys.first { $0.key == "small:hot" })
        #expect(hot.calls == 31)
        #expect(hot.estimatedMicroseconds < big.estimatedMicroseconds)

        // The slow log (every call logged): the session's entries only, the costliest calls matched.
        let log = try #require(report.serverLog)
        #expect(log.unavailable == nil)
        #expect(log.source == (kind == .valkey9 ? "COMMANDLOG slow" : "SLOWLOG"))
        #expect(log.thresholdMicroseconds == 0)
        #expect(log.toolEntries > 0)
        #expect(!log.mayHaveLost)
        #expect(!log.slowestLogged.contains { $0.command == "CONFIG SET" || $0.command == "HSET" || $0.command == "ECHO" })
        let hgetalls = log.costliest.filter { $0.command == "HGETALL" }
        #expect(hgetalls.count == 6)
        #expect(hgetalls.allSatisfy { $0.loggedMicroseconds != nil && $0.entryId != nil })
        #expect(Set(hgetalls.compactMap(\.entryId)).count == 6)
        #expect(log.costliest.first { $0.command == "SMEMBERS" }?.loggedMicroseconds != nil)
        #expect(log.slowestLogged.filter { $0.command == "HGETALL" }.allSatisfy { $0.estimatedMicroseconds != nil && $0.topCall != nil })
        #expect(log.slowestLogged.count == min(25, log.entriesInSession))

        let markdown = AnalysisReport.markdown(report)
        for heading in ["## Estimated time beside the server's (`INFO commandstats`)", "## Big-hot keys", "## Checked against the server's slow log"] {
            #expect(markdown.contains(heading), "\(heading)")
        }
        #expect(markdown.contains(AnalysisReport.measuredConvention))
        #expect(markdown.contains("| **Total, each call once** | \(measured.total.measuredCalls ?? -1) | \(measured.total.estimatedCalls) |"))
    }

    @Test("--redact-keys hides the keys of the big-hot keys and of the slow log's entries")
    func redactedKeys() throws {
        let server = try TestServer(.redis7)
        let setup = try server.connect()
        _ = try setup.pipeline([["CONFIG", "SET", "slowlog-log-slower-than", "0"], ["RPUSH", "secret:list", "a", "b", "c"]])
        let before = try LiveMonitorTests.commandStats(setup)
        let session = try LiveMonitorTests.Session(server, ["--redact-keys"])
        try Self.waitForFirstRead(setup, infoBefore: before["info"] ?? 0)
        _ = try server.connect().pipeline([["LRANGE", "secret:list", "0", "-1"], ["LLEN", "secret:list"]])
        #expect(session.stop() == 0, "\(session.errors)")
        let text = try String(contentsOf: URL(fileURLWithPath: session.report), encoding: .utf8)
        #expect(!text.contains("secret"))
        let report = try session.json
        #expect(report.bigHotKeys.first?.calls == 2)
        #expect(report.serverLog?.costliest.first?.loggedMicroseconds != nil)
        #expect(!AnalysisReport.markdown(report).contains("secret"))
    }

    @Test("INFO commandstats is read line by line: counters out of range or other lines are refused, spellings merged")
    func commandStatsParsing() throws {
        let good = "# Commandstats\r\ncmdstat_get:calls=3,usec=40,usec_per_call=13.33,rejected_calls=0,failed_calls=0\r\n"
            + "cmdstat_client|setinfo:calls=2,usec=1,usec_per_call=0.50\r\ncmdstat_VCARD:calls=1,usec=5\r\ncmdstat_vcard:calls=1,usec=5\r\n"
        let reading = try CommandStatsReading.parse(good).get()
        #expect(reading.counters["get"].map { [$0.name, String($0.calls), String($0.microseconds)] } == ["get", "3", "40"])
        #expect(reading.counters["client|setinfo"]?.calls == 2)
        #expect(reading.counters["vcard"].map { [$0.name, String($0.calls), String($0.microseconds)] } == ["VCARD", "2", "10"])
        for bad in ["redis_version:7.0.15", "cmdstat_get:calls=-1,usec=0", "cmdstat_get:calls=99999999999999999999,usec=0",
                    "cmdstat_get:usec=3", "cmdstat_get:calls=9007199254740993,usec=0", "cmdstat_:calls=1,usec=1"] {
            guard case .failure(let error) = CommandStatsReading.parse("# Commandstats\r\n" + bad + "\r\n") else {
                Issue.record("accepted \(bad)")
                continue
            }
            #expect(error.line == 2)
        }
        #expect(CommandStatsReading.statName("CLIENT SETINFO") == "client|setinfo")
    }

    @Test("the recorder adds up deltas, takes the tool's own calls out, and says when counters were reset or the reply is not commandstats")
    func recorderArithmetic() throws {
        var replies = [
            "cmdstat_get:calls=10,usec=100\r\ncmdstat_info:calls=5,usec=50",
            "cmdstat_get:calls=20,usec=300\r\ncmdstat_info:calls=6,usec=60\r\ncmdstat_type:calls=4,usec=8",
            "cmdstat_get:calls=25,usec=400\r\ncmdstat_info:calls=7,usec=70\r\ncmdstat_type:calls=4,usec=8",
        ]
        let recorder = MeasuredTimeRecorder(server: "127.0.0.1:1")
        var tool: [String: Int] = ["INFO": 0]
        for _ in 0..<3 {
            recorder.read(toolSent: tool) { _ throws(ServerError) in .bulk(Array(replies.removeFirst().utf8)) }
            tool["INFO", default: 0] += 1
            tool["TYPE", default: 0] += 4
            tool["GET", default: 0] += 2
        }
        var result = AnalysisResult(input: "test")
        var get = AnalysisResult.CommandStats(name: "GET")
        get.calls = 11
        get.cost = 11
        get.estimatedMicroseconds = 22
        result.commands = [get]
        let measured = recorder.result(final: result, intervalSeconds: 1, notes: [])
        #expect(measured.reads == 3)
        let row = try #require(measured.rows.first { $0.command == "get" })
        // 15 calls in the delta, 4 of them the tool's own (2 per read after the first, before the last).
        #expect(row.toolCalls == 4)
        #expect(row.measuredCalls == 11)
        #expect(row.estimatedCalls == 11)
        #expect(row.sharedWithTool)
        #expect(row.measuredMicroseconds == 300.0 * 11 / 15)
        // INFO: only the tool's (its reads between the first and the last): not a row.
        #expect(!measured.rows.contains { $0.command == "info" })

        let reset = MeasuredTimeRecorder(server: "127.0.0.1:1")
        for text in ["cmdstat_get:calls=10,usec=100", "cmdstat_get:calls=2,usec=10"] {
            reset.read(toolSent: [:]) { _ throws(ServerError) in .bulk(Array(text.utf8)) }
        }
        let afterReset = reset.result(final: result, intervalSeconds: 1, notes: [])
        #expect(afterReset.countersReset)
        #expect(afterReset.rows.first?.measuredCalls == nil)

        let hostile = MeasuredTimeRecorder(server: "127.0.0.1:1")
        hostile.read(toolSent: [:]) { _ throws(ServerError) in .bulk(Array("# Server\r\nredis_version:7.0.15".utf8)) }
        let refused = hostile.result(final: result, intervalSeconds: 1, notes: [])
        #expect(refused.unavailable == "127.0.0.1:1: INFO commandstats: line 2: not a cmdstat_ line")
        let denied = MeasuredTimeRecorder(server: "127.0.0.1:1")
        denied.read(toolSent: [:]) { _ throws(ServerError) in .error("NOPERM this user has no permissions to run the 'info' command") }
        #expect(denied.result(final: result, intervalSeconds: 1, notes: []).unavailable?.hasPrefix("127.0.0.1:1: INFO commandstats: NOPERM") == true)
    }
}
