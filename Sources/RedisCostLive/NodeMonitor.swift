#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostAnalysis

/// One server of a live session (LiveMonitor): its MONITOR connection read raw into a stream
/// buffer, its own MonitorSession feeding the shared analyzer as node `index`, its sampler
/// connection (sizes, the end marker, the monitor's output buffer) and, for a single server,
/// the reads of its commandstats and slow log.
final class NodeMonitor {
    let connection: ConnectionOptions
    let index: Int
    let analyzer: Analyzer
    let sampler: LiveSampler
    let monitor: RedisConnection
    let monitorID: Int?
    let session: MonitorSession
    var live: AnalysisResult.LiveSession
    let measured: MeasuredTimeRecorder
    var serverLog: Result<ServerLogReader, ServerError>?
    var stream: StreamBuffer
    /// The end marker showed in this node's stream: every call it ran before the stop is seen.
    var markerSeen = false
    /// The commandstats read just before the end marker was taken.
    var endRead = false
    /// Why this node's stream ended (nil while it is watched).
    var endReason: String?
    /// Its connection went away (closed, reset, timed out, or a stream that is not MONITOR output).
    var lost = false
    /// commandstats and the slow log are read (a single server).
    var readsServerFigures = false
    /// What the tool sent the node before its MONITOR (the cluster's topology question).
    var discoveryCommands: [String: Int] = [:]
    /// A cluster node's `CLUSTER SLOT-STATS` at the start and at the end (servers that have it).
    var slotStatsAtStart: Result<ClusterSlotStats, ServerError>?
    var slotStatsAtEnd: Result<ClusterSlotStats, ServerError>?
    /// Watched from the middle of the session (a replica that took over, a new primary).
    var joinedDuringSession = false

    /// `joining`: the session is under way (a primary found mid-session); the analysis goes on as it is.
    init(_ connection: ConnectionOptions, index: Int, analyzer: Analyzer, options: LiveMonitor.Options, joining: Bool = false) throws(ServerError) {
        self.connection = connection
        self.index = index
        self.analyzer = analyzer
        let sampler = try LiveSampler(connection, table: analyzer.table, samplesPerSecond: options.samplesPerSecond, cacheSeconds: options.cacheSeconds)
        self.sampler = sampler
        live = AnalysisResult.LiveSession(server: connection.serverName)
        live.serverVersion = try? sampler.connection.serverID()
        live.keySizesAtStart = LiveMonitor.keySizes(sampler.connection)
        live.samplesPerSecond = options.samplesPerSecond

        monitor = try RedisConnection(connection)
        monitorID = try monitor.command(["CLIENT", "ID"]).int
        switch try monitor.command(["MONITOR"]) {
        case .simple("OK"): break
        case .error(let message):
            throw ServerError(server: connection.serverName, command: "MONITOR", detail: RedisConnection.explain(message))
        case let other:
            throw ServerError(server: connection.serverName, command: "MONITOR", detail: "expected +OK, got \(other.kind)")
        }
        do {
            var sessionOptions = Analyzer.MonitorOptions()
            sessionOptions.joinsAnalysis = joining
            session = try MonitorSession(analyzer: analyzer, source: "MONITOR of \(connection.serverName)", file: connection.serverName, options: sessionOptions)
        } catch {
            throw ServerError(server: connection.serverName, command: nil, detail: error.description)
        }
        session.captureSink = options.captureSink
        measured = MeasuredTimeRecorder(server: connection.serverName)
        if options.fitModel { measured.fit = LiveFitRecorder() }
        stream = StreamBuffer(initial: monitor.takeBufferedBytes(), lineLimit: options.maxLineBytes)
        session.ownCall = { [unowned self] _, client, argv in
            guard let action = self.sampler.own(client: client, argv: argv) else { return false }
            // The server's counters were read here: the comparison's window starts at the first read.
            if argv.count == 2, argv.equalsToken(0, "INFO"), argv.equalsToken(1, "commandstats") {
                self.measured.sawReadInStream(analyzer.aggregation, estimated: self.estimatedCounts())
            }
            switch action {
            case .none: break
            case .resync(let sample, let key, let database): analyzer.resync(sample, key: key, database: database)
            case .resyncSubscribers(let counts): analyzer.resync(counts)
            case .resyncPatterns(let n): analyzer.resyncPatternSubscriptions(n)
            case .endMarker:
                // Everything the server ran before the stop has been seen: end here exactly.
                self.markerSeen = true
                self.session.callLimit = self.session.calls
            }
            self.live.samplerCommands += 1
            return true
        }
    }

