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

/// The report of a workload whose costs are known exactly, written by a real server.
@Suite struct AnalysisReportTests {
    /// A real AOF with known sizes: 1000-member sets, a big DEL, a SUNIONSTORE, a MULTI.
    static func workload() throws -> (TestServer, String) {
        let server = try TestServer(.redis7, arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", "no",
                                                         "--appendfsync", "always", "--aof-timestamp-enabled", "yes"])
        let c = try server.connect()
        _ = try c.pipeline([
            ["SADD", "users:1:tags"] + (0..<1000).map { "t\($0)" },
            ["SADD", "users:2:tags"] + (500..<700).map { "t\($0)" },
            ["SUNIONSTORE", "users:all", "users:1:tags", "users:2:tags"],
            ["SET", "a1b2c3d4e5f60718:session", "x"],
            ["DEL", "users:1:tags"],
            ["MULTI"], ["SADD", "users:3:tags", "x"], ["SADD", "users:3:tags", "y"], ["EXEC"],
        ])
        return (server, server.directory.appendingPathComponent("appendonlydir").path)
    }

    @Test func jsonHasExactTotalsCommandsAndTopCalls() throws {
        let (server, path) = try Self.workload()
        _ = server
        let cli = try runCLI(["analyze", path, "--format", "json", "--top", "3"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let report = try decodeReport(AnalysisReport.Document.self, cli.stdout)
        #expect(report.totals.calls == 7)
        // SADD 1000 + SADD 200 + SUNIONSTORE (1000 + 200) + SET 1 + DEL 1000 + SADD 1 + SADD 1
        #expect(report.totals.cost == 3403)
        #expect(report.totals.transactions == 1)
        #expect(report.commands.map(\.name) == ["SADD", "SUNIONSTORE", "DEL", "SET"])
        #expect(report.commands.map(\.calls) == [4, 1, 1, 1])
        #expect(report.commands.map(\.cost) == [1202, 1200, 1000, 1])
        let top = report.topCalls
        #expect(top.count == 3)
        #expect(top.map(\.command) == ["SUNIONSTORE", "SADD", "DEL"])
        #expect(top[0].keys == ["users:all", "users:1:tags", "users:2:tags"])
        #expect(top[0].sizes == [0, 1000, 200])
        #expect(top[0].cost == 1200)
        #expect(top[0].offset != nil && top[0].line == nil)
        #expect(top[2].keys == ["users:1:tags"])
        #expect(top[2].sizes == [1000])
        #expect(top.map(\.cost) == [1200, 1000, 1000])
        #expect(report.patterns.first?.pattern == "users:*:tags")
        #expect(report.patterns.first?.calls == 5)
        #expect(report.patterns.contains { $0.pattern == "*:session" })
        #expect(report.biggestKeys.first?.key == "users:all")
        #expect(report.biggestKeys.first?.size == 1000)
    }

    @Test func markdownHasEverySectionAndTheRows() throws {
        let (server, path) = try Self.workload()
        _ = server
        let cli = try runCLI(["analyze", path])
        #expect(cli.status == 0)
        let md = cli.stdout
        for heading in ["## Summary", "## Costliest calls", "## Time and cost by command (by estimated time)", "## Cost by key pattern", "## Biggest keys at the end"] {
            #expect(md.contains(heading), "\(heading)")
        }
        #expect(md.contains("- Calls: 7 in 4 commands, 1 transactions (MULTI/EXEC)"))
        #expect(md.contains("- Total cost: 3,403 elements touched"))
        #expect(md.contains("| 1 | SUNIONSTORE | `users:all` `users:1:tags` `users:2:tags` | 0 (no key), 1000, 200 | 1,200 |"))
        // Estimated time beside the calls (its value is the time model's), then the elements.
        #expect(md.split(separator: "\n").contains { $0.hasPrefix("| SUNIONSTORE | 1 | ") && $0.hasSuffix(" | 1,200 | 35.3% | 1,200 | 1,200 |  |") })
        #expect(md.contains("| `users:*:tags` | 5 | 0 | 5 | 2,202 | 64.7% |"))
        #expect(md.contains("| `users:all` | 0 | set | 1000 |"))
        #expect(md.contains("An AOF holds only the writes"))
        // -o writes the same report to a file.
        let file = server.directory.appendingPathComponent("report.md")
        #expect(try runCLI(["analyze", path, "-o", file.path]).status == 0)
        func withoutTiming(_ text: String) -> [Substring] { text.split(separator: "\n").filter { !$0.contains("analysis took") } }
        #expect(withoutTiming(try String(contentsOf: file, encoding: .utf8)) == withoutTiming(md))
    }

    @Test func stateMatchesTheServer() throws {
        let (server, path) = try Self.workload()
        let cli = try runCLI(["state", path])
        #expect(cli.status == 0)
        let ours = try decodeReport([String: [String: StateReport.Key]].self, cli.stdout)
        let truth = try serverState(server)
        for (hex, item) in ours["0"]! {
            #expect(truth["0"]?[hex] == KeyTruth(type: item.type, size: item.size, hasTTL: item.has_ttl))
        }
        #expect(ours["0"]!.count == truth["0"]!.count)
    }

    @Test func snapshotProfile() throws {
        let cli = try runCLI(["analyze", runFolder("redis-8.2.3").appendingPathComponent("dump.rdb").path, "--format", "json"])
        #expect(cli.status == 0)
        let report = try decodeReport(AnalysisReport.Document.self, cli.stdout)
        let snapshot = try #require(report.snapshots.first)
        let truth = try loadTruth(runFolder("redis-8.2.3").appendingPathComponent("final-state.json"))
        let all = truth.values.flatMap(\.values)
        #expect(snapshot.keys == all.count)
        #expect(snapshot.expiringKeys == all.filter(\.hasTTL).count)
        #expect(snapshot.checksumVerified)
        #expect(snapshot.magic == "REDIS0012")
        for type in ["set", "zset", "hash", "list", "stream", "string"] {
            #expect(snapshot.byType[type]?.keys == all.filter { $0.type == type }.count, "\(type)")
        }
        #expect(snapshot.byType["set"]?.elements == all.filter { $0.type == "set" }.reduce(0) { $0 + ($1.size ?? 0) })
        let largest = all.filter { $0.type != "string" }.map { $0.size ?? 0 }.max()
        #expect(snapshot.biggestByElements.first?.size == largest)
        #expect(report.totals.calls == 0)
    }

    @Test func keyNamesAreShownSafely() {
        #expect(KeyText.display(Array("한글:키".utf8)) == "한글:키")
        #expect(KeyText.display([0x62, 0x00, 0xFF, 0x0D, 0x0A, 0x22, 0x5C]) == "b\\x00\\xff\\x0d\\x0a\"\\\\")
        #expect(KeyPattern.fold(Array("user:1234:sessions".utf8)) == Array("user:*:sessions".utf8))
        #expect(KeyPattern.fold(Array("job:550e8400-e29b-41d4-a716-446655440000".utf8)) == Array("job:*".utf8))
        #expect(KeyPattern.fold(Array("cache/deadbeef01/x.json".utf8)) == Array("cache/*/x.json".utf8))
        #expect(KeyPattern.fold(Array("feed:abc".utf8)) == Array("feed:abc".utf8))
        #expect(Markdown.cell("a|b\nc") == "a\\|b c")
    }
}

/// The report encoder and its writer: what Foundation's decoder reads back, keys sorted, nil as null.
@Suite struct JSONTextTests {
    struct Sample: Codable {
        struct Nested: Codable {
            var z = 1
            var y = ["k": "v"]
        }
        var b: [Double?] = [1, 2.5, -3, 1e20, nil]
        var a = "quote \" back\\slash \n tab\t bell\u{07} 한글 /path"
        var flags = [true, false]
        var empty: [Int] = []
        var none: [String: Int] = [:]
        var nested = Nested()
        var n = Int64(9_007_199_254_740_993)
        var missing: String? = nil
        var omitted: Omittable<Int>? = nil
        var kept: Omittable<Int>? = Omittable(7)
    }

    @Test func roundTripsThroughFoundation() throws {
        let object = Sample()
        let text = JSONText.render(object)
        #expect(text.hasPrefix("{\n  \"a\" : \"quote \\\" back\\\\slash \\n tab\\t bell\\u0007 한글 /path\",\n  \"b\" : [\n    1,\n    2.5,"))
        #expect(text.contains("\"empty\" : [\n\n  ]") && text.contains("\"none\" : {\n\n  }"))
        #expect(text.contains("\"missing\" : null") && !text.contains("omitted") && text.contains("\"kept\" : 7"))
        #expect(text.contains("\"n\" : 9007199254740993"))
        // Foundation's decoder reads it back: another parser than ours agrees.
        let back = try JSONDecoder().decode(Sample.self, from: Data(text.utf8))
        #expect(back.a == object.a)
        #expect(back.b.count == 5 && back.b[4] == nil && back.b[3] == 1e20)
        #expect(back.nested.y == ["k": "v"] && back.n == object.n && back.kept?.value == 7 && back.omitted == nil)
        #expect(JSONText.number(.infinity) == "null")
        #expect(JSONText.number(3294.6639999999998) == "3294.664")
    }
}
