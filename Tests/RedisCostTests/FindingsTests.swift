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

/// The findings rules: every rule's own examples, and the helpers they rely on checked
/// against real servers.
@Suite struct FindingsTests {
    static let table = try! CommandTable.embedded()

    /// Runs calls as a capture from an empty data set, with the rules on.
    static func findings(_ example: RuleExample, options: FindingsEngine.Options = .init(), table: CommandTable = table) throws -> [Finding] {
        let analyzer = Analyzer(table: table)
        analyzer.findingsEngine = FindingsEngine(table: table, options: options)
        let session = try MonitorSession(analyzer: analyzer, source: "example", file: "example.txt", options: .init(startsEmpty: true))
        let text = Array(example.capture.utf8)
        text.withUnsafeBytes { session.consume($0, framing: .plain) }
        return session.finish().findings
    }

    static var allExamples: [(String, Int)] {
        FindingsEngine.ruleTypes.flatMap { type in type.examples.indices.map { (type.id, $0) } }
    }

    @Test("every rule's examples fire, or stay quiet, as declared", arguments: allExamples)
    func ruleExamples(rule id: String, example n: Int) throws {
        let type = try #require(FindingsEngine.rule(id))
        let example = type.examples[n]
        let fired = try Self.findings(example).filter { $0.rule == id }
        #expect(!fired.isEmpty == example.fires, "\(id): \(example.description)")
        for finding in fired {
            #expect(!finding.summary.isEmpty && !finding.why.isEmpty && !finding.fix.isEmpty)
            #expect(finding.count > 0)
        }
    }