    deinit { stream.deallocate() }

    /// The server's own figures: the first commandstats read, and for a single server the slow
    /// log's newest entry, for a cluster node its slots' CPU time where the server counts it.
    func startServerReads(_ options: LiveMonitor.Options, cluster: Bool) {
        readsServerFigures = true
        serverLog = options.checkServerLog
            ? ServerLogReader.start(server: connection.serverName, serverID: live.serverVersion) { argv throws(ServerError) in try sampler.send(argv) } : nil
        readCommandStats()
        if cluster, ClusterSlotStats.isSupported(serverID: live.serverVersion) { slotStatsAtStart = readSlotStats() }
    }

    func readSlotStats() -> Result<ClusterSlotStats, ServerError> {
        do throws(ServerError) {
            return .success(try ClusterSlotStats.parse(try sampler.send(ClusterSlotStats.arguments), server: connection.serverName))
        } catch {
            return .failure(error)
        }
    }

    /// What the analysis has counted of this server's calls, per commandstats name: the whole
    /// analysis for a single server, the node's own calls in a cluster.
    func estimatedCounts() -> [String: MeasuredTimeRecorder.EstimatedCounts] {
        if let cluster = analyzer.cluster {
            let (commands, unknown) = cluster.commandStats(node: index)
            return MeasuredTimeRecorder.estimated(commands, unknownCommands: unknown)
        }
        return MeasuredTimeRecorder.estimated(analyzer.aggregation.commandStats, unknownCommands: analyzer.aggregation.unknownCommands)
    }

    /// The tool's own calls, on all its connections to this node: the server counts them in
    /// commandstats and logs them, and they are taken out of both.
    var toolCommands: [String: Int] {
        sampler.connection.sentCommands.merging(monitor.sentCommands, uniquingKeysWith: +).merging(discoveryCommands, uniquingKeysWith: +)
    }

    func readCommandStats() {
        measured.read(toolSent: toolCommands) { argv throws(ServerError) in try sampler.send(argv) }
    }

    /// The session stops: the last commandstats read (a single server) goes just before the end
    /// marker, whose arrival in the stream ends this node exactly.
    func requestStop(_ reason: String, drainDeadline: Double) {
        if readsServerFigures { readCommandStats() }
        if slotStatsAtStart != nil { slotStatsAtEnd = readSlotStats() }
        endRead = true
        sampler.connection.notAfter = drainDeadline
        // Without a marker there is nothing to wait for — unless the MONITOR connection holds
        // input still: its last calls, or its end when the server went down as the stop came
        // (read first, so the node is reported lost, not stopped).
        if !sampler.sendEndMarker(), !monitorHasInput { endReason = reason }
    }

    /// Whether the MONITOR connection has input waiting (calls, or its end) right now.
    private var monitorHasInput: Bool {
        var fd = pollfd(fd: monitor.fileDescriptor, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, 0) > 0 && fd.revents != 0
    }

    func analyseWholeLines(_ options: LiveMonitor.Options) {
        guard let chunk = stream.wholeLines else { return }
        analyzer.currentNode = index
        sampler.beginChunk()
        if sampler.isEnabled, options.samplesPerSecond > 0 {
            let requests = session.sizeRequests(in: chunk, framing: .resp,
                                                skip: { !sampler.addressIsShared && $0.elementsEqual(sampler.monitorAddress) },
                                                admit: { sampler.admit($0) })
            for sampled in sampler.sample(requests) {
                switch sampled {
                case .key(let sample, let key, let database): analyzer.receive(sample, key: key, database: database)
                case .keyCount(let n, let database): analyzer.receiveDatabaseSize(n, database: database)
                case .subscribers(let count): analyzer.receive(count)
                case .patternSubscriptions(let n): analyzer.receivePatternSubscriptions(n)
                }
            }
        }
        session.consume(chunk, framing: .resp)
        stream.consumed(chunk.count)
    }

