import Foundation
import Testing
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport
#if canImport(Glibc)
import Glibc
#endif

/// Sizes of module keys (RedisJSON, RedisBloom, RedisTimeSeries, vector sets) read live with
/// the O(1) commands the table says measure each type, against Redis 8.2.3 with the Redis
/// Stack modules loaded.
@Suite struct LiveModuleTests {
    /// A key of every module type, made before the session, and the size the server itself
    /// gives for it (nil: no O(1) command counts it — a JSON scalar).
    struct ModuleKey {
        var name: String
        var type: String
        var truth: [String]
        /// The field of `truth`'s reply that holds the count, for a map reply.
        var field: String?
    }

    static let keys: [ModuleKey] = [
        .init(name: "json:object", type: "ReJSON-RL", truth: ["JSON.OBJLEN", "json:object", "$"]),
        .init(name: "json:array", type: "ReJSON-RL", truth: ["JSON.ARRLEN", "json:array", "$"]),
        .init(name: "bf:seen", type: "MBbloom--", truth: ["BF.CARD", "bf:seen"]),
        .init(name: "cf:seen", type: "MBbloomCF", truth: ["CF.INFO", "cf:seen"], field: "Number of items inserted"),
        .init(name: "topk:pages", type: "TopK-TYPE", truth: ["TOPK.INFO", "topk:pages"], field: "k"),
        .init(name: "cms:hits", type: "CMSk-TYPE", truth: ["CMS.INFO", "cms:hits"], field: "count"),
        .init(name: "td:latency", type: "TDIS-TYPE", truth: ["TDIGEST.INFO", "td:latency"], field: "Observations"),
        .init(name: "ts:temp", type: "TSDB-TYPE", truth: ["TS.INFO", "ts:temp"], field: "totalSamples"),
        .init(name: "vs:items", type: "vectorset", truth: ["VCARD", "vs:items"]),
    ]

    /// Makes the keys (and a JSON scalar document, whose size stays unknown) with sizes that
    /// differ from one another.
    static func makeKeys(_ c: RedisConnection) throws {
        var setup: [[String]] = [
            ["JSON.SET", "json:object", "$", #"{"name": "ada", "tags": ["a", "b"], "age": 36, "city": "x", "n": null}"#],
            ["JSON.SET", "json:array", "$", "[" + (1...13).map(String.init).joined(separator: ",") + "]"],
            ["JSON.SET", "json:scalar", "$", "42"],
            ["BF.RESERVE", "bf:seen", "0.01", "1000"], ["BF.MADD", "bf:seen"] + (0..<40).map { "item\($0)" },
            ["CF.RESERVE", "cf:seen", "64"],
            ["TOPK.RESERVE", "topk:pages", "7"], ["TOPK.ADD", "topk:pages"] + (0..<30).map { "/p\($0 % 9)" },
            ["CMS.INITBYDIM", "cms:hits", "50", "4"], ["CMS.INCRBY", "cms:hits", "a", "3", "b", "5"],
            ["TDIGEST.CREATE", "td:latency"], ["TDIGEST.ADD", "td:latency"] + (0..<25).map { String(Double($0) * 1.5) },
            ["TS.CREATE", "ts:temp"],
        ]
        setup += (0..<21).map { ["CF.ADD", "cf:seen", "v\($0)"] }
        setup += (0..<300).map { ["TS.ADD", "ts:temp", String(1_700_000_000_000 + $0 * 1000), String($0 % 10)] }
        setup += (0..<17).map { ["VADD", "vs:items", "VALUES", "3", String($0), "1", "2", "e\($0)"] }
        for reply in try c.pipeline(setup) {
            if case .error(let message) = reply { throw TestServer.StartError(description: "setup: \(message)") }
        }
    }

    /// The server's own count for each key, read with the module's documented command.
    static func truths(_ c: RedisConnection) throws -> [String: Int] {
        var sizes: [String: Int] = [:]
        for key in keys {
            let reply = try c.require(key.truth)
            if let field = key.field {
                let items = try #require(reply.array)
                let at = try #require(stride(from: 0, to: items.count, by: 2).first { items[$0].text == field })
                sizes[key.name] = items[at + 1].int
            } else {
                sizes[key.name] = reply.int ?? reply.array?.first?.int
            }
        }
        return sizes
    }

    /// What the sampler may send: the handshake and watch commands of every live session, `TYPE`,
    /// and the O(1) commands the table says measure a type.
    static func allowedSamplerCommands(_ table: CommandTable) -> Set<String> {
        // The session's own reads beside the sampler's: INFO commandstats, the slow log and its
        // threshold (ServerMeasurements), bounded whatever the data set.
        var allowed: Set<String> = ["TYPE", "CLIENT|SETNAME", "CLIENT|INFO", "CLIENT|ID", "CLIENT|LIST", "MONITOR", "INFO", "ECHO",
                                    "DBSIZE", "SELECT", "PING", "SLOWLOG|GET", "COMMANDLOG|GET", "CONFIG|GET"]
        for entries in table.measuringEntries.values { for i in entries { allowed.insert(table.entries[i].name.replacingOccurrences(of: " ", with: "|")) } }
        return allowed
    }

    @Test("a live session samples every module key with the table's O(1) command, at the server's own count, and sends nothing else")
    func liveSessionSamplesModuleKeys() throws {
        let table = try CommandTable.embedded()
        let server = try TestServer.redis8WithModules()
        let setup = try server.connect()
        try Self.makeKeys(setup)
        let truth = try Self.truths(setup)
        #expect(truth == ["json:object": 5, "json:array": 13, "bf:seen": 40, "cf:seen": 21, "topk:pages": 7, "cms:hits": 8,
                          "td:latency": 25, "ts:temp": 300, "vs:items": 17])
        let before = try LiveMonitorTests.commandStats(setup)

