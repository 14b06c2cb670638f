import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostReplay

/// Several nodes of a cluster analysed as one: one input per node. A key lives on one node,
/// so the nodes' keys never collide and one keyspace model holds them all; every call is
/// costed by the one analyzer and knows its node (`currentNode`, the input's index).
extension Analyzer {
    /// One MONITOR capture per node, merged by time: each capture keeps its own session
    /// (clients, transactions, scripts), and the sessions feed the analyzer in timestamp order,
    /// a batch of lines at a time from the mapped files (no copy of a file, memory bounded).
    /// `baselines`: one per capture, in the same order (each loads into the one model).
    public func run(monitors paths: [String], baselines: [Baseline]) throws(InputError) -> AnalysisResult {
        guard paths.count == baselines.count, !paths.isEmpty else {
            throw InputError(file: paths.first ?? "", offset: 0, detail: "expected one baseline per capture (\(paths.count) captures, \(baselines.count) baselines)")
        }
        let started = Date()
        var captures: [NodeCapture] = []
        for (node, path) in paths.enumerated() {
            // Each session loads its node's baseline into the model and starts the counts
            // afresh: all before the first call, so no call is lost to a later reset.
            let session = try MonitorSession(analyzer: self, source: "MONITOR capture \(path)", file: path, options: MonitorOptions(baselines[node]))
            let file: MappedFile
            do {
                file = try MappedFile(path: path)
            } catch {
                throw InputError(file: path, offset: 0, detail: error.detail)
            }
            captures.append(NodeCapture(session: session, file: file))
        }
        cluster = paths.count > 1 ? ClusterAggregation(nodes: paths, table: table) : nil
        result.input = paths.count == 1 ? "MONITOR capture \(paths[0])" : "MONITOR captures of \(paths.count) nodes: " + paths.joined(separator: ", ")
        NodeCapture.merge(&captures, analyzer: self)
        _ = finish(sessions: captures.map(\.session))
        result.elapsedSeconds = Date().timeIntervalSince(started)
        return result
    }

    /// Ends the analysis of several nodes' sessions (session i is node i): each input ends
    /// (its last script is costed, as its node), then keys past their TTL expire and the
    /// results are sorted. Captures and live nodes alike.
    package func finish(sessions: [MonitorSession]) -> AnalysisResult {
        var slowest = SlowestCalls(limit: 25)
        var segments: [AnalysisResult.Segment] = []
        for (node, session) in sessions.enumerated() {
            currentNode = node
            let (segment, calls) = session.finishInput()
            segments.append(segment)
            for (gap, call) in calls where slowest.admits(gap) { slowest.insert(call, gap: gap) }
        }
        replayer.expireKeys()
        result.segments = segments
        result.slowestCalls = slowest.sorted
        finish()
        return result
    }

    /// Several nodes' RDB snapshots or AOFs: one after another, each call with its node (a
    /// node's writes touch only its own keys, so their order across nodes changes no size).
    public func run(persistence inputs: [AOFInput], progress: ((Int, Int) -> Void)? = nil) throws(InputError) -> AnalysisResult {
        guard inputs.count > 1 else { return try run(inputs[0], progress: progress) }
        var merged = inputs[0]
        merged.segments = []
        for (node, input) in inputs.enumerated() {
            merged.segments += input.segments.map { segment in
                var segment = segment
                segment.node = node
                return segment
            }
        }
        // A manifest's base is loaded as an AOF base (expired keys kept), a lone RDB as a snapshot.
        merged.manifest = inputs.allSatisfy { $0.manifest != nil } ? inputs[0].manifest : nil
        merged.description = "\(inputs.count) nodes: " + inputs.map(\.description).joined(separator: ", ")
        cluster = ClusterAggregation(nodes: inputs.map(\.description), table: table)
        return try run(merged, progress: progress)
    }
}

/// One node's capture in a merge: its session and the mapped file it reads, line by line.
package struct NodeCapture {
    package let session: MonitorSession
    package let file: MappedFile
    /// Where the next unread line begins.
    private var position = 0
    /// Just past the last line end: a capture stopped with ^C ends inside a line.
    private let complete: Int
    private var released = 0
    /// The time of the line at `position`, read once per batch (the merge compares it often).
    private var nextTime: Int64 = .min

    package init(session: MonitorSession, file: MappedFile) {
        self.session = session
        self.file = file
        complete = file.bytes.lastIndex(of: 10).map { $0 + 1 } ?? 0
        nextTime = time(at: 0) ?? .min
    }

    private var isDone: Bool { position >= complete || session.isFull }

    /// Microseconds of the line at `offset`, or nil for a line that has none (redis-cli's "OK",
    /// an empty or damaged line): such a line goes with the batch it is in, and the session
    /// reports it. Only for ordering; the session's reader checks every line itself.
    private func time(at offset: Int) -> Int64? {
        let bytes = file.bytes
        var i = offset, seconds: Int64 = 0, digits = 0
        while i < complete, bytes[i] &- 48 < 10, digits < 12 {
            seconds = seconds * 10 + Int64(bytes[i] &- 48)
            digits += 1
            i += 1
        }
        guard digits > 0, i < complete, bytes[i] == UInt8(ascii: ".") else { return nil }
        i += 1
        var micros: Int64 = 0
        for _ in 0..<6 {
            guard i < complete, bytes[i] &- 48 < 10 else { return nil }
            micros = micros * 10 + Int64(bytes[i] &- 48)
            i += 1
        }
        return seconds * 1_000_000 + micros
    }

    /// Feeds the lines up to `bound` (inclusive), at most about a megabyte at a time.
    private mutating func feed(upTo bound: Int64) {
        let bytes = file.bytes
        var end = position
        var time: Int64? = nil
        while end < complete, end - position < 1 << 20 {
            if end > position {
                time = self.time(at: end)
                if let t = time, t > bound { break }
            }
            guard let base = bytes.baseAddress, let newline = memchr(base + end, 10, complete - end) else { end = complete; break }
            end = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(newline)) + 1
            time = nil
        }
        nextTime = end < complete ? (time ?? self.time(at: end) ?? .min) : .min
        session.consume(UnsafeRawBufferPointer(rebasing: bytes[position..<end]), framing: .plain)
        position = end
        // Lines already analysed go back to the kernel: the resident set stays the model's.
        if position - released > 4 << 20 {
            file.release(upTo: position)
            released = position
        }
    }

    /// The k-way merge: the capture whose next line is earliest feeds its lines up to the
    /// next line of any other capture, and so on until all are read.
    package static func merge(_ captures: inout [NodeCapture], analyzer: Analyzer) {
        while true {
            var first = -1
            for i in captures.indices where !captures[i].isDone {
                if first < 0 || captures[i].nextTime < captures[first].nextTime { first = i }
            }
            guard first >= 0 else { break }
            var bound = Int64.max
            for i in captures.indices where i != first && !captures[i].isDone { bound = min(bound, captures[i].nextTime) }
            analyzer.currentNode = first
            captures[first].feed(upTo: bound)
        }
        for i in captures.indices where captures[i].complete < captures[i].file.bytes.count {
            analyzer.currentNode = i
            captures[i].session.cutOff(bytes: captures[i].file.bytes.count - captures[i].complete)
        }
    }
}
