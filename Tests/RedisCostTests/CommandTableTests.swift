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

/// The table against what the three real servers report about themselves.
@Suite struct CommandTableTests {
    let table: CommandTable

    init() throws {
        table = try CommandTable.embedded()
    }

    @Test("every command the server documents is in the table with that server's exact complexity string",
          arguments: TestServer.Kind.allCases)
    func matchesCommandDocs(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let docs = try server.connect().commandDocs()
        #expect(docs.server == kind.serverID)
        #expect(docs.commands.count > 350)
        var missing: [String] = []
        var different: [String] = []
        for command in docs.commands {
            guard let entry = table.entry(named: command.name) else {
                missing.append(command.name)
                continue
            }
            #expect(entry.servers.contains(kind.serverID), "\(command.name) does not list \(kind.serverID)")
            // A complexity taken from a module's documentation (vector sets) stands where the
            // server reports none.
            let documented = command.complexity == nil && entry.complexitySource != nil
            if entry.complexity(on: kind.serverID) != command.complexity && !documented { different.append(command.name) }
        }
        #expect(missing == [])
        #expect(different == [])
        // And nothing is claimed for this server that it does not have.
        let reported = Set(docs.commands.map(\.name))
        let claimed = table.entries.filter { $0.servers.contains(kind.serverID) }.map(\.name)
        #expect(claimed.filter { !reported.contains($0) } == [])
    }

    @Test("a refresh from a server the table already knows changes nothing and keeps every formula",
          arguments: TestServer.Kind.allCases)
    func refreshIsStable(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let docs = try server.connect().commandDocs()
        let (merged, summary) = TableRefresh.merge(docs, into: table.entries)
        #expect(summary.added == [])
        #expect(summary.changedComplexity == [])
        #expect(merged == table.entries.sorted { $0.name < $1.name })
        #expect(CommandTableJSON.encode(merged) == embeddedCommandTableJSON + "\n" || CommandTableJSON.encode(merged) == embeddedCommandTableJSON)
    }

    @Test func refreshOrderDoesNotMatter() throws {
        let a = ServerCommandDocs(server: "redis-7.0.15", commands: [CommandEntry(name: "GEODIST", group: "geo", complexity: "O(log(N))")])
        let b = ServerCommandDocs(server: "redis-8.2.3", commands: [CommandEntry(name: "GEODIST", group: "geo", complexity: "O(1)")])
        let c = ServerCommandDocs(server: "valkey-9.1.2", commands: [CommandEntry(name: "GEODIST", group: "geo", since: "3.2.0", complexity: "O(1)")])
        var start = [CommandEntry(name: "GEODIST", group: "geo", formula: "1")]
        start[0].servers = []
        let orders = [[a, b, c], [c, b, a], [b, a, c]]
        let results = orders.map { order in order.reduce(start) { TableRefresh.merge($1, into: $0).entries } }
        #expect(results[0] == results[1])
        #expect(results[0] == results[2])
        let entry = try #require(results[0].first)
        #expect(entry.complexity == "O(1)")
        #expect(entry.complexityVariants == ["redis-7.0.15": "O(log(N))"])
        #expect(entry.servers == ["redis-8.2.3", "redis-7.0.15", "valkey-9.1.2"])
        #expect(entry.formula == "1")
        #expect(entry.complexity(on: "redis-7.0.15") == "O(log(N))")
        #expect(entry.complexity(on: "valkey-9.1.2") == "O(1)")
    }

    @Test("semantics are read strictly, written back exactly, and kept by a refresh from the preferred server")
    func semanticsRoundTripAndSurviveRefresh() throws {
        let written = CommandTableJSON.encode(table.entries)
        #expect(written == embeddedCommandTableJSON || written == embeddedCommandTableJSON + "\n")
        let zrange = try #require(table.entry(named: "ZRANGE")).semantics
        #expect(zrange.reads == .all && zrange.range?.start == 2 && zrange.range?.stop == 3 && zrange.pagedBy == ["BYSCORE", "BYLEX"])
        #expect(try #require(table.entry(named: "SET")).semantics.expires == .withOption(["EX", "PX", "EXAT", "PXAT"]))
        #expect(try #require(table.entry(named: "EVALSHA")).semantics.script == .sha1(1))
        for bad in [#"{"reads": "everything"}"#, #"{"raeds": "all"}"#, #"{"subscription": "subscribe"}"#, #"{"script": {"text": 1}}"#] {
            let json = #"{"commands": [{"name": "X", "group": "generic", "semantics": "# + bad + #"}]}"#
            #expect(throws: CommandTableJSON.FormatError.self) { try CommandTableJSON.decode(json, source: "test") }
        }
        var start = try #require(table.entry(named: "HGETALL"))
        start.servers = ["redis-7.0.15"]
        let docs = ServerCommandDocs(server: "redis-9.0.0", commands: [CommandEntry(name: "HGETALL", group: "hash", complexity: "O(N)")])
        let merged = try #require(TableRefresh.merge(docs, into: [start]).entries.first)
        #expect(merged.servers.first == "redis-9.0.0" && merged.semantics.reads == .all && merged.formula == start.formula)
    }

