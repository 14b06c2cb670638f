#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// A live `monitor` session: `MONITOR` on one connection, read raw and analysed chunk by chunk
/// as fast as the server writes it; the sampler's connection reads the sizes the analysis
/// cannot know (see LiveSampler) and watches the MONITOR client's output buffer.
public enum LiveMonitor {
    public struct Options {
        /// Stop after this many seconds.
        public var duration: Double?
        /// Stop after this many calls.
        public var count: Int?
        /// At most this many keys sampled a second (0: no sampling).
        public var samplesPerSecond = 1000.0
        /// A key is sampled again only after this many seconds.
        public var cacheSeconds = 10.0
        /// Becomes readable when the session must stop (a signalfd for SIGINT/SIGTERM, a pipe).
        public var stopDescriptor: Int32?
        /// Receives each analysed call's line, as `redis-cli monitor` prints it, without the newline.
        public var captureSink: ((UnsafeRawBufferPointer) -> Void)?
        /// After a stop, the calls the server ran before it are still read until the sampler's
        /// end marker shows in the stream, for at most this long: a stop is a stop, even when
        /// the server streams without pause or never shows the marker.
        public var drainSeconds = 1.0
        /// A MONITOR line longer than this (a call whose arguments print longer, or a stream
        /// that never sends a newline) ends the session like a lost connection: the stream
        /// buffer holds one line and must not grow without bound.
        public var maxLineBytes = 64 << 20
        /// `INFO commandstats` is read at the start, at the end and every this many seconds
        /// (0: at the start and the end only), for the server's own time beside the estimate.
        public var statsInterval = 5.0
        /// Read the server's slow log at the end (`SLOWLOG GET 128`, `COMMANDLOG GET 128 slow`).
        public var checkServerLog = true
        /// `--cluster`: the topology is read again every this many seconds (0: only when a node
        /// goes away or a sampler is redirected), to watch a replica that took over or a new primary.
        public var topologyInterval = 2.0
        /// Keep, for every commandstats window, the features of each command's calls
        /// (`monitor --fit-model`): the result's `workloadFit`.
        public var fitModel = false
        public init() {}
    }

    public struct Progress: Sendable {
        public var calls: Int
        public var seconds: Double
        public var monitorOutputBytes: Int?
    }

    /// One server: MONITOR and the sampler on it, analysed as one stream.
    public static func run(_ connection: ConnectionOptions, analyzer: Analyzer, options: Options,
                           progress: ((Progress) -> Void)? = nil) throws(ServerError) -> AnalysisResult {
        let node = try NodeMonitor(connection, index: 0, analyzer: analyzer, options: options)
        node.session.callLimit = options.count
        node.startServerReads(options, cluster: false)
        return watch([node], cluster: nil, analyzer: analyzer, options: options, progress: progress)
    }

    /// Every primary of a Redis Cluster, found from the node `seed` names: MONITOR and a
    /// sampler on each at once, each node's stream in its own MonitorSession feeding the one
    /// analyzer, its keys sampled on the node that ran the calls (the key's owner). A node
    /// whose connection goes away is reported in the cluster section (`lost`) and the others
    /// go on. Each node's commandstats are read as for one server (its measured time beside its
    /// estimate), and where the server has it its `CLUSTER SLOT-STATS` at the start and the end;
    /// the slow log is not read in this mode. The topology is read again during the session
    /// (ClusterWatch): a replica that takes over, or a new primary, is watched from then on.
    public static func runCluster(_ seed: ConnectionOptions, analyzer: Analyzer, options: Options,
                                  progress: ((Progress) -> Void)? = nil) throws(ServerError) -> AnalysisResult {
        let ask = try RedisConnection(seed)
        let topology = try ClusterTopology.read(ask)
        guard !topology.primaries.isEmpty else {
            throw ServerError(server: seed.serverName, command: topology.source, detail: "the cluster lists no primary that serves slots")
        }
        var nodes: [NodeMonitor] = []
        for (index, primary) in topology.connections(from: seed).enumerated() {
            nodes.append(try NodeMonitor(primary, index: index, analyzer: analyzer, options: options))
        }
        // The question asked of the seed is the tool's own call on the node it asked.
        if let asked = nodes.first(where: { $0.connection.host == seed.host && $0.connection.port == seed.port }) {
            asked.discoveryCommands = ask.sentCommands
        }
        analyzer.cluster = ClusterAggregation(nodes: nodes.map(\.connection.serverName), table: analyzer.table)
        analyzer.result.input = "MONITOR of \(nodes.count) cluster primaries (\(topology.source) of \(seed.serverName)): " + nodes.map(\.connection.serverName).joined(separator: ", ")
        for node in nodes { node.startServerReads(options, cluster: true) }
        let cluster = ClusterWatch(seed: seed, topology: topology, interval: options.topologyInterval, now: monotonicSeconds())
        return watch(nodes, cluster: cluster, analyzer: analyzer, options: options, progress: progress)
    }