        let session = try LiveMonitorTests.Session(server)
        let work = try server.connect()
        // DUMP costs the key's items: its size is needed, and only the sampler can know it.
        _ = try work.pipeline((Self.keys.map(\.name) + ["json:scalar"]).map { ["DUMP", $0] })
        // The same keys again, after the measurement point: the model's size, no new sample.
        _ = try work.pipeline([["DUMP", "ts:temp"], ["DUMP", "json:array"]])
        #expect(session.stop() == 0, "\(session.errors)")
        let after = try LiveMonitorTests.commandStats(setup)
        let report = try session.json
        let live = try #require(report.live)

        try LiveMonitorTests.expectCallsMatchServer(report, before: before, after: after, testINFOCalls: 1, session: session)
        #expect(live.samplingDisabled == nil)
        #expect(live.keysSampled == Self.keys.count + 1)
        for key in Self.keys {
            let dumps = report.topCalls.filter { $0.command == "DUMP" && $0.keys.first == key.name }
            let expected = key.name == "ts:temp" || key.name == "json:array" ? 2 : 1
            #expect(dumps.map { $0.sizes.first ?? nil } == Array(repeating: truth[key.name], count: expected), "\(key.name)")
        }
        // A JSON scalar has no length: its size stays unknown, so its DUMP has no cost to rank.
        #expect(!report.topCalls.contains { $0.keys.first == "json:scalar" })

