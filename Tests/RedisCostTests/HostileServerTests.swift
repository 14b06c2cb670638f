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

/// `monitor`, `audit` and `explain` against a server that misbehaves (see HostileServer).
/// Whatever it sends, the tool ends with one line naming the server and the command and exit
/// status 1 (monitor: the report of what it saw, as for a lost connection), within the
/// timeout or the duration, in bounded memory; never a trap, a hang or growth without bound.
@Suite struct HostileServerTests {
    /// A command of the tool, and the first command it sends (which gets the hostile answer).
    struct Tool: Sendable, CustomStringConvertible {
        var arguments: [String]
        var first: [String]
        /// A reply of the wrong kind to one of its commands, and what the error names.
        var wrongKind: (command: [String], reply: String, label: String)
        var description: String { arguments[0] }
    }

    static let tools = [
        Tool(arguments: ["monitor", "--duration", "5s"], first: ["CLIENT", "SETNAME"], wrongKind: (["MONITOR"], "*0\r\n", "MONITOR")),
        Tool(arguments: ["audit"], first: ["SLOWLOG", "GET"], wrongKind: (["SLOWLOG", "GET"], "+OK\r\n", "SLOWLOG GET")),
        Tool(arguments: ["explain", "GET", "k"], first: ["TYPE"], wrongKind: (["TYPE"], ":1\r\n", "TYPE")),
    ]

    /// A hostile answer and words the error line must contain.
    struct Hostile: Sendable, CustomStringConvertible {
        var description: String
        var answer: HostileServer.Answer
        var says: String
        /// The `--timeout` the tool gets: 1 s where the answer is meant to run it out; longer where
        /// the answer ends the call by itself, so a loaded machine that is slow to run the fake's
        /// thread does not turn "the server closed the connection" into "no reply within 1 s".
        var timeout: String { says.contains("no complete reply within") ? "1" : "30" }
    }

    static let answers = [
        Hostile(description: "a RESP3 map of Int64.max pairs", answer: .bytes(Array("%9223372036854775807\r\n".utf8)),
                says: "9223372036854775807 pairs, more than a reply may hold"),
        Hostile(description: "100,000 nested arrays", answer: .bytes(Array((String(repeating: "*1\r\n", count: 100_000) + ":1\r\n").utf8)),
                says: "aggregates nested more than 128 deep"),
        Hostile(description: "a blob error of length -5", answer: .bytes(Array("!-5\r\nERR x\r\n".utf8)), says: "negative length -5"),
        Hostile(description: "a blob error of length 9223372036854775800", answer: .bytes(Array("!9223372036854775800\r\n".utf8)),
                says: "a string of 9223372036854775800 bytes, more than proto-max-bulk-len"),
        Hostile(description: "an integer beyond 64 bits", answer: .bytes(Array(":99999999999999999999\r\n".utf8)), says: "overflows 64 bits"),
        Hostile(description: "a bulk string beyond proto-max-bulk-len", answer: .bytes(Array("$536870913\r\n".utf8)),
                says: "a string of 536870913 bytes, more than proto-max-bulk-len"),
        Hostile(description: "an array count no reply could hold", answer: .bytes(Array("*1099511627776\r\n".utf8)),
                says: "1099511627776 elements, more than a reply may hold"),
        Hostile(description: "a close in the middle of a reply", answer: .bytesThenClose(Array("$100\r\nabc".utf8)),
                says: "the server closed the connection"),
        Hostile(description: "a line that never ends", answer: .endless(prefix: Array("+".utf8), chunk: Array(repeating: UInt8(ascii: "x"), count: 65536), pause: 0),
                says: "a line longer than 65536 bytes"),
        // Bytes keep coming, slowly, for a reply that never completes: the timeout covers the whole reply.
        Hostile(description: "a reply that never ends",
                answer: .endless(prefix: Array("*4000000\r\n".utf8), chunk: Array(String(repeating: "+" + String(repeating: "x", count: 1000) + "\r\n", count: 64).utf8), pause: 0.005),
                says: "no complete reply within 1 s"),
        Hostile(description: "no reply at all", answer: .silence, says: "no complete reply within 1 s"),
    ]

