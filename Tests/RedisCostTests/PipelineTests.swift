import Foundation
import Testing
import RedisCostCore
import RedisCostTable
import RedisCostFormats
import RedisCostAnalysis
import RedisCostReport

/// The two threads of an analysis of a file: the queue between them, the pipeline of batches,
/// and the result, which is the one-thread result exactly.
@Suite struct PipelineTests {
    @Test("the queue hands every item from one thread to the other, in order, never holding more than its capacity")
    func queue() {
        let queue = BatchQueue<Int?>(capacity: 3)
        let verdict = BatchQueue<Bool>(capacity: 1)
        let count = 100_000
        let consumer = Thread {
            var expected = 0
            var inOrder = true
            while let item = queue.take() {
                if item != expected { inOrder = false }
                expected += 1
            }
            verdict.put(inOrder && expected == count)
        }
        consumer.start()
        for i in 0..<count {
            queue.put(i)
            #expect(queue.count <= 3)
        }
        queue.put(nil)
        #expect(verdict.take())
    }

    @Test("the pipeline costs every batch in order, on its own thread, and has costed all of them when finish returns")
    func pipeline() {
        let costingThread = ThreadRecord()
        var seen: [Int] = []
        let pipeline = CallPipeline(threaded: true, batches: 3, callsPerBatch: 5) { batch in
            costingThread.note(Thread.current)
            seen.append(contentsOf: batch.calls.map(\.position))
        }
        for i in 0..<1_003 {
            var call = StagedCall(kind: .call)
            call.position = i
            pipeline.batch.calls.append(call)
            pipeline.submitIfFull()
        }
        pipeline.finish()
        #expect(seen == Array(0..<1_003))
        #expect(costingThread.threads.count == 1 && costingThread.threads.first != Thread.current)
    }

    @Test("no formula reads both the model and a wrapper's calls: every one that reads the model is evaluated where the model is")
    func tableStagesEveryFormula() throws {
        #expect(Analyzer(table: try CommandTable.embedded()).stagesEveryFormula)
    }

    /// The JSON report of `path` analysed with the costing on a second thread or not, batches of
    /// `callsPerBatch` calls, the findings on; without the run's elapsed time.
    static func report(_ path: String, threaded: Bool, callsPerBatch: Int, baseline: Analyzer.Baseline = .unknown) throws -> String {
        let table = try CommandTable.embedded()
        var options = Analyzer.Options()
        options.costsOnSecondThread = threaded
        options.callsPerBatch = callsPerBatch
        let analyzer = Analyzer(table: table, options: options)
        analyzer.findingsEngine = FindingsEngine(table: table)
        let result = try analyzer.run(try Input.open(path), baseline: baseline)
        // (The model's memory is left out too: array capacities follow the allocator's state,
        // which differs from one analysis to the next in one process, threads or not.)
        return AnalysisReport.json(result).split(separator: "\n")
            .filter { !$0.contains("\"elapsedSeconds\"") && !$0.contains("\"modelBytes\"") }.joined(separator: "\n")
    }

    static let inputs: [(path: String, baseline: String?)] = [
        ("Tests/Fixtures/runs/redis-7.0.15/monitor.txt", "empty"),
        ("Tests/Fixtures/runs/redis-7.0.15/monitor.txt", nil),
        ("Tests/Fixtures/runs/redis-8.2.3/monitor.txt", "Tests/Fixtures/runs/redis-8.2.3/dump.rdb"),
        ("Tests/Fixtures/runs/valkey-9.1.2/monitor.txt", "empty"),
        ("Tests/Fixtures/apps/celery-redis-7.0.15/monitor.txt", "empty"),
        ("Tests/Fixtures/apps/rq-redis-7.0.15/monitor.txt", nil),
        ("Tests/Fixtures/modules/monitor-redis-8.2.3-stack.txt", "empty"),
        ("Tests/Fixtures/runs/redis-7.0.15/appendonlydir", nil),
        ("Tests/Fixtures/runs/valkey-9.1.2/appendonlydir", nil),
        ("Tests/Fixtures/aof-redis-8.2.3/appendonlydir", nil),
        ("Tests/Fixtures/apps/celery-redis-7.0.15/appendonlydir", nil),
        ("Tests/Fixtures/redis-tests-assets/rdb-preamble.aof", nil),
        ("Tests/Fixtures/runs/redis-8.2.3/dump.rdb", nil),
    ]

