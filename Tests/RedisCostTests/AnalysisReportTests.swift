import Foundation
import Testing
@testable import RedisCost

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
        let json = try #require(try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])
        let totals = try #require(json["totals"] as? [String: Any])
        #expect(totals["calls"] as? Int == 7)
        // SADD 1000 + SADD 200 + SUNIONSTORE (1000 + 200) + SET 1 + DEL 1000 + SADD 1 + SADD 1
        #expect(totals["cost"] as? Double == 3403)
        #expect(totals["transactions"] as? Int == 1)
        let commands = try #require(json["commands"] as? [[String: Any]])
        #expect(commands.map { $0["name"] as! String } == ["SADD", "SUNIONSTORE", "DEL", "SET"])
        #expect(commands.map { $0["calls"] as! Int } == [4, 1, 1, 1])
        #expect(commands.map { $0["cost"] as! Double } == [1202, 1200, 1000, 1])
        let top = try #require(json["topCalls"] as? [[String: Any]])
        #expect(top.count == 3)
        #expect(top.map { $0["command"] as! String } == ["SUNIONSTORE", "SADD", "DEL"])
        #expect(top[0]["keys"] as? [String] == ["users:all", "users:1:tags", "users:2:tags"])
        #expect(top[0]["sizes"] as? [Int] == [0, 1000, 200])
        #expect(top[0]["cost"] as? Double == 1200)
        #expect(top[2]["keys"] as? [String] == ["users:1:tags"])
        #expect(top[2]["sizes"] as? [Int] == [1000])
        #expect((top.map { $0["cost"] as! Double }) == [1200, 1000, 1000])
        let patterns = try #require(json["patterns"] as? [[String: Any]])
        #expect(patterns.first?["pattern"] as? String == "users:*:tags")
        #expect(patterns.first?["calls"] as? Int == 5)
        #expect(patterns.contains { $0["pattern"] as? String == "*:session" })
        let biggest = try #require(json["biggestKeys"] as? [[String: Any]])
        #expect(biggest.first?["key"] as? String == "users:all")
        #expect(biggest.first?["size"] as? Int == 1000)
    }

    @Test func markdownHasEverySectionAndTheRows() throws {
        let (server, path) = try Self.workload()
        _ = server
        let cli = try runCLI(["analyze", path])
        #expect(cli.status == 0)
        let md = cli.stdout
        for heading in ["## Summary", "## Costliest calls", "## Cost by command", "## Cost by key pattern", "## Biggest keys at the end"] {
            #expect(md.contains(heading), "\(heading)")
        }
        #expect(md.contains("- Calls: 7 in 4 commands, 1 transactions (MULTI/EXEC)"))
        #expect(md.contains("- Total cost: 3,403 elements touched"))
        #expect(md.contains("| 1 | SUNIONSTORE | `users:all` `users:1:tags` `users:2:tags` | 0 (no key), 1000, 200 | 1,200 |"))
        #expect(md.contains("| SUNIONSTORE | 1 | 1,200 | 35.3% | 1,200 | 1,200 |  |"))
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
        let ours = try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as! [String: [String: [String: Any]]]
        let truth = try serverState(server)
        for (hex, item) in ours["0"]! {
            #expect(truth["0"]?[hex] == KeyTruth(type: item["type"] as! String, size: item["size"] as? Int, hasTTL: item["has_ttl"] as! Bool))
        }
        #expect(ours["0"]!.count == truth["0"]!.count)
    }

    @Test func snapshotProfile() throws {
        let cli = try runCLI(["analyze", runFolder("redis-8.2.3").appendingPathComponent("dump.rdb").path, "--format", "json"])
        #expect(cli.status == 0)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])
        let snapshot = try #require((json["snapshots"] as? [[String: Any]])?.first)
        let truth = try loadTruth(runFolder("redis-8.2.3").appendingPathComponent("final-state.json"))
        let all = truth.values.flatMap(\.values)
        #expect(snapshot["keys"] as? Int == all.count)
        #expect(snapshot["expiringKeys"] as? Int == all.filter(\.hasTTL).count)
        #expect(snapshot["checksumVerified"] as? Bool == true)
        #expect(snapshot["magic"] as? String == "REDIS0012")
        let byType = try #require(snapshot["byType"] as? [String: [String: Int]])
        for type in ["set", "zset", "hash", "list", "stream", "string"] {
            #expect(byType[type]?["keys"] == all.filter { $0.type == type }.count, "\(type)")
        }
        #expect(byType["set"]?["elements"] == all.filter { $0.type == "set" }.reduce(0) { $0 + ($1.size ?? 0) })
        let biggest = try #require(snapshot["biggestByElements"] as? [[String: Any]])
        let largest = all.filter { $0.type != "string" }.map { $0.size ?? 0 }.max()
        #expect(biggest.first?["size"] as? Int == largest)
        #expect((json["totals"] as? [String: Any])?["calls"] as? Int == 0)
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

/// The report encoder and its writer: what Foundation's parser reads back, keys sorted, nil as null.
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
        let back = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
        #expect(back["a"] as? String == object.a)
        #expect((back["b"] as? [Any])?.count == 5)
        #expect(((back["nested"] as? [String: Any])?["y"] as? [String: String]) == ["k": "v"])
        #expect(JSONText.number(.infinity) == "null")
        #expect(JSONText.number(3294.6639999999998) == "3294.664")
    }
}
