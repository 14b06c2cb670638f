import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// The MONITOR capture driver: a file of `redis-cli monitor` lines, read through a
/// MonitorSession (which the live `monitor` command feeds from a socket instead). Writes seen
/// in a capture replay on the same model as an AOF's.
extension Analyzer {
    public struct MonitorOptions: Sendable {
        /// A snapshot or AOF of the data set when the capture started; without one, keys that
        /// existed before the capture have unknown sizes.
        public var baseline: AOFInput?
        /// The capture started on an empty data set (a fresh server): every key it does not
        /// create is known to be absent.
        public var startsEmpty = false
        /// Another stream of an analysis under way (a node `monitor --cluster` starts watching
        /// mid-session): the analyzer's counts, model and result are left as they are.
        package var joinsAnalysis = false
        /// The lines are costed on a second thread (`CallPipeline`): a capture file read at
        /// once, whose bytes stay mapped until the session finishes.
        package var costsOnSecondThread = false
        public init(baseline: AOFInput? = nil, startsEmpty: Bool = false) {
            self.baseline = baseline
            self.startsEmpty = startsEmpty
        }
        public init(_ baseline: Analyzer.Baseline) {
            switch baseline {
            case .unknown: self.init()
            case .empty: self.init(startsEmpty: true)
            case .files(let files): self.init(baseline: files)
            }
        }
    }

    public func run(monitor path: String, options: MonitorOptions = .init(), progress: ((Int, Int) -> Void)? = nil) throws(InputError) -> AnalysisResult {
        var options = options
        options.costsOnSecondThread = true
        let session = try MonitorSession(analyzer: self, source: "MONITOR capture \(path)", file: path, options: options)
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw InputError(file: path, offset: 0, detail: error.detail)
        }
        // redis-cli writes whole lines, but a capture stopped with ^C ends where its output
        // buffer did, anywhere in a line: the lines read are those with their line end.
        let complete = file.bytes.lastIndex(of: 10).map { $0 + 1 } ?? 0
        var lastRelease = 0
        session.consume(UnsafeRawBufferPointer(rebasing: file.bytes[..<complete]), framing: .plain) { position, releasable in
            // Lines both sides are done with go back to the kernel: the resident set stays the model's.
            if releasable - lastRelease > 4 << 20 {
                file.release(upTo: releasable)
                lastRelease = releasable
            }
            progress?(position, file.bytes.count)
        }
        if complete < file.bytes.count { session.cutOff(bytes: file.bytes.count - complete) }
        return session.finish()
    }

    /// Applies a write seen in a capture. Without a baseline, a key that may have existed
    /// before the capture and that the write adds to (rather than replaces) is approximate;
    /// one the write deletes is known to be absent afterwards.
    package func applyWrite(_ argv: Argv, index: Int, positions: [Int]) {
        let db = replayer.database
        applyEffect(argv, index: index, positions: positions)
        let kind = captureWrites[index]
        if kind == .flushAll {
            known.flushed(database: nil)
        } else if kind == .flushDatabase {
            known.flushed(database: db)
        }
        guard !known.absentKeysAreKnown else { return }
        // cost() has just read every key's size: .unknown is a key that may have existed
        // before the capture, .missing one known absent, anything else a present key.
        for (k, position) in positions.enumerated() {
            let before = k < sizesBuffer.count ? sizesBuffer[k] : .unknown
            // A write that only adds to a key whose state was known leaves nothing to note.
            if kind == .adds, before != .unknown { continue }
            if let id = replayer.lookup(argv[position]) {
                if before == .unknown, kind != .replaces { replayer.keyspace[id].approximate = true }
            } else if kind == .deletes || (before != .unknown && before != .missing) {
                known.knownAbsent.insert(keyIdentity(argv[position], database: db))
            }
        }
    }

    /// How a write relates to the keys' previous values, for captures without a baseline.
    package enum CaptureWrite {
        /// The result does not depend on the previous value.
        case replaces
        case deletes
        /// Adds to or changes a key and never removes it (pushes, adds, increments).
        case adds
        case flushAll, flushDatabase
        case other

        /// From the entry's `write` and `flushes` semantics in the table.
        package init(_ semantics: CommandSemantics) {
            switch (semantics.write, semantics.flushes) {
            case (.adds, _): self = .adds
            case (.replaces, _): self = .replaces
            case (.deletes, _): self = .deletes
            case (nil, .all): self = .flushAll
            case (nil, .database): self = .flushDatabase
            case (.keepsSizes, _), (nil, nil): self = .other
            }
        }
    }
}

package struct SlowestCalls {
    package let limit: Int
    package private(set) var items: [(gap: Int64, call: AnalysisResult.SlowCall)] = []
    package init(limit: Int) { self.limit = limit }
    /// The smallest gap kept, so that most lines are turned away with one comparison.
    private var threshold: Int64 = -1
    package func admits(_ gap: Int64) -> Bool { items.count < limit || gap > threshold }
    package mutating func insert(_ call: AnalysisResult.SlowCall, gap: Int64) {
        if items.count >= limit, let smallest = items.indices.min(by: { items[$0].gap < items[$1].gap }) { items.remove(at: smallest) }
        items.append((gap, call))
        if items.count >= limit { threshold = items.map(\.gap).min() ?? -1 }
    }
    package var sorted: [AnalysisResult.SlowCall] { items.sorted { $0.gap > $1.gap }.map(\.call) }
}
