import Foundation
import Testing
import RedisCostCore
import RedisCostAnalysis
import RedisCostReport

/// `analyze` of every primary's capture with `--sample` instead of baselines: one sampler,
/// started on any node, reads each key from the node that owns it.
@Suite(.serialized) struct ClusterSampleTests {
    @Test("analyze node captures --sample -p ANY-NODE: keys from before the captures sized from their own node (MOVED followed), per-node calls unchanged")
    func sampleAcrossNodes() throws {
        let cluster = try TestCluster(.redis7)
        try cluster.workload(["load"])
        let scratch = cluster.nodes[0].directory
        let captures = try cluster.nodes.enumerated().map { i, node in
            try ClusterTests.Capture(node, path: scratch.appendingPathComponent("capture-\(i).txt").path)
        }
        try cluster.workload(["work", "3"])
        for capture in captures { try capture.finish(marker: "redis-cost-end") }
        // The node the sampler connects to: one that does not own the big hash.
        let owner = try cluster.nodes.firstIndex { try $0.connect().require(["EXISTS", "big:hash"]).int == 1 }
        let other = cluster.nodes[(try #require(owner) + 1) % cluster.nodes.count]

        let unsampled = try runCLI(["analyze"] + captures.map(\.path) + ["--format", "json", "--top", "100000"])
        let plain = try decodeReport(AnalysisReport.Document.self, unsampled.stdout)
        #expect(plain.topCalls.filter { $0.command == "HGETALL" && $0.keys == ["big:hash"] }.allSatisfy { $0.sizes == [nil] })

        let run = try runCLI(["analyze"] + captures.map(\.path) + ["--sample", "-p", String(other.port), "--format", "json", "--top", "100000"])
        #expect(run.status == 0, "\(run.stderr)")
        expectValidReport(run.stdout, "analyze of three captures with --sample")
        let report = try decodeReport(AnalysisReport.Document.self, run.stdout)
        let hgetall = report.topCalls.filter { $0.command == "HGETALL" && $0.keys == ["big:hash"] }
        #expect(hgetall.count == 3 && hgetall.allSatisfy { $0.sizes == [20000] })
        #expect(report.monitor.sampledFrom == "127.0.0.1:\(other.port)" && report.monitor.sampledKeys > 0)
        #expect(plain.monitor.callsOnKeysOfUnknownSize > report.monitor.callsOnKeysOfUnknownSize)
        // Sampling changes sizes, never the calls counted per node.
        let nodes = try #require(report.cluster?.nodes), plainNodes = try #require(plain.cluster?.nodes)
        #expect(nodes.map(\.commands) == plainNodes.map(\.commands))
    }
}