    @Test func newCommandsGetAFormulaOnlyWhenExactlyO1() {
        let docs = ServerCommandDocs(server: "redis-9.0.0", commands: [
            CommandEntry(name: "NEWGET", group: "string", complexity: "O(1)"),
            CommandEntry(name: "NEWSCAN", group: "generic", complexity: "O(N) where N is the number of keys"),
        ])
        let (merged, summary) = TableRefresh.merge(docs, into: [])
        #expect(merged.map(\.formula) == ["1", nil])
        #expect(summary.added == ["NEWGET", "NEWSCAN"])
        #expect(summary.missingFormula == ["NEWSCAN"])
    }

    @Test("fixed key positions, decided once per entry, are what the server's key-spec algorithm finds")
    func fixedKeyPositionsAgreeWithKeySpecs() {
        var fixedEntries = 0
        for (index, entry) in table.entries.enumerated() where table.traits[index].fixedKeys != nil {
            fixedEntries += 1
            for extra in 0...4 {
                let words = (0..<(table.traits[index].minimumArgc + extra)).map { "a\($0)" }
                let bytes = words.map { Array($0.utf8) }
                Argv.with(bytes) { argv in
                    #expect(table.keyPositions(of: index, in: argv) == entry.keyPositions(in: argv), "\(entry.name) argc \(words.count)")
                }
            }
        }
        #expect(fixedEntries > 200)
    }

    @Test func tableHasEveryRequiredCommandAndEveryFormulaParses() throws {
        for name in ["SINTER", "CLIENT LIST", "CLIENT CAPA", "SFLUSH", "HGETEX", "HSETEX", "HGETDEL", "XDELEX",
                     "VADD", "VSIM", "COMMANDLOG GET", "DELIFEQ", "CLUSTERSCAN", "SENTINEL MASTERS"] {
            let entry = try #require(table.entry(named: name), "\(name) is missing")
            #expect(entry.formula != nil)
            #expect(table.formula(named: name) != nil)
        }
        #expect(table.entriesWithoutFormula.map(\.name) == [])
        #expect(table.entries.count == table.formulas.count)
        // Unknown formulas are few and each gives its reason; module commands (whose keys the
        // model does not hold: JSON documents, search indexes, time series) are counted apart.
        let modules = Set(table.entries.filter { $0.complexitySource != nil }.map(\.name))
        #expect(table.unknownFormulas.filter { !modules.contains($0.name) }.count < 60)
        #expect(table.unknownFormulas.filter { modules.contains($0.name) }.count <= 50)
        #expect(table.unknownFormulas.allSatisfy { !$0.reason.isEmpty })
    }

    /// The commands of the five module command files (RedisJSON, RediSearch, RedisBloom,
    /// RedisTimeSeries, redis/redis modules/vector-sets), each with its documented complexity
    /// kept verbatim and the file it comes from.
    @Test func moduleCommandsCarryTheirDocumentedComplexityAndSource() throws {
        var perSource: [String: Int] = [:]
        for entry in table.entries {
            if let source = entry.complexitySource { perSource[source, default: 0] += 1 }
        }
        #expect(perSource["RedisJSON/RedisJSON commands.json"] == 26)
        #expect(perSource["RediSearch/RediSearch commands.json"] == 31)
        #expect(perSource["RedisBloom/RedisBloom commands.json"] == 49)
        #expect(perSource["RedisTimeSeries/RedisTimeSeries commands.json"] == 21)
        #expect(perSource["redis/redis modules/vector-sets/commands.json"] == 11)
        let pinned: [(String, String, String)] = [
            ("JSON.GET", "RedisJSON/RedisJSON commands.json", "O(N) when path is evaluated to a single value where N is the size of the value, O(N) when path is evaluated to multiple values, where N is the size of the key"),
            ("FT.SEARCH", "RediSearch/RediSearch commands.json", "O(N)"),
            ("BF.MADD", "RedisBloom/RedisBloom commands.json", "O(k * n), where k is the number of hash functions and n is the number of items"),
            ("TS.ADD", "RedisTimeSeries/RedisTimeSeries commands.json", "O(M) when M is the amount of compaction rules or O(1) with no compaction"),
            ("VSIM", "redis/redis modules/vector-sets/commands.json", "O(log(N)) where N is the number of elements in the vector set."),
        ]
        for (name, source, complexity) in pinned {
            let entry = try #require(table.entry(named: name), "\(name) is missing")
            #expect(entry.complexitySource == source)
            #expect(entry.complexity == complexity)
            #expect(table.formula(named: name) != nil)
        }
        // Module commands are not a server version's: no "since" for the version rule.
        #expect(table.entries.filter { $0.complexitySource != nil && $0.group != "vector_set" && $0.since != nil }.map(\.name) == [])
        // Unknown stays unknown: a search or a JSON path reads data the model does not hold.
        #expect(table.formula(named: "FT.SEARCH")?.unknownReason != nil)
        #expect(table.formula(named: "JSON.GET")?.unknownReason != nil)
        #expect(table.formula(named: "BF.ADD")?.unknownReason == nil)
        // The field survives a write and a read.
        let entry = try #require(table.entry(named: "JSON.GET"))
        #expect(try CommandTableJSON.decode("{\"commands\": [" + CommandTableJSON.encode(entry) + "]}", source: "test") == [entry])
    }

