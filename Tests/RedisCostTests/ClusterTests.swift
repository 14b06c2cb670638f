import Foundation
import Testing
import RedisCostCore
import RedisCostFormats
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport
#if canImport(Glibc)
import Glibc
#endif

/// Redis Cluster on real local three-primary clusters: a workload through redis-py's
/// RedisCluster, every primary's MONITOR capture analysed as one, counted exactly per node.
@Suite(.serialized) struct ClusterTests {
    /// Report names (`CLIENT SETINFO`) as commandstats names them (`client|setinfo`).
    static func statName(_ name: String) -> String { name.lowercased().replacingOccurrences(of: " ", with: "|") }

    /// `redis-cli -p PORT monitor > capture` on one node, attached once the node lists it.
    struct Capture {
        let process: Spawned
        let path: String
        let server: TestServer
        var polls = 0

        init(_ server: TestServer, path: String) throws {
            self.server = server
            self.path = path
            process = try Spawned(try TestCluster.redisCLI(), ["-p", String(server.port), "monitor"], stdout: path)
            let control = try server.connect()
            for _ in 0..<400 {
                polls += 1
                if try LiveMonitorTests.monitorClientID(control) != nil { return }
                usleep(10_000)
            }
            throw TestServer.StartError(description: "redis-cli monitor did not attach to \(server.port)")
        }

        /// Ends the capture once `marker` (an ECHO sent after the workload) is in it.
        func finish(marker: String) throws {
            _ = try server.connect().require(["ECHO", marker])
            for _ in 0..<1000 {
                if let text = try? String(contentsOfFile: path, encoding: .utf8), text.contains(marker) { break }
                usleep(10_000)
            }
            kill(process.pid, SIGTERM)
            _ = process.wait()
        }
    }

    @Test("analyze of every primary's capture: per-node calls exact against each node's commandstats, the big hash sized from its node's baseline",
          arguments: [TestServer.Kind.redis7, .redis8, .valkey9])
    func analyzeCaptures(kind: TestServer.Kind) throws {
        let cluster = try TestCluster(kind)
        try cluster.workload(["load"])
        let scratch = cluster.nodes[0].directory
        var baselines: [String] = []
        for (i, node) in cluster.nodes.enumerated() {
            try node.run(["SAVE"])
            let copy = scratch.appendingPathComponent("baseline-\(i).rdb").path
            try FileManager.default.copyItem(atPath: node.directory.appendingPathComponent("dump.rdb").path, toPath: copy)
            baselines.append(copy)
        }
        let before = try cluster.nodes.map { try LiveMonitorTests.commandStats(try $0.connect()) }
        let captures = try cluster.nodes.enumerated().map { i, node in
            try Capture(node, path: scratch.appendingPathComponent("capture-\(i).txt").path)
        }
        try cluster.workload(["work", "3"])
        // This INFO shows in the capture; the one before the captures is in the delta: they cancel.
        let after = try cluster.nodes.map { try LiveMonitorTests.commandStats(try $0.connect()) }
        for capture in captures { try capture.finish(marker: "redis-cost-end") }

        let run = try runCLI(["analyze"] + captures.map(\.path) + baselines.flatMap { ["--baseline", $0] } + ["--format", "json", "--top", "100000"])
        #expect(run.status == 0, "\(run.stderr)")
        expectValidReport(run.stdout, "analyze of three captures")
        let report = try decodeReport(AnalysisReport.Document.self, run.stdout)
        let nodes = try #require(report.cluster?.nodes)
        #expect(nodes.map(\.address) == captures.map(\.path))
        for (i, node) in nodes.enumerated() {
            var expected = after[i].merging(before[i].mapValues { -$0 }, uniquingKeysWith: +)
            expected["monitor", default: 0] -= 1                 // redis-cli's MONITOR: an admin command, never shown
            expected["client|list", default: 0] -= captures[i].polls
            expected["echo", default: 0] += 1                    // the end marker, after the last INFO
            expected = expected.filter { $0.value != 0 }
            var counted: [String: Int] = [:]
            for (name, calls) in node.commands { counted[Self.statName(name), default: 0] += calls }
            #expect(counted == expected, "node \(i) (port \(cluster.nodes[i].port))")
            #expect(node.calls == counted.values.reduce(0, +))
            #expect(node.lost == nil)
        }
        #expect(report.totals.calls == nodes.reduce(0) { $0 + $1.calls })
        // The hash lives on one node; its size comes from that node's baseline.
        let hgetall = report.topCalls.filter { $0.command == "HGETALL" && $0.keys == ["big:hash"] }
        #expect(hgetall.count == 3)
        #expect(hgetall.allSatisfy { $0.sizes == [20000] })
        #expect(report.topCalls.filter { $0.command == "LRANGE" }.allSatisfy { $0.sizes == [700] })
        let hashNode = try #require(report.cluster?.hotSlots.first { slot in slot.keys.contains { $0.key == "big:hash" } }?.node)
        #expect(nodes.first { $0.address == hashNode }?.commands["HGETALL"] == 3)
        #expect(report.cluster?.crossSlotCalls == 0)
        // The markdown walks the same values.
        let markdown = try runCLI(["analyze"] + captures.map(\.path) + baselines.flatMap { ["--baseline", $0] })
        #expect(markdown.stdout.contains("## Cluster: 3 nodes"))
        #expect(markdown.stdout.contains("### Hottest slots"))
    }