    /// The session loop over every node's MONITOR connection: each node's lines are analysed as
    /// they arrive (a node's keys are its own, so the order across nodes changes no size, and
    /// no stream waits for a slower one), until --duration, --count, a signal, or every node
    /// has gone away.
    private static func watch(_ initialNodes: [NodeMonitor], cluster: ClusterWatch?, analyzer: Analyzer, options: Options,
                              progress: ((Progress) -> Void)?) -> AnalysisResult {
        var nodes = initialNodes
        let isCluster = cluster != nil
        let started = monotonicSeconds()
        // The sampler's round trips end with the session: a server that stalls them cannot hold it past its end.
        for node in nodes { node.sampler.connection.notAfter = options.duration.map { started + $0 + options.drainSeconds } }
        var stopReason: String?
        var drainDeadline = 0.0
        var endReason: String?
        var lastWatch = started
        var lastCommandStats = started
        var totalCalls: Int { nodes.reduce(0) { $0 + $1.session.calls } }
        func analyse(_ node: NodeMonitor) {
            // --count over all nodes: this node may take what the others left.
            if isCluster, let count = options.count, !node.markerSeen { node.session.callLimit = node.session.calls + max(0, count - totalCalls) }
            node.analyseWholeLines(options)
        }
        func requestStop(_ reason: String) {
            guard stopReason == nil else { return }
            stopReason = reason
            drainDeadline = monotonicSeconds() + options.drainSeconds
            for node in nodes where node.endReason == nil { node.requestStop(reason, drainDeadline: drainDeadline) }
        }
        func lose(_ node: NodeMonitor, _ reason: String) {
            node.lost = true
            node.endReason = reason
            analyzer.cluster?.lost(node: node.index, atSecond: Int64(Date().timeIntervalSince1970), reason: reason)
            cluster?.readSoon = true
        }
        /// The topology read again: a new primary watched from now on, a node no longer primary left.
        func followTopology(_ now: Double) {
            guard let cluster, stopReason == nil, let change = cluster.refresh(now: now, nodes: nodes) else { return }
            let at = Int64(Date().timeIntervalSince1970)
            for node in change.demoted {
                analyse(node)
                lose(node, "no longer a primary (the cluster's \(cluster.topology.source))")
            }
            for added in change.added {
                // The aggregation's nodes and these grow together: the next index is the same in both.
                let index = nodes.count
                guard let node = try? NodeMonitor(added.options, index: index, analyzer: analyzer, options: options, joining: true) else {
                    // Not reachable (a failed node the cluster has not marked failed yet): tried again later.
                    cluster.unreachable(added.address, now: now)
                    continue
                }
                _ = analyzer.cluster?.addNode(added.address, joined: .init(atSecond: at, replacing: added.replacing))
                node.joinedDuringSession = true
                node.sampler.connection.notAfter = options.duration.map { started + $0 + options.drainSeconds }
                node.startServerReads(options, cluster: true)
                nodes.append(node)
                analyse(node)
            }
        }

        for node in nodes { analyse(node) }
        while endReason == nil {
            for node in nodes where node.endReason == nil {
                if let fault = node.streamFault(options) { lose(node, "the MONITOR connection failed: \(fault)") }
            }
            // The clock is read on every pass, busy or idle: a stream that never pauses does
            // not hold the session past --duration.
            let now = monotonicSeconds()
            for node in nodes where node.endReason == nil && node.markerSeen { node.endReason = stopReason }
            if nodes.allSatisfy({ $0.endReason != nil }) { break }
            if isCluster ? options.count.map({ totalCalls >= $0 }) ?? false : nodes[0].session.isFull { endReason = "--count reached"; break }
            if stopReason != nil, now > drainDeadline {
                for node in nodes where node.endReason == nil { node.endReason = (stopReason ?? "") + " (calls still arriving after the stop were left out)" }
                break
            }
            if let duration = options.duration, now - started >= duration { requestStop("--duration reached") }
            // A node whose end marker could not go out (and with nothing left to read) is done at once.
            if nodes.allSatisfy({ $0.endReason != nil }) { break }
            if options.statsInterval > 0, stopReason == nil, now - lastCommandStats >= options.statsInterval {
                lastCommandStats = now
                for node in nodes where node.endReason == nil { node.readCommandStats() }
            }
            followTopology(now)
            if now - lastWatch >= 1 {
                lastWatch = now
                for node in nodes where node.endReason == nil { node.watchOutputBuffer() }
                progress?(Progress(calls: totalCalls, seconds: now - started,
                                   monitorOutputBytes: nodes.compactMap(\.live.lastMonitorOutputBytes).max()))
            }
            let watched = nodes.filter { $0.endReason == nil }
            var fds = watched.map { pollfd(fd: $0.monitor.fileDescriptor, events: Int16(POLLIN), revents: 0) }
            if stopReason == nil, let stop = options.stopDescriptor { fds.append(pollfd(fd: stop, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 100)
            if ready < 0, errno != EINTR {
                endReason = "poll failed: \(String(cString: strerror(errno)))"
                break
            }
            if fds.count > watched.count, fds[watched.count].revents != 0 { requestStop("stopped by a signal") }
            for (node, fd) in zip(watched, fds) where fd.revents != 0 && node.endReason == nil {
                do {
                    node.stream.reserveSpace()
                    let count = try node.monitor.receive(into: node.stream.freeSpace, label: "MONITOR")
                    if count == 0 {
                        analyse(node)
                        lose(node, node.streamFault(options).map { "the MONITOR connection failed: \($0)" } ?? "the server closed the MONITOR connection")
                        continue
                    }
                    node.stream.received(count)
                    analyse(node)
                } catch {
                    analyse(node)
                    lose(node, "the MONITOR connection failed: \(error.detail)")
                }
            }
        }
        let seconds = monotonicSeconds() - started
        if !isCluster {
            let node = nodes[0]
            return node.finish(endReason: endReason ?? node.endReason ?? "ended", connectionLost: node.lost, seconds: seconds, options: options)
        }
        var result = analyzer.finish(sessions: nodes.map(\.session))
        result.elapsedSeconds = seconds
        var live = AnalysisResult.LiveSession(server: "\(nodes.count) cluster primaries: " + nodes.map(\.connection.serverName).joined(separator: ", "))
        live.serverVersion = nodes[0].live.serverVersion
        live.samplesPerSecond = options.samplesPerSecond
        let lost = nodes.filter(\.lost)
        live.connectionLost = lost.count == nodes.count
        var reason = endReason ?? stopReason ?? (live.connectionLost ? "every node's MONITOR connection was lost" : "ended")
        if !lost.isEmpty, !live.connectionLost {
            reason += "; lost: " + lost.map { "\($0.connection.serverName) (\($0.endReason ?? ""), after \($0.session.calls) calls)" }.joined(separator: ", ")
        }
        live.endReason = reason
        live.seconds = seconds
        // Every watched node's slow log, as one check whose entries name their node (read before
        // the tool's commands are counted: SLOWLOG GET is one of them).
        let logs = nodes.filter { !$0.lost }.compactMap { node in node.serverLogCheck(topCalls: result.topCalls).map { (node.connection.serverName, $0) } }
        if !logs.isEmpty { result.serverLog = .merged(logs) }
        for node in nodes {
            result.cluster?.nodes[node.index].measuredTime = node.lost
                ? .unavailable("\(node.connection.serverName): watched no longer (\(node.endReason ?? "lost")): its server figures are unknown")
                : node.measuredTime(endReason: node.endReason ?? reason, options: options)
            node.collectCounters(final: !node.lost)
            live.samplerCommands += node.live.samplerCommands
            live.keysSampled += node.live.keysSampled
            live.keysDeferred += node.live.keysDeferred
            live.subscriberCountsRead += node.live.subscriberCountsRead
            live.samplingDisabled = live.samplingDisabled ?? node.live.samplingDisabled.map { "\(node.connection.serverName): \($0)" }
            live.subscriberCountsDenied = live.subscriberCountsDenied ?? node.live.subscriberCountsDenied
            live.maxMonitorOutputBytes = [live.maxMonitorOutputBytes, node.live.maxMonitorOutputBytes].compactMap { $0 }.max()
            live.lastMonitorOutputBytes = [live.lastMonitorOutputBytes, node.live.lastMonitorOutputBytes].compactMap { $0 }.max()
            live.toolCommands.merge(node.live.toolCommands, uniquingKeysWith: +)
            result.cluster?.nodes[node.index].toolCommands = node.live.toolCommands
        }
        result.live = live
        if result.cluster != nil { slotTimes(nodes, into: &result.cluster!) }
        return result
    }

    /// Each hot slot's CPU time as its node counted it (`CLUSTER SLOT-STATS` cpu-usec, the end's
    /// less the start's), for the slots of the nodes watched the whole session; and how it was read.
    private static func slotTimes(_ nodes: [NodeMonitor], into cluster: inout AnalysisResult.Cluster) {
        let asked = nodes.filter { $0.slotStatsAtStart != nil }
        guard !asked.isEmpty else {
            cluster.slotStats = "Not read: CLUSTER SLOT-STATS needs Valkey 8.0+ or Redis 8.2+ (\(nodes.first?.live.serverVersion ?? "unknown server"))."
            return
        }
        var measured: [Int: Int] = [:]
        var notes: [String] = []
        var counted = 0
        for node in asked {
            let name = node.connection.serverName
            if node.lost || node.joinedDuringSession {
                notes.append("\(name) was not watched the whole session: its slots are unknown")
                continue
            }
            switch (node.slotStatsAtStart, node.slotStatsAtEnd) {
            case (.success(let start)?, .success(let end)?):
                guard start.cpuCounted, end.cpuCounted else {
                    notes.append("\(name) has cluster-slot-stats-enabled no (keys per slot only, no CPU time)")
                    continue
                }
                counted += 1
                for (slot, usec) in start.cpuDelta(to: end) {
                    // A slot read on two nodes (it moved) is unknown rather than added up.
                    measured[slot] = measured[slot] == nil ? usec : -1
                }
            case (.failure(let error)?, _), (_, .failure(let error)?):
                notes.append(error.description)
            default:
                notes.append("\(name): CLUSTER SLOT-STATS was not read at the end")
            }
        }
        for i in cluster.hotSlots.indices {
            cluster.hotSlots[i].measuredMicroseconds = measured[cluster.hotSlots[i].slot].flatMap { $0 >= 0 ? $0 : nil }
        }
        var text = counted > 0
            ? "CLUSTER SLOT-STATS cpu-usec, the end's less the start's, on \(counted) of \(nodes.count) nodes; it includes the tool's own size reads of the slot's keys."
            : "No node gave its slots' CPU time."
        if !notes.isEmpty { text += " " + notes.joined(separator: "; ") + "." }
        cluster.slotStats = text
    }

    /// `INFO keysizes` (Redis 8+; empty elsewhere) as ordered fields.
    package static func keySizes(_ connection: RedisConnection) -> [(field: String, value: String)] {
        (try? connection.command(["INFO", "keysizes"]))?.text.map(infoLines) ?? []
    }
}

/// The bytes read from the MONITOR socket: whole lines are analysed, a partial last line waits
/// for the rest. Grows when a single line (a big value) does not fit, up to `lineLimit`.
/// Every line must be a status reply (`+…`); the first that is not ends the whole lines before it.
package struct StreamBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private var filled = 0
    /// Just past the last newline (of the lines before a foreign one), 0 when none is buffered.
    private var wholeEnd = 0
    /// Where the next line begins: its first byte is checked when it arrives.
    private var lineStart = 0
    /// A line that is not a status reply was received: nothing from it on is analysed.
    package private(set) var foreignLine = false
    package let lineLimit: Int

    package init(initial: [UInt8], lineLimit: Int) {
        self.lineLimit = lineLimit
        storage = .allocate(byteCount: max(initial.count, min(4 << 20, lineLimit + 1)), alignment: 8)
        initial.withUnsafeBytes { storage.copyMemory(from: $0) }
        received(initial.count)
    }

    package func deallocate() { storage.deallocate() }

    /// Everything up to and including the last newline, or nil.
    package var wholeLines: UnsafeRawBufferPointer? {
        wholeEnd > 0 ? UnsafeRawBufferPointer(rebasing: storage[0..<wholeEnd]) : nil
    }

    /// The bytes after the last newline are more than a line may be.
    package var unfinishedLineIsTooLong: Bool { !foreignLine && filled - wholeEnd > lineLimit }

    package mutating func consumed(_ count: Int) {
        let rest = filled - count
        if rest > 0, let base = storage.baseAddress { memmove(base, base + count, rest) }
        filled = rest
        wholeEnd -= count
        lineStart -= count
    }

    /// Room for the next read: doubles when the buffer is full of one unfinished line, up to
    /// one byte more than a line may be (which is then too long).
    package mutating func reserveSpace() {
        guard filled == storage.count, storage.count <= lineLimit else { return }
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: min(storage.count * 2, lineLimit + 1), alignment: 8)
        larger.copyMemory(from: UnsafeRawBufferPointer(storage))
        storage.deallocate()
        storage = larger
    }

    package var freeSpace: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: storage[filled...]) }

    /// Takes `count` bytes written into `freeSpace`: finds the newlines among them (memchr)
    /// and checks the first byte of each line.
    package mutating func received(_ count: Int) {
        guard let base = storage.baseAddress else { return }
        var i = filled
        filled += count
        while !foreignLine {
            if lineStart >= i, lineStart < filled {
                guard storage[lineStart] == UInt8(ascii: "+") else {
                    foreignLine = true
                    return
                }
            }
            guard i < filled, let hit = memchr(base + i, 10, filled - i) else { return }
            i = UnsafeRawPointer(base).distance(to: UnsafeRawPointer(hit)) + 1
            wholeEnd = i
            lineStart = i
        }
    }
}