    @Test("a refresh from a server that reports no complexity keeps the documented one and its source")
    func refreshKeepsDocumentedComplexity() throws {
        let entry = try #require(table.entry(named: "VADD"))
        var incoming = entry
        incoming.complexity = nil
        incoming.complexitySource = nil
        let (merged, summary) = TableRefresh.merge(ServerCommandDocs(server: "redis-8.2.3", commands: [incoming]), into: [entry])
        #expect(merged == [entry])
        #expect(summary.changedComplexity == [])
    }

    /// A capture recorded from Redis 8.2.3 with the Stack modules loaded: module calls are
    /// commands of the table, ranked with the others, never "not in the command table".
    @Test func moduleCallsOfACaptureAreInTheTable() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/modules/monitor-redis-8.2.3-stack.txt").path
        let (_, _, result) = try captureState(path)
        #expect(result.unknownCommands == [:])
        let names = Set(result.commands.map(\.name))
        for name in ["JSON.SET", "JSON.GET", "JSON.MGET", "BF.MADD", "CMS.INCRBY", "TS.ADD", "TS.RANGE", "FT.CREATE", "FT.SEARCH", "VADD"] {
            #expect(names.contains(name), "\(name) is not in the by-command table")
        }
        #expect(result.calls == 17)
    }

    @Test func deprecationAndReplacementComeFromTheServers() throws {
        let entry = try #require(table.entry(named: "GEORADIUS"))
        #expect(entry.deprecatedSince == "6.2.0")
        #expect(entry.replacedBy?.contains("GEOSEARCH") == true)
        #expect(try #require(table.entry(named: "SINTER")).isDeprecated == false)
    }

    @Test func subcommandsResolveFromArguments() throws {
        #expect(table.entry(forArguments: ["client", "list"])?.name == "CLIENT LIST")
        #expect(table.entry(forArguments: ["CONFIG", "get", "maxmemory"])?.name == "CONFIG GET")
        #expect(table.entry(forArguments: ["get", "list"])?.name == "GET")
        #expect(table.entry(forArguments: ["client", "nonsense"])?.name == "CLIENT")
        #expect(table.entry(forArguments: ["nosuchcommand"]) == nil)
    }

    /// Calls whose keys our key-spec walk must find exactly where the server's own
    /// `COMMAND GETKEYS` finds them.
    static let keyedCalls: [[String]] = [
        ["SET", "k", "v"], ["MSET", "a", "1", "b", "2", "c", "3"], ["SINTER", "s1", "s2", "s3"],
        ["ZUNIONSTORE", "dst", "2", "z1", "z2", "WEIGHTS", "1", "2"], ["ZINTERCARD", "3", "a", "b", "c", "LIMIT", "5"],
        ["XREAD", "COUNT", "5", "STREAMS", "s1", "s2", "0", "0"], ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", ">"],
        ["EVAL", "return 1", "2", "k1", "k2", "a1"], ["GEORADIUS", "geo", "0", "0", "10", "km", "STORE", "dst"],
        ["LMOVE", "src", "dst", "LEFT", "RIGHT"], ["BLMPOP", "0", "2", "l1", "l2", "LEFT", "COUNT", "3"],
        ["SMOVE", "a", "b", "m"], ["RENAME", "old", "new"], ["COPY", "a", "b", "REPLACE"],
        ["MIGRATE", "127.0.0.1", "1", "", "0", "100", "KEYS", "k1", "k2"], ["BITOP", "AND", "dst", "a", "b"],
        ["OBJECT", "ENCODING", "k"], ["MEMORY", "USAGE", "k"], ["HSET", "h", "f", "v"], ["DEL", "a", "b", "c"],
        ["ZRANGESTORE", "dst", "src", "0", "-1"], ["SINTERCARD", "2", "a", "b"], ["LCS", "a", "b"],
    ]

    @Test("key positions from the table's key specs equal COMMAND GETKEYS", arguments: TestServer.Kind.allCases)
    func keyPositionsMatchTheServer(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let connection = try server.connect()
        for call in Self.keyedCalls {
            let reply = try connection.command(["COMMAND", "GETKEYS"] + call)
            guard let serverKeys = reply.strings else {
                Issue.record("\(kind): COMMAND GETKEYS \(call) failed: \(reply)")
                continue
            }
            let entry = try #require(table.entry(forArguments: call))
            let ours = entry.keyPositions(in: call).map { call[$0] }
            #expect(ours == serverKeys, "\(kind): \(call.joined(separator: " "))")
        }
    }
}