    @Test("a standalone capture analysed as two nodes counts the multi-key calls a cluster refuses; --baseline is one per capture")
    func crossSlotAndBaselineCount() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let a = dir.appendingPathComponent("a.txt").path, b = dir.appendingPathComponent("b.txt").path
        try """
            1700000000.000001 [0 127.0.0.1:5000] "MSET" "x" "1" "y" "2"
            1700000000.000003 [0 127.0.0.1:5000] "MGET" "{t}a" "{t}b"
            1700000000.000005 [0 127.0.0.1:5000] "SUNION" "s1" "s2"

            """.write(toFile: a, atomically: true, encoding: .utf8)
        try """
            1700000000.000002 [0 127.0.0.1:6000] "SADD" "s3" "m"
            1700000000.000004 [0 127.0.0.1:6000] "GET" "k"

            """.write(toFile: b, atomically: true, encoding: .utf8)
        let run = try runCLI(["analyze", a, b, "--baseline", "empty", "--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        let report = try decodeReport(AnalysisReport.Document.self, run.stdout)
        let cluster = try #require(report.cluster)
        #expect(cluster.nodes.map(\.calls) == [3, 2])
        #expect(cluster.crossSlotCalls == 2)
        #expect(cluster.crossSlotByCommand == ["MSET": 1, "SUNION": 1])
        #expect(report.totals.calls == 5)
        let wrong = try runCLI(["analyze", a, b, "--baseline", "empty", "--baseline", "empty", "--baseline", "empty"])
        #expect(wrong.status == 2)
        #expect(wrong.stderr.contains("one per capture"))
        // One input: no cluster section.
        let one = try runCLI(["analyze", a, "--format", "json"])
        #expect(try decodeReport(AnalysisReport.Document.self, one.stdout).cluster == nil)
    }

    /// `redis-cost monitor --cluster` against node 0, attached once every primary lists a monitor client.
    struct ClusterSession {
        let process: Spawned
        let report: String
        let stderr: String
        /// The test's CLIENT LIST calls per node while waiting (admin commands: MONITOR never shows them).
        var polls: [Int]

        init(_ cluster: TestCluster) throws {
            let scratch = cluster.nodes[0].directory.path
            report = scratch + "/cluster-report-\(UUID().uuidString).json"
            stderr = scratch + "/cluster-stderr-\(UUID().uuidString).txt"
            // --duration only bounds the session; the test stops it with SIGTERM once the workload is done.
            process = try Spawned(try builtBinary.path, ["monitor", "--cluster", "-p", String(cluster.nodes[0].port), "--duration", "120s",
                                                          "--format", "json", "-o", report, "--top", "100000"], stderr: stderr)
            polls = Array(repeating: 0, count: cluster.nodes.count)
            for (i, node) in cluster.nodes.enumerated() {
                let control = try node.connect()
                var attached = false
                for _ in 0..<1000 where !attached {
                    polls[i] += 1
                    attached = try LiveMonitorTests.monitorClientID(control) != nil
                    if !attached { usleep(10_000) }
                }
                guard attached else {
                    throw TestServer.StartError(description: "monitor --cluster did not attach to \(node.port): " + ((try? String(contentsOfFile: stderr, encoding: .utf8)) ?? ""))
                }
            }
        }

        func stop() -> Int32 {
            kill(process.pid, SIGTERM)
            return process.wait()
        }

        var json: AnalysisReport.Document {
            get throws {
                let text = try String(contentsOf: URL(fileURLWithPath: report), encoding: .utf8)
                expectValidReport(text, "monitor --cluster --format json")
                return try decodeReport(AnalysisReport.Document.self, text)
            }
        }
    }

    /// A node's calls by commandstats name, from the report.
    static func counted(_ node: AnalysisReport.Cluster.Node) -> [String: Int] {
        var counted: [String: Int] = [:]
        for (name, calls) in node.commands { counted[statName(name), default: 0] += calls }
        return counted
    }

    /// The server's delta less the tool's own commands on the node, the test's polls and its first INFO.
    static func expected(before: [String: Int], after: [String: Int], tool: [String: Int], polls: Int) -> [String: Int] {
        var expected = after.merging(before.mapValues { -$0 }, uniquingKeysWith: +)
        for (name, count) in tool { expected[name.lowercased(), default: 0] -= count }
        expected["client|list", default: 0] -= polls
        expected["info", default: 0] -= 1      // the test's own read before the session
        return expected.filter { $0.value != 0 }
    }

    /// `CLUSTER SLOT-STATS SLOTSRANGE 0 16383`'s cpu-usec per slot the node serves, read by the test
    /// itself (RESP2: `[[slot, [name, value, …]], …]`).
    static func slotCPU(_ node: TestServer) throws -> [Int: Int] {
        guard case .array(let items) = try node.connect().require(["CLUSTER", "SLOT-STATS", "SLOTSRANGE", "0", "16383"]) else { return [:] }
        var out: [Int: Int] = [:]
        for item in items {
            guard case .array(let pair) = item, pair.count == 2, let slot = pair[0].int, case .array(let fields) = pair[1] else { continue }
            for i in stride(from: 0, to: fields.count - 1, by: 2) where fields[i].text == "cpu-usec" { out[slot] = fields[i + 1].int }
        }
        return out
    }

    /// The workload's commands on a node (its stream's, by commandstats name), less the wrappers
    /// (EVAL: its time holds its calls', which count on their own) and the test's own INFO polls.
    static func workloadCommands(_ node: AnalysisReport.Cluster.Node) -> Set<String> {
        Set(counted(node).keys).subtracting(["eval", "info"])
    }

    /// A node's measured calls as the test's own commandstats deltas give them: each workload
    /// command's delta less the tool's calls of it, and the one INFO poll that saw the tool's
    /// first read (it ran inside the window and the stream shows it).
    static func measuredCalls(_ node: AnalysisReport.Cluster.Node, before: [String: Int], after: [String: Int]) -> Int {
        let tool = Dictionary((node.toolCommands ?? [:]).map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: +)
        return workloadCommands(node).reduce(1) { $0 + (after[$1] ?? 0) - (before[$1] ?? 0) - (tool[$1] ?? 0) }
    }

    @Test("monitor --cluster: every primary watched at once, per-node calls exact against each node's commandstats less the tool's own; each node's measured calls and time beside its estimate; on servers with CLUSTER SLOT-STATS each hot slot's CPU time exact",
          arguments: [TestServer.Kind.redis7, .redis8, .valkey9])
    func monitorCluster(kind: TestServer.Kind) throws {
        let slotStats = kind != .redis7
        let cluster = try TestCluster(kind, arguments: slotStats ? ["--cluster-slot-stats-enabled", "yes"] : [])
        try cluster.workload(["load"])
        // Every node logs calls of 100 µs or more: the HGETALLs of the 20,000-field hash are.
        for node in cluster.nodes { _ = try node.connect().require(["CONFIG", "SET", "slowlog-log-slower-than", "100"]) }
        // The test's own SLOT-STATS read first: the commandstats read after it counts it.
        let slotsBefore = try slotStats ? cluster.nodes.map(Self.slotCPU) : []
        let before = try cluster.nodes.map { try LiveMonitorTests.commandStats(try $0.connect()) }
        let session = try ClusterSession(cluster)
        // The whole workload inside every node's measured window: each node's first commandstats read is done.
        for (i, node) in cluster.nodes.enumerated() { try MeasuredTimeTests.waitForFirstRead(try node.connect(), infoBefore: before[i]["info"] ?? 0) }
        try cluster.workload(["work", "3"])
        let status = session.stop()
        let stderr = (try? String(contentsOfFile: session.stderr, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(stderr)")
        let after = try cluster.nodes.map { try LiveMonitorTests.commandStats(try $0.connect()) }
        let slotsAfter = try slotStats ? cluster.nodes.map(Self.slotCPU) : []
        let report = try session.json
        let nodes = try #require(report.cluster?.nodes)
        #expect(Set(nodes.map(\.address)) == Set(cluster.nodes.map { "127.0.0.1:\($0.port)" }))
        for (i, server) in cluster.nodes.enumerated() {
            let node = try #require(nodes.first { $0.address == "127.0.0.1:\(server.port)" })
            let tool = try #require(node.toolCommands)
            #expect(Self.counted(node) == Self.expected(before: before[i], after: after[i], tool: tool, polls: session.polls[i]), "node \(server.port)")
            #expect(node.calls == Self.counted(node).values.reduce(0, +))
            #expect(node.lost == nil)
            // The server's figures beside the estimate: its calls exact, its time and the estimate of the same calls known.
            #expect(node.measuredCalls == Self.measuredCalls(node, before: before[i], after: after[i]), "node \(server.port): \(node.measuredNote ?? "")")
            #expect(node.measuredMicroseconds.map { $0 > 0 } == true)
            #expect(node.windowEstimatedMicroseconds.map { $0 > 0 } == true)
            #expect(node.ratio != nil)
            #expect(node.joined == nil)
        }
        // Each hot slot's CPU time is the server's own delta, read by the test before and after the session.
        let hotSlots = try #require(report.cluster?.hotSlots)
        #expect(!hotSlots.isEmpty)
        #expect(hotSlots.allSatisfy { $0.estimatedMicroseconds > 0 })
        if slotStats {
            #expect(report.cluster?.slotStats?.hasPrefix("CLUSTER SLOT-STATS cpu-usec, the end's less the start's, on 3 of 3 nodes") == true, "\(report.cluster?.slotStats ?? "")")
            for slot in hotSlots {
                let owner = try #require(cluster.nodes.firstIndex { "127.0.0.1:\($0.port)" == slot.node })
                let delta = try #require(slotsAfter[owner][slot.slot]) - (try #require(slotsBefore[owner][slot.slot]))
                #expect(slot.measuredMicroseconds == delta, "slot \(slot.slot)")
            }
            #expect(hotSlots.contains { ($0.measuredMicroseconds ?? 0) > 0 })
        } else {
            #expect(report.cluster?.slotStats == "Not read: CLUSTER SLOT-STATS needs Valkey 8.0+ or Redis 8.2+ (redis-7.0.15).")
            #expect(hotSlots.allSatisfy { $0.measuredMicroseconds == nil })
        }
        // The markdown sets the server's time beside the estimate, per node and per slot.
        let markdown = try #require(report.cluster).markdown
        #expect(markdown.contains("| Node | Calls | Share of calls | Cost | Share of cost | Est. time | Calls (server) | Time (server) | Est. time, same window | Server ÷ est. | Top commands | Lost |"))
        #expect(markdown.contains("| Slot | Node | Calls | Cost | Est. time | CPU time (server) | Server ÷ est. | Top keys |"))
        #expect(report.totals.calls == nodes.reduce(0) { $0 + $1.calls })
        // Keys from before the session are sized by the sampler of the node that owns them.
        let hgetall = report.topCalls.filter { $0.command == "HGETALL" && $0.keys == ["big:hash"] }
        #expect(hgetall.count == 3)
        #expect(hgetall.allSatisfy { $0.sizes == [20000] })
        #expect(report.topCalls.filter { $0.command == "LRANGE" }.allSatisfy { $0.sizes == [700] })
        #expect(report.live?.connectionLost == false)
        // Every node's slow log, as one: the hash's HGETALLs logged by its node, matched to their estimates.
        let hashNode = try #require(report.cluster?.hotSlots.first { slot in slot.keys.contains { $0.key == "big:hash" } }?.node)
        let log = try #require(report.serverLog)
        #expect(log.unavailable == nil && log.partlyUnavailable.isEmpty && log.thresholdMicroseconds == 100)
        let logged = log.slowestLogged.filter { $0.command == "HGETALL" && $0.keys == ["big:hash"] }
        #expect(logged.count == 3 && logged.allSatisfy { $0.node == hashNode && $0.estimatedMicroseconds != nil }, "\(log.slowestLogged.map { ($0.command, $0.node) })")
        let matched = log.costliest.filter { $0.command == "HGETALL" && $0.keys == ["big:hash"] }
        #expect(matched.count == 3 && matched.allSatisfy { $0.entryNode == hashNode && $0.loggedMicroseconds != nil })
        #expect(log.slowestLogged.allSatisfy { $0.node != nil })

        // explain asked of every node: the ones that do not own the hash follow MOVED to the one that does.
        for server in cluster.nodes {
            let run = try runCLI(["explain", "HGETALL", "big:hash", "-p", String(server.port), "--format", "json"])
            #expect(run.status == 0, "\(run.stderr)")
            let explained = try decodeReport(ExplainReport.Document.self, run.stdout)
            #expect(explained.sizes == [20000], "explain via \(server.port): \(explained.sizeSource)")
        }
    }

    @Test("monitor --cluster: a primary killed mid-session is reported lost with its calls before it went; the others stay exact, exit 0")
    func monitorClusterLosesANode() throws {
        let cluster = try TestCluster(.redis7)
        try cluster.workload(["load"])
        let before = try cluster.nodes.map { try LiveMonitorTests.commandStats(try $0.connect()) }
        let session = try ClusterSession(cluster)
        try cluster.workload(["work", "2"])
        let victim = cluster.nodes[2]
        // Everything the victim ran has left its MONITOR output buffer before it goes.
        let control = try victim.connect()
        var drained = 0
        for _ in 0..<500 {
            drained += 1
            let list = try control.require(["CLIENT", "LIST"]).text ?? ""
            let monitor = list.split(separator: "\n").map(clientFields).first { $0["flags"]?.contains("O") == true }
            if monitor?["omem"] == "0" { break }
            usleep(10_000)
        }
        let victimStats = try LiveMonitorTests.commandStats(control)
        victim.stop()
        let status = session.stop()
        let stderr = (try? String(contentsOfFile: session.stderr, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(stderr)")
        let report = try session.json
        let nodes = try #require(report.cluster?.nodes)
        for (i, server) in cluster.nodes.enumerated() {
            let node = try #require(nodes.first { $0.address == "127.0.0.1:\(server.port)" })
            let tool = try #require(node.toolCommands)
            if i == 2 {
                let lost = try #require(node.lost)
                #expect(lost.afterCalls == node.calls)
                // Its server figures end before its calls do: unknown, never 0.
                #expect(node.measuredCalls == nil && node.measuredMicroseconds == nil && node.ratio == nil)
                #expect(node.calls > 0)
                // The workload's commands exactly (the tool's sampler commands and admin commands go on after the read above).
                var expected = Self.expected(before: before[i], after: victimStats, tool: [:], polls: session.polls[i] + drained)
                expected = expected.filter { tool[$0.key.uppercased()] == nil && $0.key != "info" }
                #expect(Self.counted(node).filter { tool[$0.key.uppercased()] == nil } == expected, "lost node \(server.port)")
                #expect(report.live?.endReason.contains("127.0.0.1:\(server.port)") == true)
                // The markdown's Cluster table says so in the node's row, in its Lost column.
                let markdown = try #require(report.cluster).markdown
                let row = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("| `127.0.0.1:\(server.port)` |") })
                #expect(row.hasSuffix(": \(lost.reason) |"), "\(row)")
                #expect(row.contains("| after \(grouped(lost.afterCalls)) calls"), "\(row)")
            } else {
                let after = try LiveMonitorTests.commandStats(try server.connect())
                #expect(Self.counted(node) == Self.expected(before: before[i], after: after, tool: tool, polls: session.polls[i]), "node \(server.port)")
                #expect(node.lost == nil)
            }
        }
        #expect(report.live?.connectionLost == false)
    }

    @Test("monitor --cluster: a replica that takes over from a killed primary is found, watched from then on and named in the report; its calls exact")
    func monitorClusterFollowsFailover() throws {
        let cluster = try TestCluster(.redis7)
        let victim = cluster.nodes[2]
        let replica = try cluster.addReplica(of: victim)
        try cluster.workload(["load"])
        let before = try cluster.nodes.map { try LiveMonitorTests.commandStats(try $0.connect()) }
        let session = try ClusterSession(cluster)
        for (i, node) in cluster.nodes.enumerated() { try MeasuredTimeTests.waitForFirstRead(try node.connect(), infoBefore: before[i]["info"] ?? 0) }
        try cluster.workload(["work", "2"])
        // Everything the victim wrote has reached the replica before it goes: the replica's counters stand still until the session watches it.
        #expect(try victim.connect().require(["WAIT", "1", "5000"]).int == 1)
        let control = try replica.connect()
        let replicaBefore = try LiveMonitorTests.commandStats(control)
        victim.stop()
        _ = try control.require(["CLUSTER", "FAILOVER", "TAKEOVER"])
        // The cluster has the replica as the primary of the victim's slots, as every live node sees it.
        let replicaAddress = "127.0.0.1:\(replica.port)", victimAddress = "127.0.0.1:\(victim.port)"
        for node in [cluster.nodes[0], cluster.nodes[1], replica] {
            let connection = try node.connect()
            var promoted = false
            for _ in 0..<400 where !promoted {
                let slots = try ClusterTopology.fromSlots(try connection.require(["CLUSTER", "SLOTS"]), seedHost: "127.0.0.1", server: "test")
                let state = parseInfo(try connection.require(["CLUSTER", "INFO"]).text ?? "")["cluster_state"]
                promoted = slots.contains { $0.address == replicaAddress } && !slots.contains { $0.address == victimAddress } && state == "ok"
                if !promoted { usleep(25_000) }
            }
            #expect(promoted, "node \(node.port) never saw \(replicaAddress) take over")
        }
        // The session reads the topology again (every 2 s, and when a node goes away) and starts watching the new primary.
        var watching = false
        for _ in 0..<1000 where !watching {
            watching = try LiveMonitorTests.monitorClientID(control) != nil
            if !watching { usleep(10_000) }
        }
        #expect(watching, "monitor --cluster never watched \(replicaAddress)")
        try MeasuredTimeTests.waitForFirstRead(control, infoBefore: replicaBefore["info"] ?? 0)
        // The workload goes on through the new topology.
        try cluster.workload(["work", "2"])
        let status = session.stop()
        let stderr = (try? String(contentsOfFile: session.stderr, encoding: .utf8)) ?? ""
        #expect(status == 0, "\(stderr)")
        let replicaAfter = try LiveMonitorTests.commandStats(control)
        let report = try session.json
        let nodes = try #require(report.cluster?.nodes)
        #expect(nodes.count == 4)

        // The victim: lost, its server figures unknown (never 0).
        let lost = try #require(nodes.first { $0.address == victimAddress })
        #expect(lost.lost != nil)
        #expect(lost.measuredCalls == nil && lost.measuredMicroseconds == nil)
        #expect(lost.measuredNote?.contains("watched no longer") == true)
        // The new primary: named, with the node it replaced, and its workload calls exact against its own commandstats.
        let promoted = try #require(nodes.first { $0.address == replicaAddress })
        let joined = try #require(promoted.joined)
        #expect(joined.replacing == [victimAddress])
        #expect(promoted.lost == nil)
        let tool = Dictionary((promoted.toolCommands ?? [:]).map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: +)
        let workload = Self.workloadCommands(promoted)
        #expect(workload.contains("get") && workload.contains("set"))
        for name in workload {
            #expect(Self.counted(promoted)[name] == (replicaAfter[name] ?? 0) - (replicaBefore[name] ?? 0) - (tool[name] ?? 0), "\(name) on the new primary")
        }
        #expect(promoted.measuredCalls == Self.measuredCalls(promoted, before: replicaBefore, after: replicaAfter), "\(promoted.measuredNote ?? "")")
        #expect(promoted.measuredMicroseconds != nil && promoted.windowEstimatedMicroseconds != nil)
        // The others, watched the whole session, stay exact.
        for (i, server) in cluster.nodes.enumerated() where i != 2 {
            let node = try #require(nodes.first { $0.address == "127.0.0.1:\(server.port)" })
            let after = try LiveMonitorTests.commandStats(try server.connect())
            #expect(Self.counted(node) == Self.expected(before: before[i], after: after, tool: try #require(node.toolCommands), polls: session.polls[i]), "node \(server.port)")
            #expect(node.measuredCalls == Self.measuredCalls(node, before: before[i], after: after))
        }
        #expect(report.live?.connectionLost == false)
        let markdown = try #require(report.cluster).markdown
        #expect(markdown.contains("- `\(replicaAddress)` became primary at \(AnalysisReport.time(joined.time)), replacing `\(victimAddress)`; watched from then on."), "\(markdown)")
        let row = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("| `\(victimAddress)` |") })
        #expect(row.contains("| unknown | unknown |"), "\(row)")
    }

    @Test("CLUSTER SLOT-STATS replies: RESP2 and RESP3 read alike; counters out of range, slots outside 0…16383 and wrong shapes are one line; a counter that went down gives no delta")
    func slotStatsReplies() throws {
        func slot(_ n: Int64, _ fields: [(String, Int64)], map: Bool = false) -> RESPValue {
            let pairs = fields.map { (RESPValue.bulk(Array($0.0.utf8)), RESPValue.integer($0.1)) }
            return .array([.integer(n), map ? .map(pairs) : .array(pairs.flatMap { [$0.0, $0.1] })])
        }
        let start = try ClusterSlotStats.parse(.array([slot(1, [("key-count", 2), ("cpu-usec", 100)]), slot(7, [("key-count", 1), ("cpu-usec", 50)], map: true),
                                                       slot(9, [("key-count", 0), ("cpu-usec", 10)])]), server: "s")
        #expect(start.cpuCounted && start.keys == [1: 2, 7: 1, 9: 0] && start.cpuMicroseconds == [1: 100, 7: 50, 9: 10])
        let end = try ClusterSlotStats.parse(.array([slot(1, [("cpu-usec", 160)]), slot(7, [("cpu-usec", 40)])]), server: "s")
        // Slot 7 went down (a reset): no delta; slot 9 is gone (moved): no delta.
        #expect(start.cpuDelta(to: end) == [1: 60])
        // Without cluster-slot-stats-enabled: keys only.
        let keysOnly = try ClusterSlotStats.parse(.array([slot(3, [("key-count", 4)])]), server: "s")
        #expect(!keysOnly.cpuCounted && keysOnly.cpuMicroseconds.isEmpty)
        for (reply, detail) in [
            (RESPValue.array([slot(1, [("cpu-usec", Int64.max)])]), "cpu-usec of slot 1 must be an integer from 0 to 2^53"),
            (.array([slot(1, [("cpu-usec", -1)])]), "cpu-usec of slot 1 must be an integer from 0 to 2^53"),
            (.array([slot(16384, [("cpu-usec", 1)])]), "expected [slot, statistics] with a slot within 0…16383"),
            (.array([.array([.integer(1), .integer(2)])]), "expected a slot's statistics as name/value pairs, got an integer"),
            (.integer(3), "expected an array, got an integer"),
        ] {
            #expect(throws: ServerError(server: "s", command: "CLUSTER SLOT-STATS SLOTSRANGE 0 16383", detail: detail)) { try ClusterSlotStats.parse(reply, server: "s") }
        }
        #expect(ClusterSlotStats.isSupported(serverID: "valkey-8.0.0") && ClusterSlotStats.isSupported(serverID: "redis-8.2.3"))
        #expect(!ClusterSlotStats.isSupported(serverID: "redis-8.0.2") && !ClusterSlotStats.isSupported(serverID: "redis-7.0.15") && !ClusterSlotStats.isSupported(serverID: "valkey-7.2.5"))
    }

    // MARK: audit --cluster

    static func auditCluster(_ cluster: TestCluster, _ extra: [String] = []) throws -> (CLIResult, AuditReport.ClusterDocument) {
        let run = try runCLI(["audit", "--cluster", "-p", String(cluster.nodes[0].port), "--format", "json"] + extra)
        expectValidReport(run.stdout, "audit --cluster")
        return (run, try decodeReport(AuditReport.ClusterDocument.self, run.stdout))
    }

    /// The slots a node says it serves itself (its `myself` line of CLUSTER NODES).
    static func ownSlots(_ node: TestServer) throws -> [ClosedRange<Int>] {
        let text = try node.connect().require(["CLUSTER", "NODES"]).text ?? ""
        return try #require(try ClusterSnapshot.parseNodes(text, server: "test").first(where: \.isMyself)).slots
    }

    @Test("audit --cluster: a section per primary in cluster mode; skew with exact DBSIZE figures; a slot range deleted on its owner is named, critical",
          arguments: TestServer.Kind.allCases)
    func auditCluster(kind: TestServer.Kind) throws {
        let cluster = try TestCluster(kind)
        try cluster.workload(["load"])
        let addresses = cluster.nodes.map { "127.0.0.1:\($0.port)" }

        // Healthy: every primary audited, all slots served, the keys spread too thinly to matter.
        var (run, report) = try Self.auditCluster(cluster)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(report.primaries.map(\.address).sorted() == addresses.sorted())
        #expect(report.primaries.allSatisfy { $0.audit?.info.mode == "cluster" && $0.audit?.version == kind.serverID && $0.unreachable == nil })
        #expect(report.primaries.allSatisfy { $0.role == "primary" && $0.primary == nil } && report.replicas.isEmpty)
        #expect(report.uncoveredSlots.isEmpty)
        for server in cluster.nodes {
            let primary = try #require(report.primaries.first { $0.address == "127.0.0.1:\(server.port)" })
            #expect(primary.keys == (try server.connect().require(["DBSIZE"])).int)
            #expect(primary.ownSlots.map { $0.map { $0.first...$0.last } } == (try Self.ownSlots(server)))
        }
        let rules = Set(report.findings.map(\.rule))
        #expect(!rules.contains("cluster-slots") && !rules.contains("cluster-node-fail") && !rules.contains("cluster-key-skew"))
        // cluster-slot-stats-enabled exists on Redis 8.2+ and Valkey 8.0+; Redis 7.0 has no such setting, so no finding.
        let slotStats = report.findings.first { $0.rule == "cluster-slot-stats" }
        if kind == .redis7 {
            #expect(slotStats == nil)
        } else {
            #expect(Set(slotStats?.evidence.compactMap(\.note) ?? []) == Set(addresses.map { "\($0) cluster-slot-stats-enabled no" }))
        }
        let markdown = try runCLI(["audit", "-c", "-p", String(cluster.nodes[0].port)])
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("# redis-cost audit of the cluster of 127.0.0.1:\(cluster.nodes[0].port) (3 primaries, from CLUSTER SHARDS)\n"))
        for address in addresses { #expect(markdown.stdout.contains("\n## Node `\(address)` (\(kind.serverID))\n")) }
        #expect(markdown.stdout.contains("cluster mode, role "))

        // Skew: 5,000 keys hash-tagged to a slot of node 2.
        let heavy = cluster.nodes[2]
        let owned = try Self.ownSlots(heavy)
        let tag = try #require((0..<100_000).lazy.map { "{n\($0)}" }.first { tag in
            let slot = Array(tag.utf8).withUnsafeBytes { hashSlot($0) }
            return owned.contains { $0.contains(slot) }
        })
        _ = try heavy.connect().pipeline((0..<5000).map { ["SET", "\(tag):\($0)", "v"] })
        (run, report) = try Self.auditCluster(cluster)
        #expect(run.status == 0, "\(run.stderr)")
        let sizes = try cluster.nodes.map { try #require(try $0.connect().require(["DBSIZE"]).int) }
        let skew = try #require(report.findings.first { $0.rule == "cluster-key-skew" })
        #expect(Set(skew.evidence.compactMap(\.note)) == Set(zip(addresses, sizes).map { "\($0) DBSIZE \($1)" }))
        #expect(skew.summary.hasPrefix("127.0.0.1:\(heavy.port) holds \(grouped(sizes[2])) keys"))
        #expect(report.primaries.first { $0.address == "127.0.0.1:\(heavy.port)" }?.keys == sizes[2])

        // A range deleted on the primary that serves it: no primary serves it now, whatever the seed thinks.
        let victim = cluster.nodes[1]
        let first = try #require(try Self.ownSlots(victim).first).lowerBound
        _ = try victim.connect().require(["CLUSTER", "DELSLOTSRANGE", String(first), String(first + 99)])
        (run, report) = try Self.auditCluster(cluster, ["--fail-on", "critical"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(report.uncoveredSlots.map { $0.first...$0.last } == [first...(first + 99)])
        let uncovered = try #require(report.findings.first { $0.rule == "cluster-slots" })
        #expect(uncovered.severity == .critical)
        #expect(uncovered.evidence.compactMap(\.note) == ["uncovered slots \(first)-\(first + 99) (100)"])
        #expect(uncovered.summary == "100 of 16384 slots are served by no primary that answered: \(first)-\(first + 99).")
        #expect(run.stderr.contains("cluster-slots"))
    }

    /// Polls `condition` every 25 ms, at most `tries` times; whether it came true.
    static func poll(_ tries: Int = 400, _ condition: () throws -> Bool) rethrows -> Bool {
        for _ in 0..<tries {
            if try condition() { return true }
            usleep(25_000)
        }
        return false
    }

    /// The flags `observer` gives the node at `address` in its CLUSTER NODES (empty when it does not list it).
    static func flags(of address: String, seenBy observer: TestServer) throws -> [String] {
        let text = try observer.connect().require(["CLUSTER", "NODES"]).text ?? ""
        return try ClusterSnapshot.parseNodes(text, server: "test").first { $0.address == address }?.flags ?? []
    }

    @Test("audit --cluster with a replica: audited in its own section as the replica of its primary, the other primaries named as without one; stopped, it is reported unreachable and the audit goes on, exit status as --fail-on says")
    func auditClusterReplicas() throws {
        let cluster = try TestCluster(.redis7)
        try cluster.workload(["load"])
        let primary = cluster.nodes[0]
        let replica = try cluster.addReplica(of: primary)
        let primaryAddress = "127.0.0.1:\(primary.port)", replicaAddress = "127.0.0.1:\(replica.port)"
        // The primary lists it as its own (gossip after the replication link is up), and it has every write.
        let primaryID = try #require(try primary.connect().require(["CLUSTER", "MYID"]).text)
        #expect(try Self.poll { try primary.connect().require(["CLUSTER", "NODES"]).text?.contains(" slave \(primaryID) ") == true },
                "\(primaryAddress) never listed \(replicaAddress) as its replica")
        #expect(try primary.connect().require(["WAIT", "1", "5000"]).int == 1)

        var (run, report) = try Self.auditCluster(cluster)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(report.primaries.allSatisfy { $0.role == "primary" && $0.primary == nil && $0.unreachable == nil })
        #expect(report.replicas.count == 1)
        let node = try #require(report.replicas.first)
        #expect(node.address == replicaAddress && node.role == "replica" && node.primary == primaryAddress && node.unreachable == nil)
        #expect(node.slots.isEmpty && node.ownSlots == nil && node.link == "up")
        #expect(node.audit?.info.role == "slave" && node.audit?.info.mode == "cluster" && node.audit?.version == TestServer.Kind.redis7.serverID)
        let primaryKeys = try #require(try primary.connect().require(["DBSIZE"]).int)
        #expect(node.keys == primaryKeys && report.primaries.first { $0.address == primaryAddress }?.keys == primaryKeys)
        // The replica's own audit: its per-server replication rule sees it linked to its primary.
        let replicationLag = try #require(node.audit?.findings.first { $0.rule == "replication-lag" })
        #expect(replicationLag.evidence.compactMap(\.note).contains("role replica of 127.0.0.1:\(primary.port), master_link_status up"))
        // The other two primaries have none: named with the slots that cannot fail over.
        let replication = try #require(report.findings.first { $0.rule == "cluster-replication" })
        #expect(replication.severity == .warning)
        // In the order the seed's CLUSTER SHARDS lists the primaries, as the report does.
        let others = report.primaries.map(\.address).filter { $0 != primaryAddress }
        let alone = try others.map { address in
            let server = try #require(cluster.nodes.first { "127.0.0.1:\($0.port)" == address })
            return "\(address) has no replica: its slots \(try Self.ownSlots(server).map(ClusterAudit.slots).joined(separator: " ")) cannot fail over"
        }
        let notes = replication.evidence.compactMap(\.note)
        #expect(notes.filter { $0.contains(" has no replica") } == alone)
        #expect(notes.filter { $0.hasPrefix("replica \(replicaAddress) of \(primaryAddress): link up, last I/O ") }.count == 1, "\(notes)")
        #expect(replication.summary == "2 of 3 primaries have no replica: \(others.joined(separator: ", ")).")
        #expect(!report.findings.contains { $0.rule == "cluster-node-fail" })
        (run, report) = try Self.auditCluster(cluster, ["--fail-on", "warning"])
        #expect(run.status == 3, "\(run.stderr)")

        let markdown = try runCLI(["audit", "-c", "-p", String(primary.port)])
        #expect(markdown.status == 0)
        #expect(markdown.stdout.hasPrefix("# redis-cost audit of the cluster of \(primaryAddress) (3 primaries, 1 replica, from CLUSTER SHARDS)\n"))
        #expect(markdown.stdout.contains("\n## Replicas\n\n| Node | Replica of | Version | Link | Keys | Findings |\n"))
        #expect(markdown.stdout.contains("| `\(replicaAddress)` | `\(primaryAddress)` | redis-7.0.15 | up | \(grouped(primaryKeys)) |"))
        // The replica's section comes right after its primary's.
        let heading = "\n## Replica `\(replicaAddress)` of `\(primaryAddress)` (redis-7.0.15)\n"
        let sections = markdown.stdout.components(separatedBy: "\n## ").filter { $0.hasPrefix("Node `") || $0.hasPrefix("Replica `") }.map { $0.prefix { $0 != "\n" } }
        #expect(markdown.stdout.contains(heading))
        let own = try #require(sections.firstIndex(of: "Node `\(primaryAddress)` (redis-7.0.15)"))
        #expect(sections.count == 4 && sections[own + 1] == "Replica `\(replicaAddress)` of `\(primaryAddress)` (redis-7.0.15)", "\(sections)")
        #expect(markdown.stdout.contains("cluster mode, role slave"))

        // Stopped: once the primaries agree it failed, the audit says it did not answer and reads the rest.
        replica.stop()
        #expect(try Self.poll(800) { try Self.flags(of: replicaAddress, seenBy: primary).contains("fail") }, "\(replicaAddress) never marked fail")
        (run, report) = try Self.auditCluster(cluster)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.contains("\(replicaAddress) (replica of \(primaryAddress)): not audited: "), "\(run.stderr)")
        let gone = try #require(report.replicas.first)
        #expect(report.replicas.count == 1 && gone.address == replicaAddress && gone.primary == primaryAddress)
        #expect(gone.unreachable != nil && gone.audit == nil && gone.keys == nil && gone.link == nil)
        #expect(report.primaries.allSatisfy { $0.audit != nil && $0.unreachable == nil })
        let stillAlone = try #require(report.findings.first { $0.rule == "cluster-replication" })
        let goneNotes = stillAlone.evidence.compactMap(\.note)
        #expect(Set(goneNotes.filter { $0.contains(" has no replica") }) == Set(alone))
        #expect(goneNotes.filter { $0.hasPrefix("replica \(replicaAddress) of \(primaryAddress) did not answer (") }.count == 1, "\(goneNotes)")
        let failed = try #require(report.findings.first { $0.rule == "cluster-node-fail" })
        #expect(failed.severity == .critical && failed.summary.contains(replicaAddress))
        (run, report) = try Self.auditCluster(cluster, ["--fail-on", "critical"])
        #expect(run.status == 3, "\(run.stderr)")
    }

