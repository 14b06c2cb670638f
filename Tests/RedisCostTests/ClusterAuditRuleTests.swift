import Foundation
import Testing
import RedisCostCore
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// The cluster audit rules on cluster snapshots built by hand: the examples that fire and
/// those that stay quiet are the rules' tests (ClusterTests run them on real clusters).
@Suite struct ClusterAuditRuleTests {
    static func server(_ address: String, config: [String: String]? = [:]) -> ServerSnapshot {
        ServerSnapshot(server: address, version: "redis-8.2.3", config: config, info: ["redis_mode": "cluster", "role": "master"])
    }

    static func line(_ id: String, _ address: String, _ flags: String, _ slots: [ClosedRange<Int>]) -> ClusterSnapshot.NodeLine {
        .init(id: id, address: address, flags: flags.split(separator: ",").map(String.init), slots: slots)
    }

    /// Three primaries that each serve a third of the slots by their own account, all well.
    static func healthy(keys: [Int] = [10, 12, 11]) -> ClusterSnapshot {
        let ranges = [0...5460, 5461...10922, 10923...16383]
        let addresses = ["10.0.0.1:7000", "10.0.0.2:7000", "10.0.0.3:7000"]
        let primaries = (0..<3).map { i in
            ClusterSnapshot.Primary(address: addresses[i], announcedSlots: [ranges[i]], server: server(addresses[i]), keys: keys[i],
                                    nodes: (0..<3).map { j in line("id\(j)", addresses[j], j == i ? "myself,master" : "master", [ranges[j]]) })
        }
        return ClusterSnapshot(seed: addresses[0], source: "CLUSTER SHARDS", primaries: primaries)
    }

    /// The evidence notes as the report renders them.
    static func notes(_ f: Finding) -> [String] { FindingsReport.items([f], options: .init())[0].evidence.compactMap(\.note) }

    static func rules(_ c: ClusterSnapshot) -> [String] { ClusterAudit.findings(c).map(\.rule) }

    @Test("a healthy cluster: no finding")
    func healthy() {
        #expect(Self.rules(Self.healthy()).isEmpty)
        #expect(Self.healthy().uncoveredSlots.isEmpty)
    }

