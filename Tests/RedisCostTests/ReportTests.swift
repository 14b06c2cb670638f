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

/// The report a person reads: pinned as a golden file for one generated run, and the flags
/// that shape it.
@Suite struct ReportTests {
    static let golden = packageRoot.appendingPathComponent("Tests/Fixtures/golden/redis-7.0.15-capture.md")
    /// The capture, relative to the package root (so the report's input line is the same on every machine).
    static let capture = "Tests/Fixtures/runs/redis-7.0.15/monitor.txt"

    /// The report without the one line that changes from run to run (time and memory taken).
    static func stable(_ report: String) -> String {
        report.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("- Replay model memory:") }.joined(separator: "\n")
    }

    @Test("the full report of a generated run's capture is exactly the golden file (REDIS_COST_UPDATE_GOLDEN=1 rewrites it)")
    func goldenReport() throws {
        let run = try runCLI(["analyze", Self.capture, "--baseline", "empty"], directory: packageRoot)
        #expect(run.status == 0, "\(run.stderr)")
        let report = Self.stable(run.stdout)
        if ProcessInfo.processInfo.environment["REDIS_COST_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: Self.golden.deletingLastPathComponent(), withIntermediateDirectories: true)
            try report.write(to: Self.golden, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: Self.golden, encoding: .utf8)
        let (ours, theirs) = (report.split(separator: "\n", omittingEmptySubsequences: false), expected.split(separator: "\n", omittingEmptySubsequences: false))
        let firstDifference = zip(ours, theirs).enumerated().first { $0.element.0 != $0.element.1 }
        #expect(report == expected, "first difference at line \((firstDifference?.offset ?? min(ours.count, theirs.count)) + 1): \(firstDifference.map { "\($0.element.0) ≠ \($0.element.1)" } ?? "lengths differ")")
    }

    @Test("the markdown is made of the JSON report's values: rendered from the decoded JSON, it is the golden file")
    func markdownFromJSON() throws {
        let run = try runCLI(["analyze", Self.capture, "--baseline", "empty", "--format", "json"], directory: packageRoot)
        #expect(run.status == 0, "\(run.stderr)")
        let doc = try decodeReport(AnalysisReport.Document.self, run.stdout)
        #expect(doc.input.kind == .monitor)
        #expect((doc.costOverTime?.cost.count ?? 0) >= 2)
        #expect(doc.minimumVersions.allSatisfy { $0.text.hasPrefix($0.family) })
        let expected = try String(contentsOf: Self.golden, encoding: .utf8)
        #expect(Self.stable(AnalysisReport.markdown(doc)) == expected)
    }

    @Test("the generated capture shows each planted problem with its evidence")
    func plantedProblems() throws {
        let run = try runCLI(["analyze", Self.capture, "--baseline", "empty", "--format", "json"], directory: packageRoot)
        let findings = try decodeReport(AnalysisReport.Document.self, run.stdout).findings
        func finding(_ rule: String, _ severity: String = "warning") -> FindingsReport.Item? {
            findings.first { $0.rule == rule && $0.severity.rawValue == severity }
        }
        func evidenceKeys(_ f: FindingsReport.Item?) -> [String] { (f?.evidence ?? []).compactMap(\.keys.first) }
        // gen_workload.py: KEYS user:1*, HGETALL/HKEYS/HVALS of big hashes, SMEMBERS, LRANGE 0 -1, ZRANGE 0 -1,
        // SINTER/SUNION/SDIFF(+STORE) of big sets, LINDEX 1250 / LSET 1375 / LREM / LPOS of long lists, SORT … STORE,
        // SORT without STORE, DEL of a big hash, SCAN MATCH user:2* then one DEL per key, EXISTS then GET/DEL.
        #expect(finding("keys")?.count == 1)
        #expect(Set(evidenceKeys(finding("full-read"))) == ["big:set:1", "rank:0", "big:hash:2", "queue:0", "big:hash:1"])
        #expect(finding("full-read")?.count == 6)
        #expect(evidenceKeys(finding("del-big")) == ["big:hash:1"])
        #expect(evidenceKeys(finding("deep-list")).allSatisfy { $0.hasPrefix("queue:") })
        #expect(evidenceKeys(finding("sort")) == ["queue:1"])
        #expect(evidenceKeys(finding("sort", "info")) == ["small:set"])
        #expect(finding("scan-del", "info")?.count == 111)
        #expect((finding("check-then-act", "info")?.count ?? 0) >= 30)
        #expect(finding("set-algebra") != nil)
        // The JSON shape the README documents: the field names in the text.
        guard case .object(let raw) = try JSONValue.parse(run.stdout), case .array(let rawFindings)? = raw["findings"],
              case .object(let totals)? = raw["totals"] else {
            Issue.record("no findings or totals in the JSON")
            return
        }
        for case .object(let f) in rawFindings {
            #expect(Set(f.keys) == ["rule", "severity", "title", "summary", "why", "fix", "count", "cost", "estimatedMicroseconds", "threshold", "patterns", "evidence"])
            guard case .array(let evidence)? = f["evidence"] else { continue }
            for case .object(let e) in evidence {
                #expect(Set(e.keys) == ["command", "keys", "sizes", "cost", "estimatedMicroseconds", "time", "client", "location", "note", "sizeKinds"])
            }
        }
        #expect(Set(totals.keys) == ["calls", "cost", "unknownCostCalls", "transactions", "estimatedMicroseconds", "timeModel",
                                     "malformedCalls", "firstMalformed"])
        // Not there, not reported: no flush of a big data set, no heavy transaction or script,
        // no keyspace-event subscriber, no connection churn.
        for absent in ["flush-sync", "heavy-transaction", "heavy-script", "keyspace-notifications", "connection-churn"] {
            #expect(!findings.contains { $0.rule == absent }, "\(absent)")
        }
    }

    @Test("--fail-on sets exit code 3, --threshold and --target-version are checked, --redact-keys hides names")
    func flags() throws {
        let capture = packageRoot.appendingPathComponent(Self.capture).path
        let failing = try runCLI(["analyze", capture, "--baseline", "empty", "--fail-on", "warning", "-o", "/dev/null"])
        #expect(failing.status == 3)
        #expect(failing.stderr.hasPrefix("redis-cost: findings at or above warning: set-algebra, full-read"), "\(failing.stderr)")
        let passing = try runCLI(["analyze", capture, "--baseline", "empty", "--fail-on", "critical", "-o", "/dev/null"])
        #expect(passing.status == 0)
        let bad = try runCLI(["analyze", capture, "--threshold", "nope=3"])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("--threshold takes RULE=N with RULE one of keys, flush-sync"))
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("constants-\(UUID().uuidString).json").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        defer { try? FileManager.default.removeItem(atPath: empty) }
        let constants = try runCLI(["analyze", capture, "--constants", empty])
        #expect(constants.status == 1)
        #expect(constants.stderr == "redis-cost: \(empty): not a constants file written by redis-cost calibrate (perCallMicroseconds, perElementMicroseconds)\n")
        let target = try runCLI(["analyze", capture, "--baseline", "empty", "--target-version", "6.2", "--format", "json"])
        #expect(target.stdout.contains("\"title\" : \"Commands a 6.2 server does not have\""))
        let redacted = try runCLI(["analyze", capture, "--baseline", "empty", "--redact-keys"])
        #expect(redacted.status == 0)
        #expect(!redacted.stdout.contains("big:hash") && !redacted.stdout.contains("user:200:name"))
        #expect(redacted.stdout.contains("`\(KeyText.redacted(Array("big:hash:2".utf8)))`"))
        // Stable: the same key gets the same hash in every run.
        let again = try runCLI(["analyze", capture, "--baseline", "empty", "--redact-keys"])
        #expect(Self.stable(again.stdout) == Self.stable(redacted.stdout))
    }
}