    @Test("audit --cluster on Valkey 9: 2,000 keys hash-tagged into one slot fire cluster-hot-slot naming that slot with the keys written; with cluster-slot-stats-enabled the hottest slots carry cpu-usec exact against the node's own CLUSTER SLOT-STATS")
    func auditClusterHotSlot() throws {
        let cluster = try TestCluster(.valkey9)
        let keys = (1...2000).map { "{hot}:\($0)" }
        let slots = Set(keys.map { Array($0.utf8).withUnsafeBytes { hashSlot($0) } })
        #expect(slots.count == 1)
        let slot = try #require(slots.first)
        let owner = try #require(try cluster.nodes.first { try Self.ownSlots($0).contains { $0.contains(slot) } })
        let ownerAddress = "127.0.0.1:\(owner.port)"
        #expect(try owner.connect().pipeline(keys.map { ["SET", $0, "v"] }).allSatisfy { $0.text == "OK" })

        var (run, report) = try Self.auditCluster(cluster)
        #expect(run.status == 0, "\(run.stderr)")
        let hot = try #require(report.findings.first { $0.rule == "cluster-hot-slot" })
        #expect(hot.severity == .warning)
        #expect(hot.evidence.compactMap(\.note) == ["slot \(slot) on \(ownerAddress) holds 2,000 of its 2,000 keys (100.0%)"])
        #expect(hot.summary.hasPrefix("Hot slot: slot \(slot) (\(ownerAddress), 2,000 keys) (fires above 50% of a primary's keys with at least 1,000"))
        let first = try #require(report.hotSlots?.first)
        #expect(first.slot == slot && first.node == ownerAddress && first.keys == 2000 && first.cpuMicroseconds == nil)
        // The other primaries' slots hold no key and their CPU is not counted: the hot slot is the only one.
        #expect(report.hotSlots?.count == 1)
        let markdown = try runCLI(["audit", "-c", "-p", String(cluster.nodes[0].port)])
        #expect(markdown.stdout.contains("\n## Hottest slots (`CLUSTER SLOT-STATS`)\n\n| Slot | Node | Keys |\n| ---: | --- | ---: |\n| \(slot) | `\(ownerAddress)` | 2,000 |\n"), "\(markdown.stdout)")

        // With per-slot CPU counted: the reads of the hot keys show in the slot's cpu-usec, as the node itself says after the audit.
        for node in cluster.nodes { _ = try node.connect().require(["CONFIG", "SET", "cluster-slot-stats-enabled", "yes"]) }
        _ = try owner.connect().pipeline(keys.map { ["GET", $0] })
        (run, report) = try Self.auditCluster(cluster)
        #expect(run.status == 0, "\(run.stderr)")
        let cpu = try Self.slotCPU(owner)
        let counted = try #require(report.hotSlots?.first { $0.slot == slot })
        #expect(counted.keys == 2000 && counted.node == ownerAddress)
        #expect(counted.cpuMicroseconds == cpu[slot] && (cpu[slot] ?? 0) > 0, "\(cpu[slot] ?? -1)")
        #expect(!report.findings.contains { $0.rule == "cluster-slot-stats" })
        #expect(report.findings.first { $0.rule == "cluster-hot-slot" }?.evidence.compactMap(\.note).first == "slot \(slot) on \(ownerAddress) holds 2,000 of its 2,000 keys (100.0%)")
    }