    @Test("costed on a second thread, in batches as small as 1 or 7 calls (scripts and transactions straddle them), the report is the one-thread report exactly",
          arguments: inputs.indices)
    func threadedIsTheSame(_ i: Int) throws {
        let (relative, baselinePath) = Self.inputs[i]
        let path = packageRoot.appendingPathComponent(relative).path
        let baseline: Analyzer.Baseline = try baselinePath.map { $0 == "empty" ? .empty : .files(try AOFInput(path: packageRoot.appendingPathComponent($0).path)) } ?? .unknown
        let alone = try Self.report(path, threaded: false, callsPerBatch: 4096, baseline: baseline)
        #expect(alone.contains("\"calls\""))
        for (threaded, size) in [(true, 4096), (true, 7), (true, 1), (false, 7)] {
            let other = try Self.report(path, threaded: threaded, callsPerBatch: size, baseline: baseline)
            #expect(other == alone, "threaded \(threaded), \(size) calls a batch: \(relative)")
        }
    }

    /// How `path` ends analysed with a snapshot decoded on a second thread or not: its error, or "ok".
    static func outcome(_ path: String, threaded: Bool, keysPerBatch: Int) -> String {
        var options = Analyzer.Options()
        options.costsOnSecondThread = threaded
        options.callsPerBatch = keysPerBatch
        do {
            _ = try Analyzer(table: try CommandTable.embedded(), options: options).run(try AOFInput(path: path))
            return "ok"
        } catch {
            return "\(error)"
        }
    }

    @Test("a snapshot decoded on a second thread ends as on one: a real RDB cut anywhere, a key held twice before a damaged byte (the first error in the file wins)")
    func snapshotErrors() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-pipeline-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let rdb = [UInt8](try Data(contentsOf: packageRoot.appendingPathComponent("Tests/Fixtures/runs/redis-8.2.3/dump.rdb")))
        let cut = folder.appendingPathComponent("cut.rdb").path
        var outcomes: Set<String> = []
        for length in stride(from: 9, to: rdb.count, by: max(1, rdb.count / 37)) {
            try Data(rdb[0..<length]).write(to: URL(fileURLWithPath: cut))
            let alone = Self.outcome(cut, threaded: false, keysPerBatch: 4096)
            outcomes.insert(alone)
            for size in [1, 7, 4096] {
                #expect(Self.outcome(cut, threaded: true, keysPerBatch: size) == alone, "cut at \(length), \(size) keys a batch")
            }
        }
        #expect(outcomes.count > 5 && !outcomes.contains("ok"), "\(outcomes)")

        // A string key "k" twice, then a byte that is no opcode: the loader's refusal comes first.
        let entry: [UInt8] = [0x00, 0x01, UInt8(ascii: "k"), 0x01, UInt8(ascii: "v")]
        let twice = folder.appendingPathComponent("twice.rdb").path
        try Data(Array("REDIS0011".utf8) + entry + entry + [0x10, 0x01, 0x02] + entry).write(to: URL(fileURLWithPath: twice))
        let refused = Self.outcome(twice, threaded: false, keysPerBatch: 4096)
        #expect(refused.contains("at byte 14: duplicate key"), "\(refused)")
        for size in [1, 2, 4096] {
            #expect(Self.outcome(twice, threaded: true, keysPerBatch: size) == refused)
        }
    }
}

/// The threads a closure ran on (it runs on one thread at a time).
private final class ThreadRecord: @unchecked Sendable {
    private(set) var threads: [Thread] = []
    func note(_ thread: Thread) { if !threads.contains(where: { $0 === thread }) { threads.append(thread) } }
}
