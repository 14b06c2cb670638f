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

/// `--redact-keys` on inputs a real server wrote while a workload used secret names — in keys,
/// a SCAN MATCH pattern, a keyspace channel, a script and a function: no report of any command
/// holds one of them (nor their hex), while patterns still group and the numbers are those of
/// the report without redaction.
@Suite struct RedactionTests {
    /// The names the workload uses; none may appear in a redacted report.
    static let secrets = ["secret-customer-4242", "customer_4242", "acct4242", "AbCdEf123xyz", "john.doe",
                          "zanzibar", "quetzal", "narwhal", "wombat", "marmalade", "kumquat", "ocelot", "xylophone"]
    static let script = "-- marmalade\nreturn #redis.call('SMEMBERS', KEYS[1])"
    static let function = "#!lua name=kumquatlib\nredis.register_function('kumquatfn', function(keys, args) return #redis.call('SMEMBERS', keys[1]) end)"

    /// Every form a secret could take in a report: as it is, in either case, and its bytes in hex or as `\x` escapes.
    static func leaks(_ text: String) -> [String] {
        let lower = text.lowercased()
        var found: [String] = []
        for secret in secrets + [String(SHA1.hex(Array(script.utf8)).prefix(12))] {
            let bytes = Array(secret.lowercased().utf8)
            let forms = [secret.lowercased(), KeyText.hexString(bytes), bytes.map { "\\x" + KeyText.hexString([$0]) }.joined()]
            found += forms.filter { lower.contains($0) }
        }
        return found
    }

    /// One run on Redis 7.0.15 gives a MONITOR capture, an AOF with timestamps, an RDB and a
    /// SLOWLOG that saw every call.
    static func workload() throws -> (server: TestServer, capture: String, aof: String, rdb: String) {
        let server = try TestServer(.redis7, arguments: ["--appendonly", "yes", "--aof-use-rdb-preamble", "no", "--appendfsync", "always",
                                                         "--aof-timestamp-enabled", "yes", "--slowlog-log-slower-than", "0", "--slowlog-max-len", "1024"])
        let capture = try CallAccountingTests.capture(server) { c in
            let subscriber = try server.connect()
            _ = try subscriber.command(["PSUBSCRIBE", "__keyspace@0__:ocelot*"])
            _ = try c.pipeline((0..<1100).map { ["SET", "ocelot:\($0)", "v", "EX", "1000"] })
            _ = try c.pipeline((0..<50).map { ["HSET", "zanzibar:\($0):quetzal", "f", "v"] })
            _ = try c.require(["SADD", "narwhal:big"] + (0..<12_000).map { "m\($0)" })
            _ = try c.pipeline((0..<25).map { ["SET", "wombat-tmp:\($0)", "v"] })
            _ = try c.require(["SCAN", "0", "MATCH", "wombat-tmp:*", "COUNT", "10000"])
            _ = try c.pipeline((0..<25).map { ["DEL", "wombat-tmp:\($0)"] })
            _ = try c.require(["SMEMBERS", "narwhal:big"])
            _ = try c.require(["EVAL", script, "1", "narwhal:big"])
            _ = try c.require(["EVALSHA", SHA1.hex(Array(script.utf8)), "1", "narwhal:big"])
            _ = try c.require(["FUNCTION", "LOAD", function])
            _ = try c.require(["FCALL", "kumquatfn", "1", "narwhal:big"])
            _ = try c.require(["KEYS", "xylophone*"])
            for key in ["secret-customer-4242", "customer_4242", "acct4242", "token:AbCdEf123xyz", "pii:john.doe"] {
                _ = try c.pipeline([["SET", key, "v"], ["GET", key]])
            }
            _ = subscriber
        }
        _ = try server.run(["SAVE"])
        return (server, capture, server.directory.appendingPathComponent("appendonlydir").path,
                server.directory.appendingPathComponent("dump.rdb").path)
    }

    static func json<T: Decodable>(_ type: T.Type, _ run: CLIResult) throws -> T {
        #expect(run.status == 0, "\(run.stderr)")
        return try decodeReport(type, run.stdout)
    }

    @Test("no secret name in any redacted report: analyze (capture, AOF, RDB), state, audit, explain; markdown and JSON")
    func nothingLeaks() throws {
        let (server, capture, aof, rdb) = try Self.workload()
        defer { withExtendedLifetime(server) {} }
        let port = String(server.port)
        let runs: [[String]] = [
            ["analyze", capture, "--baseline", "empty"], ["analyze", aof], ["analyze", rdb],
            ["state", capture, "--baseline", "empty"], ["state", aof], ["state", rdb],
            ["audit", "-p", port], ["explain", "GET", "secret-customer-4242", "-p", port],
        ]
        for arguments in runs {
            for format in arguments[0] == "state" ? ["json"] : ["markdown", "json"] {
                let run = try runCLI(arguments + ["--format", format, "--redact-keys"])
                #expect(run.status == 0, "\(arguments): \(run.stderr)")
                #expect(Self.leaks(run.stdout + run.stderr) == [], "\(arguments) \(format)")
                // Without the flag, the same reports do name them (the check above can see them).
                let plain = try runCLI(arguments + ["--format", format])
                #expect(Self.leaks(plain.stdout) != [], "\(arguments) \(format)")
            }
        }
        // The rules that quote their input did fire, and quote it only in the plain report.
        let report = try Self.json(AnalysisReport.Document.self, try runCLI(["analyze", capture, "--baseline", "empty", "--format", "json", "--redact-keys"]))
        let rules = Set(report.findings.map(\.rule))
        #expect(rules.isSuperset(of: ["scan-del", "heavy-script", "keyspace-notifications", "keys", "full-read"]))
    }