    /// What starting the tool costs on this machine right now (`redis-cost --help`, no server):
    /// the time bounds below are the tool's own deadlines plus this, so a loaded machine's slow
    /// process start does not count against them.
    static func startupSeconds() -> Double {
        (try? runCLI(["--help"]).seconds) ?? 0
    }

    /// One line on stderr, `redis-cost: <server>: <command>: …`, within the time and memory bounds.
    static func expectOneLine(_ result: CLIResult, _ server: HostileServer, command: String, says: String,
                              status: Int32 = 1, seconds: Double = 3) {
        #expect(result.status == status, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("redis-cost: \(server.name): \(command)"), "\(result.stderr)")
        #expect(result.stderr.contains(says), "\(result.stderr)")
        #expect(result.seconds < seconds + Self.startupSeconds())
        #expect(result.maxResidentBytes < 256 << 20, "peak \(result.maxResidentBytes >> 20) MB")
    }

    @Test("a hostile reply to the first command: one line naming the server and the command, exit 1, on time",
          arguments: tools, answers)
    func hostileReply(tool: Tool, hostile: Hostile) throws {
        let server = try HostileServer { $0.starts(with: tool.first) ? hostile.answer : nil }
        defer { server.stop() }
        let result = try runCLI(tool.arguments + ["-p", String(server.port), "--timeout", hostile.timeout])
        Self.expectOneLine(result, server, command: tool.first.joined(separator: " ") + ":", says: hostile.says)
    }

    @Test("a reply of the wrong kind is an error naming the command", arguments: tools)
    func wrongKind(tool: Tool) throws {
        let server = try HostileServer { $0.starts(with: tool.wrongKind.command) ? .bytes(Array(tool.wrongKind.reply.utf8)) : nil }
        defer { server.stop() }
        let result = try runCLI(tool.arguments + ["-p", String(server.port), "--timeout", "1"])
        Self.expectOneLine(result, server, command: tool.wrongKind.label + ":", says: "expected")
    }

    /// A fake whose MONITOR stream is `stream` (after the +OK).
    static func monitoring(_ stream: HostileServer.Answer, script: @escaping HostileServer.Script = { _ in nil }) throws -> HostileServer {
        try HostileServer { argv in
            guard argv == ["MONITOR"] else { return script(argv) }
            let ok = Array("+OK\r\n".utf8)
            switch stream {
            case .bytes(let b): return .bytes(ok + b)
            case .bytesThenClose(let b): return .bytesThenClose(ok + b)
            case .endless(let prefix, let chunk, let pause): return .endless(prefix: ok + prefix, chunk: chunk, pause: pause)
            case .silence: return .bytes(ok)
            }
        }
    }