        // The sampler sent TYPE and the measuring commands, once per key, and nothing else.
        let sent = live.toolCommands
        #expect(Set(sent.keys).isSubset(of: Self.allowedSamplerCommands(table)), "\(sent)")
        #expect(sent["TYPE"] == Self.keys.count + 1)
        #expect(sent["JSON.OBJLEN"] == 3 && sent["JSON.ARRLEN"] == 3)
        for command in ["BF.CARD", "CF.INFO", "TOPK.INFO", "CMS.INFO", "TDIGEST.INFO", "TS.INFO", "VCARD"] {
            #expect(sent[command] == 1, "\(command)")
        }
        for name in sent.keys.map({ $0.lowercased() }) where !["client|setname", "client|info", "client|id", "client|list", "monitor", "info", "echo"].contains(name) {
            // Each of them is the server's own count: the delta of its commandstats.
            #expect(after[name, default: 0] - before[name, default: 0] == sent[name.uppercased()], "\(name)")
        }
    }

    @Test("analyze capture.txt --sample reads module keys' sizes with the same O(1) commands")
    func captureSampledFromAServerWithModules() throws {
        let server = try TestServer.redis8WithModules()
        let setup = try server.connect()
        try Self.makeKeys(setup)
        let truth = try Self.truths(setup)
        let capture = server.directory.appendingPathComponent("capture.txt").path
        let cli = try Spawned("/usr/bin/redis-cli", ["-p", String(server.port), "monitor"], stdout: capture)
        for _ in 0..<400 where try LiveMonitorTests.monitorClientID(setup) == nil { usleep(10_000) }
        _ = try setup.pipeline(Self.keys.map { ["DUMP", $0.name] })
        usleep(200_000)
        cli.stop()
        let before = try LiveMonitorTests.commandStats(setup)

        let run = try runCLI(["analyze", capture, "--format", "json", "--sample", "-p", String(server.port)])
        #expect(run.status == 0, "\(run.stderr)")
        let after = try LiveMonitorTests.commandStats(setup)
        let report = try decodeReport(AnalysisReport.Document.self, run.stdout)
        for key in Self.keys {
            #expect(report.topCalls.first { $0.keys.first == key.name }.flatMap { $0.sizes.first ?? nil } == truth[key.name], "\(key.name)")
        }
        // Between the two INFO commandstats, only the sampler ran: TYPE and the measuring commands.
        var ran = after.merging(before.mapValues { -$0 }, uniquingKeysWith: +).filter { $0.value != 0 }
        ran["info", default: 0] -= 1
        ran = ran.filter { $0.value != 0 }
        #expect(Set(ran.keys.map { $0.uppercased() }).isSubset(of: Self.allowedSamplerCommands(try CommandTable.embedded())), "\(ran)")
        #expect(ran["type"] == Self.keys.count && ran["ts.info"] == 1 && ran["json.objlen"] == 2 && ran["json.arrlen"] == 2)
    }
}

/// The measuring commands of the table and how their replies are read, without a server.
@Suite struct SizeMeasureTests {
    /// Runs the sampler over canned replies: TYPE's, then the size commands'.
    static func sample(_ types: [String], _ replies: [RESPValue]) throws(ServerError) -> [SampledKey] {
        let table = try! CommandTable.embedded()
        return try sampleSizes(types.indices.map { Array("k\($0)".utf8) }, table: table, server: "test:1") { (round, commands) throws(ServerError) in
            round == 0 ? types.map { .simple($0) } : Array(replies.prefix(commands.count))
        }.map(\.sample)
    }