    @Test("redaction changes names only: the same numbers, and keys of one pattern still share one redacted pattern")
    func numbersAndGroupsStay() throws {
        let (server, capture, aof, _) = try Self.workload()
        // Its folder holds the inputs.
        defer { withExtendedLifetime(server) {} }
        for arguments in [["analyze", capture, "--baseline", "empty"], ["analyze", aof]] {
            let plain = try Self.json(AnalysisReport.Document.self, try runCLI(arguments + ["--format", "json"]))
            let redacted = try Self.json(AnalysisReport.Document.self, try runCLI(arguments + ["--format", "json", "--redact-keys"]))
            #expect(JSONText.render(plain.totals) == JSONText.render(redacted.totals))
            #expect(JSONText.render(plain.commands) == JSONText.render(redacted.commands))
            let plainPatterns = plain.patterns
            let redactedPatterns = redacted.patterns
            #expect(plainPatterns.count == redactedPatterns.count)
            for (p, r) in zip(plainPatterns, redactedPatterns) {
                #expect(r.pattern == KeyText.redactedPattern(Array(p.pattern.utf8)))
                let (plainNumbers, redactedNumbers): ([Double], [Double]) = ([Double(p.calls), Double(p.reads), Double(p.writes), p.cost],
                                                                             [Double(r.calls), Double(r.reads), Double(r.writes), r.cost])
                #expect(plainNumbers == redactedNumbers)
            }
            // 50 keys zanzibar:<n>:quetzal, one pattern: `w……:*:w……`.
            let zanzibar = KeyText.redactedPattern(Array("zanzibar:*:quetzal".utf8))
            #expect(zanzibar.range(of: #"^w[0-9a-f]{6}:\*:w[0-9a-f]{6}$"#, options: .regularExpression) != nil, "\(zanzibar)")
            #expect(redactedPatterns.first { $0.pattern == zanzibar }?.calls == 50)
            #expect(plain.findings.map { "\($0.rule) \($0.count) \($0.cost)" } == redacted.findings.map { "\($0.rule) \($0.count) \($0.cost)" })
            #expect(plain.topCalls.map { $0.keys.map { KeyText.redacted(Array($0.utf8)) } } == redacted.topCalls.map(\.keys))
        }
        // state: the same keys, named by the hash of their name.
        typealias State = [String: [String: StateReport.Key]]
        let plain = try #require(try Self.json(State.self, try runCLI(["state", aof]))["0"])
        let redacted = try #require(try Self.json(State.self, try runCLI(["state", aof, "--redact-keys"]))["0"])
        #expect(plain.count == redacted.count)
        let name = Array("acct4242".utf8)
        let entry = try #require(redacted[KeyText.hashText(elementHash(name), digits: 16)])
        #expect(entry.key == KeyText.redacted(name))
        #expect(entry.type == plain[KeyText.hexString(name)]?.type)
    }

    @Test("a script Redis 5 and 6 kept in an RDB's lua aux field is left out too")
    func scriptInAnRDB() throws {
        var result = AnalysisResult(input: "RDB file dump.rdb")
        result.snapshots = [.init(file: "dump.rdb", magic: "REDIS0009", checksumVerified: true, aux: ["redis-ver": "6.2.14", "lua": Self.script])]
        let redacted = AnalysisReport.json(result, options: .init(redactKeys: true))
        #expect(Self.leaks(redacted) == [] && redacted.contains("6.2.14"))
        #expect(Self.leaks(AnalysisReport.json(result)) != [])
    }

    @Test("a redacted name keeps only separators and *: every word becomes a hash, digits or not")
    func theRule() {
        for (key, shape) in [("secret-customer-4242", #"^w[0-9a-f]{6}-w[0-9a-f]{6}-\*#[0-9a-f]{8}$"#),
                             ("customer_4242", #"^w[0-9a-f]{6}_\*#[0-9a-f]{8}$"#), ("acct4242", #"^w[0-9a-f]{6}#[0-9a-f]{8}$"#),
                             ("token:AbCdEf123xyz", #"^w[0-9a-f]{6}:w[0-9a-f]{6}#[0-9a-f]{8}$"#),
                             ("pii:john.doe", #"^w[0-9a-f]{6}:w[0-9a-f]{6}\.w[0-9a-f]{6}#[0-9a-f]{8}$"#),
                             ("user:1234:sessions", #"^w[0-9a-f]{6}:\*:w[0-9a-f]{6}#[0-9a-f]{8}$"#),
                             ("esc\u{1B}[2J", #"^w[0-9a-f]{6}\\x1b\[w[0-9a-f]{6}#[0-9a-f]{8}$"#)] {
            let redacted = KeyText.redacted(Array(key.utf8))
            #expect(redacted.range(of: shape, options: .regularExpression) != nil, "\(key) → \(redacted)")
        }
        // One word, one label, wherever it is; a glob keeps its stars.
        let a = KeyText.redactedPattern(Array("user:*:sessions".utf8)), b = KeyText.redactedPattern(Array("user:*".utf8))
        #expect(a.hasPrefix(b))
        #expect(KeyText.redacted(Array("wombat-tmp:*".utf8)).hasPrefix(KeyText.redactedPattern(Array("wombat-tmp:*".utf8)) + "#"))
        #expect(KeyText.redactedPattern(Array("cache*".utf8)).hasSuffix("*"))
    }
}