    /// Two primaries by hand, the first with a replica whose INFO is `replicaInfo`, the primary's `primaryInfo`.
    static func replicated(primaryInfo: [String: String], replicaInfo: [String: String]?) -> ClusterSnapshot {
        let addresses = ["10.0.0.1:7000", "10.0.0.2:7000"], replica = "10.0.0.9:7000"
        let ranges = [0...8191, 8192...16383]
        let primaries = (0..<2).map { i in
            var lines = (0..<2).map { j in ClusterSnapshot.NodeLine(id: "id\(j)", address: addresses[j], flags: j == i ? ["myself", "master"] : ["master"], slots: [ranges[j]]) }
            lines.append(.init(id: "id9", address: replica, flags: ["slave"], slots: [], primaryID: "id0"))
            return ClusterSnapshot.Primary(address: addresses[i], announcedSlots: [ranges[i]], keys: 0, nodes: lines)
        }
        var c = ClusterSnapshot(seed: addresses[0], source: "CLUSTER SHARDS", primaries: primaries, replicas: [
            .init(address: replica, primary: addresses[0], id: "id9", unreachable: replicaInfo == nil ? "10.0.0.9:7000: cannot connect: Connection refused" : nil),
        ])
        c.primaries[0].server = ServerSnapshot(server: addresses[0], version: "redis-8.2.3", config: [:], info: primaryInfo)
        c.primaries[1].server = ServerSnapshot(server: addresses[1], version: "redis-8.2.3", config: [:], info: ["role": "master"])
        c.replicas?[0].server = replicaInfo.map { ServerSnapshot(server: replica, version: "redis-8.2.3", config: [:], info: $0) }
        return c
    }

