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

/// MONITOR captures: parsing every shape a server prints, and replaying real captures.
@Suite struct MonitorTests {
    func parse(_ text: String) -> [(line: MonitorReader.MonitorLine?, argv: [[UInt8]], client: String)] {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { raw in
            let reader = MonitorReader(bytes: raw, file: "capture.txt")
            var argv = Argv()
            var out: [(MonitorReader.MonitorLine?, [[UInt8]], String)] = []
            while true {
                switch reader.next(into: &argv) {
                case .end: return out
                case .skipped: continue
                case .malformed(let line, let reason): out.append((nil, [Array(reason.utf8)], "line \(line)"))
                case .call(let line):
                    out.append((line, (0..<argv.count).map { argv.bytes($0) }, String(decoding: reader.client(of: line), as: UTF8.self)))
                }
            }
        }
    }

    /// A timestamp's digits are counted from where they end: up to 15 for the seconds (leading
    /// zeros count), a fraction shorter than six digits scaled, a seventh fraction digit malformed.
    @Test func timestampDigitsAreCountedWhereTheyEnd() {
        let lines = parse("""
            000000000000007.5 [0 c] "GET" "k"
            0000000000000007.5 [0 c] "GET" "k"
            9223372036853.000001 [0 c] "GET" "k"
            7.0000001 [0 c] "GET" "k"
            .5 [0 c] "GET" "k"
            7. [0 c] "GET" "k"

            """)
        let read = lines.map { $0.line.map { "\($0.microseconds)" } ?? String(decoding: $0.argv[0], as: UTF8.self) }
        #expect(read == ["7500000", "expected a timestamp", "9223372036853000001", "expected \" [db client]\"",
                         "expected a timestamp", "7000000"])
    }

    @Test func everyShapeAServerPrints() {
        let lines = parse("""
            OK
            1795566245.170983 [0 127.0.0.1:39822] "SET" "k" "v"
            1795566246.321304 [0 lua] "SCARD" "small:set"
            1795566245.178240 [3 unix:/var/run/redis/redis.sock] "GET" "a b"
            1795566245.178241 [0 [::1]:6380] "AUTH" "(redacted)"
            1795566245.374125 [0 127.0.0.1:39854] "SET" "bin:\\x00\\xff\\r\\n\\"q\\\\" "\\x00\\x01value\\xff"
            1795566245.374642 [0 127.0.0.1:39850] "SET" "\\xed\\x95\\x9c\\xea\\xb8\\x80:\\xed\\x82\\xa4" "\\t\\a\\b"
            not a monitor line
            1795566245.1 [0 x] "GET" "unterminated

            """)
        #expect(lines.count == 8)
        #expect(lines[0].line?.microseconds == 1_795_566_245_170_983)
        #expect(lines[0].argv == [Array("SET".utf8), Array("k".utf8), Array("v".utf8)])
        #expect(lines[0].client == "127.0.0.1:39822")
        #expect(lines[1].line?.isScript == true)
        #expect(lines[2].line?.database == 3)
        #expect(lines[2].client == "unix:/var/run/redis/redis.sock")
        #expect(lines[2].argv[1] == Array("a b".utf8))
        #expect(lines[3].client == "[::1]:6380")
        #expect(lines[3].argv[1] == Array("(redacted)".utf8))
        #expect(lines[4].argv[1] == [98, 105, 110, 58, 0, 0xFF, 13, 10, 34, 113, 92])
        #expect(lines[4].argv[2] == [0, 1] + Array("value".utf8) + [0xFF])
        #expect(String(decoding: lines[5].argv[1], as: UTF8.self) == "한글:키")
        #expect(lines[5].argv[2] == [9, 7, 8])
        #expect(lines[6].line == nil && lines[6].client == "line 8")
        #expect(lines[7].line == nil && lines[7].client == "line 9")
        #expect(lines.compactMap(\.line).map(\.lineNumber) == [2, 3, 4, 5, 6, 7])
    }

    @Test("a line without escapes is read in place; with escapes, unescaped; a malformed one says why and where")
    func argumentsInPlaceAndUnescaped() {
        let prefix = "1795566245.000001 [0 127.0.0.1:1] "
        func read(_ arguments: String) -> (argv: [[UInt8]], inPlace: Bool, malformed: String?) {
            let bytes = Array((prefix + arguments + "\n").utf8)
            return bytes.withUnsafeBytes { raw in
                let reader = MonitorReader(bytes: raw, file: "capture.txt")
                var argv = Argv()
                switch reader.next(into: &argv) {
                case .call:
                    let inPlace = (0..<argv.count).allSatisfy { i in
                        let argument = argv[i]
                        return argument.count == 0 || (argument.baseAddress! >= raw.baseAddress! && argument.baseAddress! < raw.baseAddress! + raw.count)
                    }
                    return ((0..<argv.count).map { argv.bytes($0) }, inPlace, nil)
                case .malformed(_, let reason): return ([], false, reason)
                case .skipped, .end: return ([], false, "no line")
                }
            }
        }
        let plain = read(#""SET" "a b:]c" "" "{x}""#)
        #expect(plain.argv == [Array("SET".utf8), Array("a b:]c".utf8), [], Array("{x}".utf8)])
        #expect(plain.inPlace)
        let escaped = read(#""SET" "k\"\\" "\x41\n""#)
        #expect(escaped.argv == [Array("SET".utf8), Array("k\"\\".utf8), [65, 10]])
        #expect(!escaped.inPlace)
        // A trailing space ends the arguments as the server never writes it, but harmlessly.
        #expect(read(#""GET" "k" "#).argv == [Array("GET".utf8), Array("k".utf8)])
        let column = prefix.utf8.count
        for (arguments, reason) in [
            (#""GET" "k"#, "an unterminated argument"),
            (#""GET" "k\""#, "an unterminated argument"),
            (#""GET""k""#, "expected a space between arguments at column \(column + 6)"),
            (#""GET" k"#, "expected '\"' at column \(column + 7)"),
            (#""GET" "k\"#, "a backslash at the end of the line"),
            (#""GET" "\x4g""#, "a bad \\x escape at column \(column + 8)"),
            (#""GET" "\x4"#, "a bad \\x escape at column \(column + 8)"),
            (#""GET" "\x""#, "a bad \\x escape at column \(column + 8)"),
        ] {
            #expect(read(arguments).malformed == reason, "\(arguments)")
        }
        // Both ways read the same arguments: a plain line, and the same line with an escaped
        // argument added, which takes the unescaping way.
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<200 {
            let count = Int.random(in: 1...6, using: &generator)
            let arguments = (0..<count).map { _ in
                String((0..<Int.random(in: 0...12, using: &generator)).map { _ in
                    Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &generator)))
                }.filter { $0 != "\"" && $0 != "\\" })
            }
            let line = arguments.map { "\"\($0)\"" }.joined(separator: " ")
            let inPlace = read(line)
            let unescaped = read(line + #" "\\""#)
            #expect(inPlace.inPlace && !unescaped.inPlace)
            #expect(inPlace.argv == arguments.map { Array($0.utf8) })
            #expect(unescaped.argv == inPlace.argv + [[UInt8(ascii: "\\")]])
        }
    }

    @Test("replaying a generated run's capture from an empty data set gives its final state", arguments: ReplayTests.runs)
    func runCaptureReplaysExactly(run: String) throws {
        let (state, _, result) = try captureState(runFolder(run).appendingPathComponent("monitor.txt").path)
        let truth = try loadTruth(runFolder(run).appendingPathComponent("final-state.json"))
        #expect(differences(state, truth) == [:])
        #expect(result.malformedLines == 0)
        // Every call the server counted (INFO commandstats) is a call here, per command.
        struct Stat: Decodable { var calls: Int? }
        let stats = try JSONDecoder().decode([String: [String: Stat]].self,
                                             from: Data(contentsOf: runFolder(run).appendingPathComponent("commandstats.json")))
        func calls(_ side: String, _ name: String) -> Int { stats[side]?["cmdstat_" + name]?.calls ?? 0 }
        for command in ["sadd", "hset", "zadd", "set", "get", "exec", "multi", "sinter", "keys", "scan", "del", "lrange"] {
            let ours = result.commands.first { $0.name == command.uppercased() }?.calls ?? 0
            // The capture starts after INFO commandstats of "before" and ends before "after".
            #expect(ours == calls("after", command) - calls("before", command), "\(run) \(command)")
        }
    }

    @Test func withoutABaselineKeysFromBeforeTheCaptureAreUnknown() throws {
        let path = runFolder("redis-7.0.15").appendingPathComponent("monitor.txt").path
        let cli = try runCLI(["analyze", path, "--format", "json"])
        #expect(cli.status == 0)
        let report = try decodeReport(AnalysisReport.Document.self, cli.stdout)
        #expect(report.monitor.callsOnKeysOfUnknownSize > 0)
        #expect(report.monitor.scripts == 6)
        // A read that only MONITOR shows, with the exact size of the set it touched.
        let smembers = try #require(report.topCalls.first { $0.command == "SMEMBERS" })
        let truthSize = try Self.sizeInFinalState(run: "redis-7.0.15", key: "big:set:1")
        #expect(smembers.keys == ["big:set:1"])
        #expect((smembers.sizes.first ?? nil) ?? 0 > 0)
        #expect(smembers.line != nil && smembers.offset == nil)
        _ = truthSize
        #expect(report.clients.contains { $0.client == "lua" })
        #expect(report.clients.contains { $0.client.hasPrefix("unix:") })
        #expect(!report.slowestCalls.isEmpty)
        // The workload's 500 SADDs to after:set make it the hottest key; counted from the file.
        let capture = try String(contentsOf: URL(fileURLWithPath: path), encoding: .utf8)
        let lines = capture.split(separator: "\n")
        let afterSetCalls = lines.filter { $0.contains("] \"SADD\" \"after:set\"") }.count
        let hot = report.hotKeys
        #expect(hot.first?.key == "after:set")
        #expect(hot.first?.calls == afterSetCalls)
        #expect(hot.first?.writes == afterSetCalls)
        #expect(hot.first?.reads == 0)
    }

    static func sizeInFinalState(run: String, key: String) throws -> Int? {
        try loadTruth(runFolder(run).appendingPathComponent("final-state.json"))["0"]?[KeyText.hexString(Array(key.utf8))]?.size
    }

    @Test func aBaselineSnapshotMakesEverySizeKnown() throws {
        // The capture of a live server, with the server's dump taken before it as baseline.
        let server = try TestServer(.redis7)
        let c = try server.connect()
        _ = try c.pipeline([["SADD", "pre:set"] + (0..<500).map { "m\($0)" }, ["RPUSH", "pre:list"] + (0..<300).map(String.init), ["SAVE"]])
        let capture = server.directory.appendingPathComponent("capture.txt")
        // A capture as redis-cli prints it, of calls on those keys.
        let text = """
            OK
            1795566245.000001 [0 127.0.0.1:5000] "SMEMBERS" "pre:set"
            1795566245.000101 [0 127.0.0.1:5000] "LINDEX" "pre:list" "150"
            1795566245.000201 [0 127.0.0.1:5001] "SADD" "pre:set" "new"
            1795566245.000301 [0 127.0.0.1:5001] "SCARD" "pre:set"

            """
        try Data(text.utf8).write(to: capture)
        let withBaseline = try runCLI(["analyze", capture.path, "--baseline", server.directory.appendingPathComponent("dump.rdb").path, "--format", "json"])
        #expect(withBaseline.status == 0, "\(withBaseline.stderr)")
        let totals = try decodeReport(AnalysisReport.Document.self, withBaseline.stdout).totals
        #expect(totals.calls == 4)
        #expect(totals.unknownCostCalls == 0)
        // SMEMBERS 500 + LINDEX depth 150 of 300 (150) + SADD 1 + SCARD 1
        #expect(totals.cost == 652)
        let without = try runCLI(["analyze", capture.path, "--format", "json"])
        #expect(try decodeReport(AnalysisReport.Document.self, without.stdout).totals.unknownCostCalls == 2)
    }
}