    /// What is wrong with the stream, once its whole lines are analysed.
    func streamFault(_ options: LiveMonitor.Options) -> String? {
        if stream.foreignLine { return "the server sent a line that is not MONITOR output (not a +status line)" }
        if stream.unfinishedLineIsTooLong { return "a MONITOR line longer than \(options.maxLineBytes >> 20) MB" }
        return nil
    }

    /// `omem` of this node's MONITOR client, once a second.
    func watchOutputBuffer() {
        if let id = monitorID, let omem = sampler.outputBufferBytes(ofClient: id) {
            live.lastMonitorOutputBytes = omem
            live.maxMonitorOutputBytes = max(live.maxMonitorOutputBytes ?? 0, omem)
        }
    }

    /// The sampler's counts and the tool's commands, into `live`; `final`: the node is still
    /// there, its key-size histograms are read once more.
    func collectCounters(final: Bool) {
        live.keysSampled = sampler.keysSampled
        live.keysDeferred = sampler.keysDeferred
        live.samplingDisabled = sampler.disabledReason
        live.subscriberCountsRead = sampler.subscriberCountsRead
        live.subscriberCountsDenied = sampler.subscriptionsDeniedReason
        if final, sampler.isEnabled { live.keySizesAtEnd = LiveMonitor.keySizes(sampler.connection) }
        live.toolCommands = toolCommands
    }

    /// The server's figures beside the estimate, once the session has ended: the last reads
    /// (when the stop did not take them: they get the ordinary timeout again), and what the
    /// measured and analysed windows leave out.
    func measuredTime(endReason: String, options: LiveMonitor.Options) -> AnalysisResult.MeasuredTime {
        sampler.connection.notAfter = nil
        var windowNotes: [String] = []
        if !endRead {
            readCommandStats()
            if slotStatsAtStart != nil { slotStatsAtEnd = readSlotStats() }
            windowNotes.append("The session ended without its end marker (\(endReason)): calls the server ran after the last one analysed, up to the last read, are measured but not estimated.")
        } else if !markerSeen {
            windowNotes.append("Calls still arriving after the stop were left out of the analysis; the server's figures include those that ran before the last read.")
        }
        return measured.result(estimated: estimatedCounts(), intervalSeconds: options.statsInterval, notes: windowNotes)
    }

    /// The slow log's entries of the session matched to the costliest calls; nil when not read.
    func serverLogCheck(topCalls: [AnalysisResult.Call]) -> AnalysisResult.ServerLogCheck? {
        switch serverLog {
        case .success(let reader)?:
            return reader.finish(server: connection.serverName, connection: sampler.connection, table: analyzer.table,
                                 topCalls: topCalls, toolAddress: sampler.addressIsShared ? nil : sampler.monitorAddress)
        case .failure(let error)?:
            var check = AnalysisResult.ServerLogCheck(source: "SLOWLOG")
            check.unavailable = error.description
            return check
        case nil: return nil
        }
    }

    /// Ends a single server's session: the last reads, the measured time and slow log beside the estimate.
    func finish(endReason: String, connectionLost: Bool, seconds: Double, options: LiveMonitor.Options) -> AnalysisResult {
        var result = session.finish()
        result.measuredTime = measuredTime(endReason: endReason, options: options)
        result.workloadFit = measured.fit?.observations(table: analyzer.table, aggregation: analyzer.aggregation,
                                                        server: connection.serverName, serverVersion: live.serverVersion)
        result.serverLog = serverLogCheck(topCalls: result.topCalls)
        live.seconds = seconds
        live.endReason = endReason
        live.connectionLost = connectionLost
        collectCounters(final: true)
        result.live = live
        return result
    }
}