    @Test("every type TYPE names has its measuring command in the table, each documented O(1)")
    func measuringCommands() throws {
        let table = try CommandTable.embedded()
        let names = table.measuringEntries.mapValues { $0.map { table.entries[$0].name } }
        #expect(names == ["string": ["STRLEN"], "list": ["LLEN"], "set": ["SCARD"], "zset": ["ZCARD"], "hash": ["HLEN"],
                          "stream": ["XLEN"], "vectorset": ["VCARD"], "ReJSON-RL": ["JSON.ARRLEN", "JSON.OBJLEN"],
                          "MBbloom--": ["BF.CARD"], "MBbloomCF": ["CF.INFO"], "CMSk-TYPE": ["CMS.INFO"], "TDIS-TYPE": ["TDIGEST.INFO"],
                          "TopK-TYPE": ["TOPK.INFO"], "TSDB-TYPE": ["TS.INFO"]])
        for i in table.measuringEntries.values.joined() {
            #expect(table.entries[i].complexity?.hasPrefix("O(1)") == true, "\(table.entries[i].name)")
            #expect(table.entries[i].keySpecs.count == 1 && Argv.with([Array(table.entries[i].name.utf8), Array("k".utf8)]) { table.keyPositions(of: i, in: $0) } == [1])
        }
    }

    @Test("a measures object is read strictly and written back as the table holds it")
    func measuresDecoding() throws {
        func decode(_ semantics: String) throws -> CommandSemantics {
            let text = #"{"commands": [{"name": "X.INFO", "group": "x", "complexity": "O(1)", "formula": "1", "semantics": "# + semantics + "}]}"
            return try #require(try CommandTableJSON.decode(text, source: "test").first).semantics
        }
        let field = try decode(#"{"measures": {"type": "TSDB-TYPE", "reply": {"field": "totalSamples"}}}"#)
        #expect(field.measures == .init(type: "TSDB-TYPE", reply: .field("totalSamples")))
        #expect(field.json == #"{"measures": {"type": "TSDB-TYPE", "reply": {"field": "totalSamples"}}}"#)
        let path = #"{"measures": {"type": "ReJSON-RL", "arguments": ["$"], "reply": "perPath"}}"#
        #expect(try decode(path).json == path)
        #expect(try decode(#"{"measures": {"type": "string", "unit": "bytes"}}"#).measures?.unit == .bytes)
        for wrong in [#"{"measures": {"type": "x", "units": "bytes"}}"#, #"{"measures": {"type": "x", "reply": "map"}}"#,
                      #"{"measures": {"type": "x", "unit": "pages"}}"#, #"{"measures": {"type": ""}}"#,
                      #"{"measures": {"type": "x", "reply": {"field": "a", "at": "b"}}}"#] {
            #expect(throws: (any Error).self, "\(wrong)") { try decode(wrong) }
        }
        // Two commands measuring one type must both say which of them applies (perPath).
        let twice = #"{"commands": [{"name": "A", "group": "x", "formula": "1", "semantics": {"measures": {"type": "t"}}}, {"name": "B", "group": "x", "formula": "1", "semantics": {"measures": {"type": "t"}}}]}"#
        #expect(throws: CommandTable.MeasureConflict.self) { try CommandTable(entries: CommandTableJSON.decode(twice, source: "test")) }
    }

    @Test("replies: integers, a field of a flat array or a map, one value per path; anything else is a one-line error")
    func replies() throws {
        let flat = RESPValue.array([.bulk(Array("memoryUsage".utf8)), .integer(4184), .bulk(Array("totalSamples".utf8)), .integer(30)])
        #expect(try Self.sample(["TSDB-TYPE"], [flat]) == [SampledKey(type: "TSDB-TYPE", size: .elements(30))])
        let map = RESPValue.map([(.simple("count"), .integer(8))])
        #expect(try Self.sample(["CMSk-TYPE"], [map]).map(\.size) == [.elements(8)])
        #expect(try Self.sample(["string", "none", "MBbloom--"], [.integer(11), .integer(40)]).map(\.size) == [.bytes(11), .missing, .elements(40)])
        // JSON: ARRLEN then OBJLEN (table order); the one answering gives the size, all nil stays unknown.
        #expect(try Self.sample(["ReJSON-RL", "ReJSON-RL"], [.array([.null]), .array([.integer(3)]), .array([.null]), .array([.null])])
            .map(\.size) == [.elements(3), .unknown])
        // A type no command measures stays unknown, never 0.
        #expect(try Self.sample(["some-module-type"], []).map(\.size) == [.unknown])

        func failure(_ type: String, _ replies: [RESPValue]) -> String? {
            do {
                _ = try Self.sample([type], replies)
                return nil
            } catch {
                return error.description
            }
        }
        let tooLarge = RESPValue.integer(1 << 48 + 1)
        #expect(failure("MBbloom--", [tooLarge]) == "test:1: BF.CARD: expected a size from 0 to 2^48, got the integer 281474976710657")
        #expect(failure("MBbloom--", [.integer(-1)])?.contains("BF.CARD") == true)
        #expect(failure("TSDB-TYPE", [.array([.bulk(Array("totalSamples".utf8)), .integer(-5)])])?.contains("TS.INFO: expected \"totalSamples\"") == true)
        #expect(failure("TSDB-TYPE", [.array([.bulk(Array("chunkCount".utf8)), .integer(1)])])?.contains("TS.INFO: expected a reply with the field \"totalSamples\"") == true)
        #expect(failure("TSDB-TYPE", [.bulk(Array("x".utf8))])?.contains("TS.INFO") == true)
        #expect(failure("ReJSON-RL", [.array([.null, .integer(1)]), .array([.null])]) == "test:1: JSON.ARRLEN: expected one value for the path, got an array")
        #expect(failure("ReJSON-RL", [.array([.null]), .array([tooLarge])])?.contains("JSON.OBJLEN") == true)
        #expect(failure("MBbloomCF", [.error("ERR not found")]) == "test:1: CF.INFO: ERR not found")
        #expect(failure("TopK-TYPE", [.integer(5)]) == "test:1: TOPK.INFO: expected a reply with the field \"k\", got the integer 5")
    }
}