    @Test("cluster-replication by hand: link down critical; 30 s without I/O and lag beyond the backlog fire only above their thresholds; counters out of range (near Int.max, negative) are no reading and never trap")
    func replicationRule() throws {
        let up = ["role": "slave", "master_link_status": "up", "master_last_io_seconds_ago": "30", "slave_repl_offset": "1000"]
        let primary = ["role": "master", "master_repl_offset": "1049576", "repl_backlog_size": "1048576"]
        func finding(_ p: [String: String], _ r: [String: String]?) -> Finding? {
            ClusterReplicationRule.findings(in: Self.replicated(primaryInfo: p, replicaInfo: r)).first
        }
        let alone = "10.0.0.2:7000 has no replica: its slots 8192-16383 cannot fail over"
        // At the thresholds (30 s; exactly the backlog behind): only the second primary, alone.
        var f = try #require(finding(primary, up))
        #expect(f.severity == .warning && f.count == 1)
        #expect(ClusterAuditRuleTests.notes(f) == [alone, "replica 10.0.0.9:7000 of 10.0.0.1:7000: link up, last I/O 30 s ago"])
        // One past each.
        var late = up
        late["master_last_io_seconds_ago"] = "31"
        late["slave_repl_offset"] = "999"
        f = try #require(finding(primary, late))
        #expect(ClusterAuditRuleTests.notes(f) == [alone, "replica 10.0.0.9:7000 of 10.0.0.1:7000: last heard from its primary 31 s ago (fires above 30 s); 1,048,577 bytes behind (primary master_repl_offset 1049576, replica slave_repl_offset 999), more than the primary's repl-backlog-size 1,048,576: a reconnect needs a full resync"])
        #expect(f.summary == "1 of 2 primaries have no replica: 10.0.0.2:7000; replica lagging: 10.0.0.9:7000." && f.count == 2)
        // Link down: critical.
        var down = up
        down["master_link_status"] = "down"
        f = try #require(finding(primary, down))
        #expect(f.severity == .critical && ClusterAuditRuleTests.notes(f).first == "replica 10.0.0.9:7000 of 10.0.0.1:7000: master_link_status down (role slave)")
        // Not answering: a warning naming why.
        f = try #require(finding(primary, nil))
        #expect(f.severity == .warning && ClusterAuditRuleTests.notes(f).last == "replica 10.0.0.9:7000 of 10.0.0.1:7000 did not answer (10.0.0.9:7000: cannot connect: Connection refused)")
        // Counters no server writes: no reading, no trap, no lag.
        for (sent, applied, io) in [("9223372036854775807", "0", "-1"), ("9223372036854775807", "-9223372036854775808", "9223372036854775807x"), ("-5", "3", "")] {
            var odd = up
            (odd["slave_repl_offset"], odd["master_last_io_seconds_ago"]) = (applied, io)
            var p = primary
            p["master_repl_offset"] = sent
            #expect(ClusterAuditRuleTests.notes(try #require(finding(p, odd))).last?.hasPrefix("replica 10.0.0.9:7000 of 10.0.0.1:7000: link up, last I/O ") == true)
        }
        // Replicas not read (a snapshot without them): no claim that a primary has none.
        var unread = Self.replicated(primaryInfo: primary, replicaInfo: up)
        unread.replicas = nil
        #expect(ClusterReplicationRule.findings(in: unread).isEmpty)
    }

