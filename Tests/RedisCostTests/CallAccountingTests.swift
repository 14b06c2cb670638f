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

/// How calls are counted in a capture taken from a real server: each call's elements once in
/// the totals (a wrapper's row shows what it ran, as commandstats does), one time estimate
/// per call wherever it is shown, PUBLISH over its subscribers, and an idle capture.
@Suite struct CallAccountingTests {
    /// `redis-cli monitor` on a real server while `workload` runs on another connection; the
    /// capture ends with a marker the monitor has printed before it is stopped.
    static func capture(_ server: TestServer, name: String = "capture.txt", _ workload: (RedisConnection) throws -> Void) throws -> String {
        let client = try server.connect()
        let path = server.directory.appendingPathComponent(name).path
        let cli = try Spawned("/usr/bin/redis-cli", ["-p", String(server.port), "monitor"], stdout: path)
        for _ in 0..<400 where try LiveMonitorTests.monitorClientID(client) == nil { usleep(10_000) }
        try workload(client)
        let marker = "end-of-capture-\(UUID().uuidString)"
        _ = try client.command(["ECHO", marker])
        for _ in 0..<500 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains(marker) { break }
            usleep(10_000)
        }
        cli.stop()
        return path
    }

    static func analyze(_ path: String, _ extra: [String] = ["--baseline", "empty"]) throws -> AnalysisReport.Document {
        let run = try runCLI(["analyze", path, "--format", "json"] + extra)
        #expect(run.status == 0, "\(run.stderr)")
        return try decodeReport(AnalysisReport.Document.self, run.stdout)
    }

    static func totals(_ report: AnalysisReport.Document) -> (cost: Double, microseconds: Double) {
        (report.totals.cost, report.totals.estimatedMicroseconds)
    }

    static func command(_ report: AnalysisReport.Document, _ name: String) -> AnalysisReport.Command? {
        report.commands.first { $0.name == name }
    }

    static let members = (1...1000).flatMap { [String($0), "m\($0)"] }

    @Test("a ZADD inside MULTI/EXEC or a script counts once in the totals; the wrapper's row includes it", arguments: TestServer.Kind.allCases)
    func nestedCallsCountOnce(_ kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let bare = try Self.capture(server, name: "bare.txt") { c in
            _ = try c.command(["ZADD", "z:bare"] + Self.members)
        }
        let transaction = try Self.capture(server, name: "multi.txt") { c in
            _ = try c.pipeline([["MULTI"], ["ZADD", "z:multi"] + Self.members, ["EXEC"]])
        }
        let script = try Self.capture(server, name: "eval.txt") { c in
            _ = try c.command(["EVAL", "return redis.call('ZADD', KEYS[1], unpack(ARGV))", "1", "z:eval"] + Self.members)
        }
        let bareReport = try Self.analyze(bare)
        let zadd = try #require(Self.command(bareReport, "ZADD"))
        let zaddCost = zadd.cost
        #expect(zaddCost >= 1000)
        let perCall = TimeModel.defaults.perCall

        let multi = try Self.analyze(transaction)
        let exec = try #require(Self.command(multi, "EXEC"))
        let multiRow = try #require(Self.command(multi, "MULTI"))
        // EXEC's row shows what it ran, as commandstats does (EXEC's own part touches nothing)…
        #expect(exec.nestedCost == zaddCost)
        #expect(exec.cost == zaddCost)
        // …and the totals count the ZADD once: the bare capture's totals plus MULTI, plus
        // EXEC's own per-call time.
        #expect(Self.totals(multi).cost == Self.totals(bareReport).cost + multiRow.cost)
        let multiTime = try #require(multiRow.estimatedMicroseconds)
        #expect(abs(Self.totals(multi).microseconds - Self.totals(bareReport).microseconds - multiTime - perCall) < 1e-6)
        #expect(abs(try #require(exec.estimatedMicroseconds) - (try #require(zadd.estimatedMicroseconds)) - perCall) < 1e-6)
        // Each client's cost counts the ZADD once too.
        #expect(multi.clients.reduce(0.0) { $0 + $1.cost } == Self.totals(multi).cost)
        #expect(multi.patterns.reduce(0.0) { $0 + $1.cost } == Self.totals(multi).cost)

        let evalReport = try Self.analyze(script)
        let eval = try #require(Self.command(evalReport, "EVAL"))
        #expect(eval.nestedCost == zaddCost)
        #expect(eval.cost == zaddCost)
        #expect(Self.totals(evalReport).cost == Self.totals(bareReport).cost)
        #expect(abs(Self.totals(evalReport).microseconds - Self.totals(bareReport).microseconds - perCall) < 1e-6)
        #expect(evalReport.clients.reduce(0.0) { $0 + $1.cost } == Self.totals(evalReport).cost)
        // The EVAL is the costliest call: its time is its own plus the ZADD's, shown once.
        let top = try #require(evalReport.topCalls.first)
        #expect(top.command == "EVAL")
        #expect(top.nestedCost == zaddCost)
        #expect(abs(try #require(top.estimatedMicroseconds) - (try #require(eval.estimatedMicroseconds))) < 1e-9)
    }

    @Test("one call has one estimate: a finding's evidence shows the time the costliest calls show")
    func oneEstimatePerCall() throws {
        let server = try TestServer(.redis7)
        let path = try Self.capture(server) { c in
            _ = try c.command(["HSET", "big:hash"] + (1...2000).flatMap { ["f\($0)", "v"] })
            _ = try c.command(["HGETALL", "big:hash"])
            _ = try c.command(["EVAL", "return redis.call('HGETALL', KEYS[1])", "1", "big:hash"])
        }
        let report = try Self.analyze(path)
        var topTimes: [String: Double] = [:]
        for call in report.topCalls {
            topTimes["\(call.command)@\(try #require(call.line).value)"] = call.estimatedMicroseconds
        }
        var compared = 0
        for finding in report.findings {
            for evidence in finding.evidence {
                guard let line = evidence.location.split(separator: ":").last,
                      let shown = topTimes["\(evidence.command)@\(line)"] else { continue }
                #expect(evidence.estimatedMicroseconds == shown, "\(evidence.command) at line \(line)")
                compared += 1
            }
        }
        #expect(compared >= 2)
    }

    @Test("PUBLISH costs its channel's subscribers and the patterns, counted from the capture", arguments: TestServer.Kind.allCases)
    func publishCostsItsSubscribers(_ kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        var subscribers: [RedisConnection] = []
        let path = try Self.capture(server) { c in
            for i in 0..<3 {
                let s = try server.connect()
                _ = try s.command(i < 2 ? ["SUBSCRIBE", "news", "other"] : ["PSUBSCRIBE", "n*"])
                subscribers.append(s)
            }
            // Wait until the server counts them (the replies to SUBSCRIBE arrived before).
            for _ in 0..<200 {
                if case .integer(2)? = try c.command(["PUBSUB", "NUMSUB", "news"]).array?.last { break }
                usleep(10_000)
            }
            _ = try c.command(["PUBLISH", "news", "hello"])
            _ = try c.command(["PUBLISH", "nobody", "hello"])
        }
        let report = try Self.analyze(path)
        let publish = try #require(Self.command(report, "PUBLISH"))
        // news: 2 subscribers + 1 pattern; nobody: 0 + 1 pattern (a known cost is at least 1).
        #expect(publish.cost == 4)
        #expect(publish.calls == 2)
        #expect(publish.unknownCostCalls == 0)
        #expect(publish.upperBoundCalls == 2)  // disconnects are not in a capture
        // Without a baseline, subscriptions from before the capture may exist: unknown, never 0.
        let unknown = try #require(Self.command(try Self.analyze(path, []), "PUBLISH"))
        #expect(unknown.unknownCostCalls == 2)
        // null in the JSON (the schema, checked on every report, has it required).
        #expect(unknown.estimatedMicroseconds == nil)
        let markdown = try runCLI(["analyze", path])
        #expect(markdown.stdout.contains("| PUBLISH | 2 | unknown |"))
        #expect(!markdown.stdout.contains("< 1 µs"))
    }

    @Test("SCRIPT LOAD is priced by its bytes in time, not counted as elements touched")
    func scriptLoadIsTimeNotElements() throws {
        let server = try TestServer(.redis7)
        let body = (0..<60).map { "if redis.call('GET', KEYS[1] .. '\($0)') then return \($0) end" }.joined(separator: "\n")
        let path = try Self.capture(server) { c in
            _ = try c.command(["SCRIPT", "LOAD", body])
            _ = try c.command(["SET", "k", "v"])
        }
        let report = try Self.analyze(path)
        let load = try #require(Self.command(report, "SCRIPT LOAD"))
        #expect(load.cost == Double(body.utf8.count))
        let expected = TimeModel.defaults.microseconds(calls: 1, elements: Double(body.utf8.count), elementClass: "script")
        #expect(abs(try #require(load.estimatedMicroseconds) - expected) < 1e-9)
        // The totals count the SET's element and the ECHO marker's, not the script's bytes.
        #expect(Self.totals(report).cost == 2)
    }

    @Test("an idle capture (only redis-cli's OK, or nothing) is a report of 0 calls")
    func idleCaptureIsAnEmptyReport() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("idle-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for (name, text) in [("ok.txt", "OK\n"), ("empty.txt", "")] {
            let path = folder.appendingPathComponent(name).path
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
            let run = try runCLI(["analyze", path, "--format", "json"])
            #expect(run.status == 0, "\(name): \(run.stderr)")
            let report = try decodeReport(AnalysisReport.Document.self, run.stdout)
            #expect(report.totals.calls == 0)
            #expect(report.input.files.first?.format == "monitor", "\(name)")
        }
    }
}