    @Test("cluster-slots: a range its primary no longer claims, whatever the others say; an unreachable primary's slots")
    func slotCoverage() throws {
        var c = Self.healthy()
        c.primaries[1].nodes![1].slots = [5461...5560, 5600...10922]
        #expect(c.uncoveredSlots == [5561...5599])
        let finding = try #require(ClusterAudit.findings(c).first)
        #expect(finding.rule == "cluster-slots" && finding.severity == .critical && finding.count == 39)
        #expect(finding.summary == "39 of 16384 slots are served by no primary that answered: 5561-5599.")
        // Another primary's view that still gives the range to it changes nothing; its own view is the one that counts.
        c.primaries[0].nodes![1].slots = [5461...10922]
        #expect(c.uncoveredSlots == [5561...5599])
        // A primary that did not answer serves nothing we can see; a single slot reads as one number.
        var down = Self.healthy()
        down.primaries[2] = .init(address: "10.0.0.3:7000", announcedSlots: [10923...16383], unreachable: "10.0.0.3:7000: connection refused")
        down.primaries[0].nodes![0].slots = [0...5459]
        #expect(down.uncoveredSlots == [5460...5460, 10923...16383])
        let notes = Self.notes(try #require(ClusterAudit.findings(down).first { $0.rule == "cluster-slots" }))
        #expect(notes == ["uncovered slots 5460 (1)", "uncovered slots 10923-16383 (5461)",
                          "10.0.0.3:7000 did not answer (10.0.0.3:7000: connection refused); 10.0.0.1:7000 gives it slots 10923-16383"])
        // CLUSTER NODES denied on a primary that answered: the seed's view of it stands in.
        var denied = Self.healthy()
        denied.primaries[1].nodes = nil
        #expect(denied.uncoveredSlots.isEmpty)
    }

    @Test("cluster-node-fail: fail is critical, pfail alone a warning, each with who saw it")
    func nodeFail() throws {
        var c = Self.healthy()
        c.primaries[0].nodes![2].flags = ["master", "fail?"]
        var finding = try #require(ClusterAudit.findings(c).first)
        #expect(finding.rule == "cluster-node-fail" && finding.severity == .warning)
        #expect(Self.notes(finding) == ["10.0.0.3:7000 (id2): pfail as seen by 10.0.0.1:7000"])
        c.primaries[1].nodes![2].flags = ["master", "fail"]
        finding = try #require(ClusterAudit.findings(c).first)
        #expect(finding.severity == .critical)
        #expect(finding.summary == "1 node in fail state: 10.0.0.3:7000.")
        #expect(Self.notes(finding) == ["10.0.0.3:7000 (id2): fail as seen by 10.0.0.2:7000; pfail as seen by 10.0.0.1:7000"])
    }

    @Test("cluster-key-skew: above 2x the mean with at least 1,000 keys, with every primary's DBSIZE")
    func keySkew() throws {
        #expect(Self.rules(Self.healthy(keys: [900, 10, 10])).isEmpty)            // skewed, but under 1,000 keys
        #expect(Self.rules(Self.healthy(keys: [2000, 1000, 1000])).isEmpty)       // 1.5x the mean
        let finding = try #require(ClusterAudit.findings(Self.healthy(keys: [100, 5000, 200])).first)
        #expect(finding.rule == "cluster-key-skew")
        #expect(finding.summary.hasPrefix("10.0.0.2:7000 holds 5,000 keys, 2.83× the mean of 1,767 per primary"))
        #expect(Self.notes(finding) == ["10.0.0.1:7000 DBSIZE 100", "10.0.0.2:7000 DBSIZE 5000", "10.0.0.3:7000 DBSIZE 200"])
        // Counts no server holds stay arithmetic without a trap.
        #expect(Self.rules(Self.healthy(keys: [Int.max, Int.max, 0])).isEmpty)
        #expect(Self.rules(Self.healthy(keys: [Int.max, 0, 0])) == ["cluster-key-skew"])
    }

    @Test("cluster-slot-stats: only where the server has the setting and it is off")
    func slotStats() throws {
        var c = Self.healthy()
        #expect(Self.rules(c).isEmpty)                                              // no such setting (Redis 7)
        c.primaries[0].server = Self.server("10.0.0.1:7000", config: ["cluster-slot-stats-enabled": "no"])
        c.primaries[1].server = Self.server("10.0.0.2:7000", config: ["cluster-slot-stats-enabled": "yes"])
        c.primaries[2].server = Self.server("10.0.0.3:7000", config: nil)          // CONFIG GET denied
        let finding = try #require(ClusterAudit.findings(c).first)
        #expect(finding.rule == "cluster-slot-stats" && finding.severity == .info)
        #expect(Self.notes(finding) == ["10.0.0.1:7000 cluster-slot-stats-enabled no"])
    }

    @Test("CLUSTER NODES lines: slots, migration marks skipped, a malformed line is one error naming server and command")
    func parseNodes() throws {
        let text = """
            07c3 127.0.0.1:30004@31004,host-a slave e7d1 0 1426238317239 4 connected
            e7d1 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 7 [93->-292f]
            292f :0@0 master,fail?,noaddr - 1426238316232 1426238315000 3 disconnected

            """
        let nodes = try ClusterSnapshot.parseNodes(text, server: "127.0.0.1:30001")
        #expect(nodes.map(\.address) == ["127.0.0.1:30004", "127.0.0.1:30001", ":0"])
        #expect(nodes[1].slots == [0...5460, 7...7] && nodes[1].isMyself && nodes[1].isPrimary)
        #expect(nodes[2].failState == "pfail" && nodes[0].failState == nil)
        for bad in ["e7d1 127.0.0.1:30001@31001 myself,master - 0 0", "e7d1 a myself,master - 0 0 1 connected 16384",
                    "e7d1 a myself,master - 0 0 1 connected 9-3", "e7d1 a master - 0 0 1 connected x-y"] {
            #expect(throws: ServerError.self) { try ClusterSnapshot.parseNodes(bad, server: "127.0.0.1:30001") }
            do { _ = try ClusterSnapshot.parseNodes(bad, server: "127.0.0.1:30001") } catch {
                #expect(error.description.hasPrefix("127.0.0.1:30001: CLUSTER NODES: ") && !error.description.contains("\n"))
            }
        }
    }

    @Test("the cluster report: a row per primary (one that did not answer says why), each node's audit a level down; the JSON keeps to the schema")
    func report() throws {
        var c = Self.healthy()
        c.primaries[2] = .init(address: "10.0.0.3:7000", announcedSlots: [10923...16383], unreachable: "10.0.0.3:7000: connection refused")
        let findings = ClusterAudit.findings(c)
        let nodeFindings: [[Finding]] = [[], [], []]
        let markdown = AuditReport.clusterMarkdown(c, findings: findings, nodeFindings: nodeFindings)
        #expect(markdown.hasPrefix("# redis-cost audit of the cluster of 10.0.0.1:7000 (3 primaries, from CLUSTER SHARDS)\n\n## Fix first\n\n1. **Hash slots no primary serves**"))
        #expect(markdown.contains("| `10.0.0.1:7000` | cluster | redis-8.2.3 | 0-5460 | 10 |  |"))
        #expect(markdown.contains("| `10.0.0.3:7000` |  |  | 10923-16383 |  | did not answer: 10.0.0.3:7000: connection refused |"))
        #expect(markdown.contains("\n## Node `10.0.0.2:7000` (redis-8.2.3)\n\n### Fix first\n"))
        #expect(!markdown.contains("## Node `10.0.0.3:7000`"))
        let json = AuditReport.clusterJSON(c, findings: findings, nodeFindings: nodeFindings)
        expectValidReport(json, "audit --cluster")
        let doc = try decodeReport(AuditReport.ClusterDocument.self, json)
        #expect(doc.uncoveredSlots.map { $0.first...$0.last } == [10923...16383])
        #expect(doc.primaries.map { $0.audit == nil } == [false, false, true])
        #expect(doc.primaries[0].audit?.info.mode == "cluster")
    }
}