/// `redis-cost calibrate` against a real server.
@Suite struct CalibrationTests {
    @Test("calibrate measures every class on temporary keys in the named database and removes them")
    func calibrate() throws {
        let server = try TestServer(.redis7)
        let db3 = try server.connect(database: 3)
        _ = try db3.require(["SET", "keep:me", "1"])
        let constants = server.directory.appendingPathComponent("constants.json").path
        let run = try runCLI(["calibrate", "-p", String(server.port), "-n", "3", "--elements", "2000", "--repeats", "3", "-o", constants])
        #expect(run.status == 0, "\(run.stderr)")
        let model = try TimeModel(file: constants)
        #expect(Set(model.perElement.keys) == Set(TimeModel.classes))
        for cls in ["hash", "set", "zset", "list", "stream", "keyspace"] { #expect((model.perElement[cls] ?? 0) > 0, "\(cls)") }
        #expect(model.perCall > 0)
        #expect(model.source.hasPrefix("calibrated on 127.0.0.1:\(server.port) (redis-7.0.15)"))
        // Only the user's key is left.
        #expect(try db3.require(["DBSIZE"]).int == 1)
        #expect(try server.connect().require(["DBSIZE"]).int == 0)
        let report = try runCLI(["analyze", ReportTests.capture, "--baseline", "empty", "--constants", constants],
                                directory: packageRoot)
        #expect(report.stdout.contains("(calibrated on 127.0.0.1:\(server.port) (redis-7.0.15) with 2,000-element keys, 3 calls each (from \(constants)))"))
        let unnamed = try runCLI(["calibrate", "-p", String(server.port)])
        #expect(unnamed.status == 2)
    }
}