    @Test("cluster-hot-slot by hand: fires above half a primary's keys with at least 1,000, or above half its cpu-usec with at least 1 s; quiet at the thresholds")
    func hotSlotRule() throws {
        func snapshot(keys: [Int: Int], cpu: [Int: Int]?) throws -> ClusterSnapshot {
            var c = ClusterAuditRuleTests.healthy()
            var stats = try ClusterSlotStats.parse(.array([]), server: "test")   // its init is internal to RedisCostLive
            (stats.keys, stats.cpuMicroseconds, stats.cpuCounted) = (keys, cpu ?? [:], cpu != nil)
            c.primaries[0].slotStats = stats
            return c
        }
        // Exactly half, or 999 keys: quiet.
        #expect(ClusterHotSlotRule.findings(in: try snapshot(keys: [1: 1000, 2: 1000], cpu: nil)).isEmpty)
        #expect(ClusterHotSlotRule.findings(in: try snapshot(keys: [1: 999], cpu: nil)).isEmpty)
        var f = try #require(ClusterHotSlotRule.findings(in: try snapshot(keys: [1: 1001, 2: 999], cpu: nil)).first)
        #expect(ClusterAuditRuleTests.notes(f) == ["slot 1 on 10.0.0.1:7000 holds 1,001 of its 2,000 keys (50.0%)"])
        // CPU: 1 s exactly at more than half fires; below 1 s, or counters that would overflow a sum, do not trap.
        #expect(ClusterHotSlotRule.findings(in: try snapshot(keys: [:], cpu: [1: 999_999])).isEmpty)
        f = try #require(ClusterHotSlotRule.findings(in: try snapshot(keys: [:], cpu: [1: 1_000_000, 2: 10])).first)
        #expect(ClusterAuditRuleTests.notes(f) == ["slot 1 on 10.0.0.1:7000 took 1,000,000 of its 1,000,010 cpu-usec (100.0%)"])
        let huge = Dictionary(uniqueKeysWithValues: (0..<16384).map { ($0, CommandStatsReading.largestCounter) })
        #expect(ClusterHotSlotRule.findings(in: try snapshot(keys: huge, cpu: huge)).isEmpty)
        // The table: most keys first, slots with neither keys nor cpu left out.
        #expect(try snapshot(keys: [1: 5, 2: 0, 3: 7], cpu: [1: 0, 2: 0, 3: 1]).hottestSlots().map(\.slot) == [3, 1])
    }
}