    static func call(_ time: String, _ argv: String = #""GET" "k""#) -> String { "+\(time) [0 127.0.0.1:5555] \(argv)\r\n" }

    static func report(_ result: CLIResult) throws -> AnalysisReport.Document {
        try decodeReport(AnalysisReport.Document.self, result.stdout)
    }

    @Test("a MONITOR line that never ends: the report of what was seen, one line, exit 1, bounded memory")
    func endlessMonitorLine() throws {
        let server = try Self.monitoring(.endless(prefix: Array((Self.call("1700000000.000000") + #"+1700000000.000001 [0 127.0.0.1:5555] "SET" "k" ""#).utf8),
                                                  chunk: Array(repeating: UInt8(ascii: "x"), count: 65536), pause: 0))
        defer { server.stop() }
        let result = try runCLI(["monitor", "-p", String(server.port), "--timeout", "1", "--format", "json"])
        Self.expectOneLine(result, server, command: "the MONITOR connection failed: a MONITOR line longer than 64 MB",
                           says: "the report covers the 1 calls seen before", seconds: 10)
        let live = try #require(try Self.report(result).live)
        #expect(live.connectionLost)
    }

    @Test("INFO commandstats and SLOWLOG answered out of range or of the wrong kind: the session goes on, the report names the server and the command")
    func hostileMeasurements() throws {
        let server = try Self.monitoring(.bytes(Array(Self.call("1700000000.000000").utf8))) { argv in
            switch argv.prefix(2).map({ $0.uppercased() }) {
            case ["INFO", "COMMANDSTATS"]: .bytes(HostileServer.bulk("cmdstat_get:calls=99999999999999999999999,usec=1\r\n"))
            case ["SLOWLOG", "GET"]: .bytes(Array(":5\r\n".utf8))
            default: nil
            }
        }
        defer { server.stop() }
        let result = try runCLI(["monitor", "-p", String(server.port), "--timeout", "1", "--duration", "1s", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        let report = try Self.report(result)
        let measured = try #require(report.measuredTime)
        #expect(measured.unavailable == "\(server.name): INFO commandstats: line 1: calls and usec must be integers from 0 to 2^53")
        #expect(measured.commands.isEmpty && measured.total.measuredMicroseconds == nil)
        #expect(report.serverLog?.unavailable == "\(server.name): SLOWLOG GET 1: expected an array, got an integer")
    }

    @Test("--duration against a stream that never pauses: it ends on time")
    func endlessStream() throws {
        let lines = String(repeating: Self.call("1700000000.000000"), count: 1000)
        let server = try Self.monitoring(.endless(prefix: [], chunk: Array(lines.utf8), pause: 0))
        defer { server.stop() }
        let result = try runCLI(["monitor", "-p", String(server.port), "--timeout", "1", "--duration", "2s", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.seconds < 4.5 + Self.startupSeconds())
        #expect(result.maxResidentBytes < 256 << 20, "peak \(result.maxResidentBytes >> 20) MB")
        let live = try #require(try Self.report(result).live)
        #expect(live.endReason == "--duration reached (calls still arriving after the stop were left out)")
    }

    @Test("--duration against a stream of status lines that are not calls: it ends on time, the lines counted as malformed")
    func endlessNonsense() throws {
        let server = try Self.monitoring(.endless(prefix: [], chunk: Array(String(repeating: "+nonsense\r\n", count: 1000).utf8), pause: 0))
        defer { server.stop() }
        let result = try runCLI(["monitor", "-p", String(server.port), "--timeout", "1", "--duration", "2s", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.seconds < 4.5 + Self.startupSeconds())
        let monitor = try Self.report(result).monitor
        #expect(monitor.malformedLines > 1000)
    }

    @Test("a MONITOR stream that is not MONITOR output ends the session at once")
    func foreignStream() throws {
        let server = try Self.monitoring(.endless(prefix: Array(Self.call("1700000000.000000").utf8),
                                                  chunk: Array(String(repeating: "$5\r\nhello\r\n", count: 1000).utf8), pause: 0))
        defer { server.stop() }
        let result = try runCLI(["monitor", "-p", String(server.port), "--timeout", "1", "--duration", "5s", "--format", "json"])
        Self.expectOneLine(result, server, command: "the MONITOR connection failed: the server sent a line that is not MONITOR output",
                           says: "the report covers the 1 calls seen before")
    }

    @Test("a sampler that stops answering while the stream flows: sampling ends, the session ends on time")
    func stalledSampler() throws {
        // HGETALL's cost needs the hash's size: the sampler asks for it.
        let lines = String(repeating: Self.call("1700000000.000000", #""HGETALL" "k""#), count: 1000)
        let server = try Self.monitoring(.endless(prefix: [], chunk: Array(lines.utf8), pause: 0)) { argv in
            argv.first == "TYPE" ? .silence : nil
        }
        defer { server.stop() }
        let result = try runCLI(["monitor", "-p", String(server.port), "--timeout", "1", "--duration", "2s", "--format", "json"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.seconds < 4.5 + Self.startupSeconds())
        let live = try #require(try Self.report(result).live)
        #expect((live.samplingDisabled ?? "").contains("TYPE: no complete reply within 1 s"), "\(live)")
    }

    @Test("timestamps of 14 digits, and clocks that jump back and forth, arriving live")
    func hostileTimestamps() throws {
        var lines = Self.call("99999999999999.000000", #""SET" "k" "v""#) + Self.call("9223372036854775807.000000")
        for _ in 0..<40 { lines += Self.call("999999999999.999999") + Self.call("0.000000") }
        let server = try Self.monitoring(.bytesThenClose(Array(lines.utf8)))
        defer { server.stop() }
        let result = try runCLI(["monitor", "-p", String(server.port), "--timeout", "1", "--format", "json"])
        Self.expectOneLine(result, server, command: "the server closed the MONITOR connection", says: "the report covers the 80 calls seen before")
        let monitor = try Self.report(result).monitor
        #expect(monitor.malformedLines == 2)
    }

    @Test("numbers no option can take are one usage line, never a trap", arguments: [
        ["monitor", "--timeout", "1e19"], ["audit", "--timeout", "inf"], ["explain", "GET", "k", "-p", "1", "--timeout", "nan"],
        ["monitor", "--duration", "99999999999h"], ["monitor", "--sample-rate", "-1"], ["monitor", "--top", "9223372036854775807"],
        ["monitor", "--count", "99999999999999999999"], ["audit", "--port", "99999999999999999999"],
    ])
    func absurdOptions(arguments: [String]) throws {
        let result = try runCLI(arguments)
        #expect(result.status == 2, "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stderr.hasPrefix("redis-cost: \(arguments[arguments.count - 2]) takes"), "\(result.stderr)")
    }
}

/// Replies of the right kind holding numbers no server could have: the tools do not trap on
/// them (Int of 1e300, a loop up to a count the server gives, sums past 64 bits).
@Suite struct HostileNumbersTests {
    static func entry(_ id: Int, value: String) -> String {
        "*6\r\n:\(id)\r\n:1700000000\r\n:\(value)\r\n*2\r\n$7\r\nHGETALL\r\n$1\r\nh\r\n$15\r\n127.0.0.1:50000\r\n$0\r\n\r\n"
    }

    @Test("audit: absurd numbers in INFO, CONFIG and SLOWLOG make a report, not a trap or a hang")
    func audit() throws {
        let info = ["# Server", "redis_version:7.0.15", "uptime_in_seconds:1e300", "# Clients", "connected_clients:1e300",
                    "rejected_connections:-1e300", "# Memory", "used_memory:nan", "used_memory_rss:inf", "mem_fragmentation_ratio:1e308",
                    "# Replication", "role:master", "connected_slaves:1000000000000000", "master_repl_offset:5",
                    "slave0:ip=10.0.0.2,port=6380,state=online,offset=1e300,lag=99999999999999999999",
                    "# Commandstats", "cmdstat_set:calls=1e300,usec=1", "cmdstat_hset:calls=1e308,usec=1"].joined(separator: "\r\n")
        let config = ["maxmemory", "1e300", "maxmemory-policy", "noeviction", "maxclients", "-1e300", "appendonly", "yes",
                      "appendfsync", "always", "auto-aof-rewrite-percentage", "nan"]
        let server = try HostileServer { argv in
            switch argv.prefix(2).joined(separator: " ") {
            case "INFO everything": return .bytes(HostileServer.bulk(info))
            case "CONFIG GET": return .bytes(Array(("*\(config.count)\r\n" + config.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()).utf8))
            case "SLOWLOG GET": return .bytes(Array(("*3\r\n" + Self.entry(1, value: "9223372036854775807") + Self.entry(2, value: "9223372036854775807")
                                                     + Self.entry(3, value: "-5")).utf8))
            case "SLOWLOG LEN": return .bytes(Array(":-9223372036854775808\r\n".utf8))
            default: return nil
            }
        }
        defer { server.stop() }
        let result = try runCLI(["audit", "-p", String(server.port), "--timeout", "1"])
        #expect(result.status == 0, "\(result.stderr)")
        // Printed as the whole numbers they claim to be; the replica listed is read, not 10^15 of them.
        #expect(result.stdout.contains("- maxmemory 10000000000000000525047602552044202487044685811081591549158541"), "\(result.stdout.prefix(3000))")
        #expect(result.stdout.contains("- replica 10.0.0.2:6380 state online, -1000000000000000052504760255"))
        #expect(result.seconds < 3)
    }

    @Test("explain: a size no key could have is an error naming the command")
    func explain() throws {
        let server = try HostileServer { argv in
            switch argv.first {
            case "TYPE": return .bytes(HostileServer.status("hash"))
            case "HLEN": return .bytes(Array(":-5\r\n".utf8))
            default: return nil
            }
        }
        defer { server.stop() }
        let result = try runCLI(["explain", "HGETALL", "h", "-p", String(server.port), "--timeout", "1"])
        #expect(result.status == 1)
        #expect(result.stderr == "redis-cost: \(server.name): HLEN: expected a size from 0 to 2^48, got the integer -5\n")
    }
}