    @Test("every rule fires in at least one example and stays quiet in another; ids are unique")
    func rulesDeclareBothKindsOfExamples() {
        for type in FindingsEngine.ruleTypes {
            #expect(type.examples.contains { $0.fires } && type.examples.contains { !$0.fires }, "\(type.id)")
        }
        #expect(Set(FindingsEngine.ruleTypes.map { $0.id }).count == FindingsEngine.ruleTypes.count)
        #expect(Set(FindingsEngine.ruleTypes.map { $0.id }) == ["keys", "flush-sync", "del-big", "full-read", "set-algebra", "deep-list", "sort",
                                                           "heavy-transaction", "heavy-script", "check-then-act", "scan-del",
                                                           "keyspace-notifications", "version", "connection-churn",
                                                           "search-whole-index", "json-whole-document", "vector-search-wide"])
    }

    @Test("the table decides which calls each rule watches: its semantics, flags and formulas, not names in the rules")
    func watchedEntries() {
        func watched(_ rule: any FindingRule.Type) -> Set<String> { Set(Self.table.entries.filter { rule.watches($0) }.map(\.name)) }
        func followed(_ rule: any FindingRule.Type) -> Set<String> { Set(Self.table.entries.filter { rule.follows($0) }.map(\.name)) }
        #expect(watched(FullReadRule.self) == ["HGETALL", "HKEYS", "HVALS", "SMEMBERS", "LRANGE", "ZRANGE", "ZREVRANGE", "ZRANGEBYSCORE", "ZREVRANGEBYSCORE",
                                              "ZRANGEBYLEX", "ZREVRANGEBYLEX", "XRANGE", "XREVRANGE", "TS.RANGE", "TS.REVRANGE"])
        #expect(watched(SearchWholeIndexRule.self) == ["FT.SEARCH", "FT.AGGREGATE"])
        #expect(watched(JSONWholeDocumentRule.self) == ["JSON.GET"])
        #expect(watched(VectorSearchRule.self) == ["VSIM"])
        #expect(watched(DeepListRule.self) == ["LINDEX", "LSET", "LINSERT", "LPOS", "LREM"])
        #expect(watched(SetAlgebraRule.self) == ["SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE", "SINTERCARD",
                                                 "ZUNION", "ZINTER", "ZDIFF", "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE", "ZINTERCARD"])
        #expect(watched(DeleteBigRule.self) == ["DEL", "GETDEL"])
        #expect(followed(ScanDeleteRule.self) == ["DEL", "UNLINK", "GETDEL"])
        #expect(watched(FlushSyncRule.self) == ["FLUSHALL", "FLUSHDB"])
        #expect(watched(KeysRule.self) == ["KEYS"])
        #expect(watched(HeavyScriptRule.self) == ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO", "SCRIPT LOAD"])
        #expect(watched(HeavyTransactionRule.self).filter { Self.table.entry(named: $0)?.isBlocking == false } == ["EXEC"])
        #expect(watched(HeavyTransactionRule.self).isSuperset(of: ["BLPOP", "BLMOVE", "XREAD", "WAIT"]))
        #expect(watched(KeyspaceNotificationsRule.self) == ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"])
        #expect(followed(KeyspaceNotificationsRule.self) == ["EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "SETEX", "PSETEX", "SET", "GETEX"])
        #expect(followed(CheckThenActRule.self).isSuperset(of: ["GET", "DEL", "HGETALL", "SET", "TYPE", "TTL", "RENAME"]))
        // What brackets the calls of a capture: scripts (scripting commands costing `nested`) and transactions.
        let scripts = zip(Self.table.entries, Self.table.runsScript).filter(\.1).map(\.0.name)
        #expect(Set(scripts) == ["EVAL", "EVALSHA", "EVAL_RO", "EVALSHA_RO", "FCALL", "FCALL_RO"])
        let transactions = Self.table.entries.compactMap { e in e.semantics.transaction.map { (e.name, $0) } }
        #expect(transactions.map(\.0) == ["DISCARD", "EXEC", "MULTI"] && transactions.map(\.1) == [.discard, .run, .begin])
        let subscriptionChanges = Self.table.entries.filter { Subscriptions.Change($0.semantics) != nil }.map(\.name)
        #expect(Set(subscriptionChanges) == ["SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE", "RESET"])
    }

    @Test("a table entry's semantics change what a rule does")
    func semanticsDriveRules() throws {
        let window = RuleExample.fires("LRANGE of a window", [.fill("list", "l", 2000), ExampleCall("LRANGE", "l", "100", "200")])
        let hash = RuleExample.fires("HGETALL of 3,000 fields", [.fill("hash", "h", 3000), ExampleCall("HGETALL", "h")])
        let random = RuleExample.fires("HRANDFIELD -3000", [.fill("hash", "h", 3000), ExampleCall("HRANDFIELD", "h", "-3000")])
        #expect(try !Self.findings(window).contains { $0.rule == "full-read" })
        #expect(try Self.findings(hash).contains { $0.rule == "full-read" })
        #expect(try !Self.findings(random).contains { $0.rule == "full-read" })
        var entries = Self.table.entries
        func edit(_ name: String, _ change: (inout CommandSemantics) -> Void) throws {
            change(&entries[try #require(entries.firstIndex { $0.name == name })].semantics)
        }
        // LRANGE without its range reads everything whatever the window; HGETALL that no longer
        // says so is not a full read; HRANDFIELD that says so is one.
        try edit("LRANGE") { $0.range = nil }
        try edit("HGETALL") { $0 = CommandSemantics() }
        try edit("HRANDFIELD") { $0.reads = .all }
        let edited = try CommandTable(entries: entries)
        #expect(try Self.findings(window, table: edited).contains { $0.rule == "full-read" })
        #expect(try !Self.findings(hash, table: edited).contains { $0.rule == "full-read" })
        #expect(try Self.findings(random, table: edited).contains { $0.rule == "full-read" })
    }

    @Test("a threshold set on the command line changes when a rule fires")
    func thresholds() throws {
        let example = RuleExample.fires("HGETALL of 3,000 fields", [.fill("hash", "h", 3000), ExampleCall("HGETALL", "h")])
        #expect(try Self.findings(example).contains { $0.rule == "full-read" })
        var options = FindingsEngine.Options()
        options.thresholds["full-read"] = 5000
        #expect(try !Self.findings(example, options: options).contains { $0.rule == "full-read" })
    }

    @Test("evidence: the costliest calls, their key patterns and sizes")
    func evidence() throws {
        let example = RuleExample.fires("three full reads", [
            .fill("hash", "user:1:h", 1500), .fill("hash", "user:2:h", 4000), .fill("hash", "user:3:h", 2500),
            ExampleCall("HGETALL", "user:1:h"), ExampleCall("HGETALL", "user:2:h"), ExampleCall("HGETALL", "user:3:h")])
        let finding = try #require(try Self.findings(example).first { $0.rule == "full-read" })
        #expect(finding.count == 3)
        #expect(finding.cost == 8000)
        #expect(finding.evidence.map { $0.sizes.first?.count } == [4000, 2500, 1500])
        #expect(finding.evidence.first?.keys == [Array("user:2:h".utf8)])
        #expect(finding.evidence.first?.location == "example.txt:5")
        #expect(finding.patterns.map { String(decoding: $0.pattern, as: UTF8.self) } == ["user:*:h"])
        #expect(finding.patterns.first?.count == 3)
    }

    @Test("--target-version lists the commands an older server lacks")
    func targetVersion() throws {
        let example = RuleExample.fires("LMPOP needs 7.0", [.fill("list", "l", 3), ExampleCall("LMPOP", "1", "l", "LEFT"), ExampleCall("GET", "k")])
        var options = FindingsEngine.Options()
        options.targetVersion = "6.2"
        let finding = try #require(try Self.findings(example, options: options).first { $0.rule == "version" && $0.severity == .critical })
        #expect(finding.evidence.map(\.command) == ["LMPOP"])
        #expect(finding.summary.contains("needs Redis ≥ 7.0.0 (LMPOP); Valkey ≥ 7.2.4 (any)"))
    }

    @Test("the minimum version is given per family: HEXPIRE is Redis 7.4.0 and Valkey 9.0.0, as each server documents it")
    func minimumVersionPerFamily() throws {
        let table = try CommandTable.embedded()
        let analyzer = Analyzer(table: table)
        analyzer.findingsEngine = FindingsEngine(table: table)
        let capture = "OK\n1700000000.000001 [0 127.0.0.1:5000] \"HSET\" \"h\" \"f\" \"v\"\n1700000000.000002 [0 127.0.0.1:5000] \"HEXPIRE\" \"h\" \"60\" \"FIELDS\" \"1\" \"f\"\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("hexpire-\(UUID().uuidString).txt").path
        try Data(capture.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try analyzer.run(monitor: path)
        #expect(result.minimumVersions == [
            .init(family: "Redis", version: "7.4.0", commands: ["HEXPIRE"]),
            .init(family: "Valkey", version: "9.0.0", commands: ["HEXPIRE"]),
        ])
    }

    @Test("SHA-1 of script bodies is the digest the server names them by", arguments: TestServer.Kind.allCases)
    func scriptDigests(kind: TestServer.Kind) throws {
        #expect(SHA1.hex("abc".utf8) == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(SHA1.hex("".utf8) == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(SHA1.hex(Array(repeating: UInt8(ascii: "a"), count: 1_000_000)) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
        let server = try TestServer(kind)
        let connection = try server.connect()
        for body in ["return 1", "return redis.call('GET', KEYS[1])", String(repeating: "-- padding\n", count: 100) + "return 'é'"] {
            #expect(try connection.require(["SCRIPT", "LOAD", body]).text == SHA1.hex(body.utf8))
        }
    }

    @Test("glob patterns match the keys the server's own KEYS matches")
    func globMatchesTheServer() throws {
        let server = try TestServer(.redis7)
        let connection = try server.connect()
        let keys = ["user:1", "user:12", "user:2x", "user:", "a*b", "a\\b", "[x]", "hello", "hallo", "hxllo", "heeeello", "h?llo", "", "tmp:", "ab", "abc"]
        _ = try connection.pipeline(keys.map { ["SET", $0, "v"] })
        for pattern in ["user:*", "user:?", "user:[12]*", "user:[^1]*", "h[ae]llo", "h[a-e]llo", "h*llo", "h\\?llo", "a\\*b", "a\\\\b",
                        "\\[x\\]", "*", "?", "*b*", "[a-b]*", "user:1*", "tmp:*"] {
            let expected = Set((try connection.require(["KEYS", pattern]).array ?? []).compactMap(\.text))
            let ours = Set(keys.filter { key in pattern.utf8.withContiguousStorageIfAvailable { p in
                Array(key.utf8).withUnsafeBytes { GlobPattern.matches(UnsafeRawBufferPointer(p), $0) } } ?? false })
            #expect(ours == expected, "\(pattern)")
        }
    }
}
