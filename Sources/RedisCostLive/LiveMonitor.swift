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
        public init() {}
    }

    public struct Progress: Sendable {
        public var calls: Int
        public var seconds: Double
        public var monitorOutputBytes: Int?
    }

    public static func run(_ connection: ConnectionOptions, analyzer: Analyzer, options: Options,
                           progress: ((Progress) -> Void)? = nil) throws(ServerError) -> AnalysisResult {
        let sampler = try LiveSampler(connection, table: analyzer.table, samplesPerSecond: options.samplesPerSecond, cacheSeconds: options.cacheSeconds)
        var live = AnalysisResult.LiveSession(server: connection.serverName)
        live.serverVersion = try? sampler.connection.serverID()
        live.keySizesAtStart = keySizes(sampler.connection)
        live.samplesPerSecond = options.samplesPerSecond

        let monitor = try RedisConnection(connection)
        let monitorID = try monitor.command(["CLIENT", "ID"]).int
        switch try monitor.command(["MONITOR"]) {
        case .simple("OK"): break
        case .error(let message):
            throw ServerError(server: connection.serverName, command: "MONITOR", detail: RedisConnection.explain(message))
        case let other:
            throw ServerError(server: connection.serverName, command: "MONITOR", detail: "expected +OK, got \(other.kind)")
        }
        let session: MonitorSession
        do {
            session = try MonitorSession(analyzer: analyzer, source: "MONITOR of \(connection.serverName)", file: connection.serverName, options: .init())
        } catch {
            throw ServerError(server: connection.serverName, command: nil, detail: error.description)
        }
        session.callLimit = options.count
        session.captureSink = options.captureSink
        var markerSeen = false
        let measured = MeasuredTimeRecorder(server: connection.serverName)
        session.ownCall = { [unowned session] _, client, argv in
            guard let action = sampler.own(client: client, argv: argv) else { return false }
            // The server's counters were read here: the comparison's window starts at the first read.
            if argv.count == 2, argv.equalsToken(0, "INFO"), argv.equalsToken(1, "commandstats") {
                measured.sawReadInStream(analyzer.aggregation)
            }
            switch action {
            case .none: break
            case .resync(let sample, let key, let database): analyzer.resync(sample, key: key, database: database)
            case .resyncSubscribers(let counts): analyzer.resync(counts)
            case .resyncPatterns(let n): analyzer.resyncPatternSubscriptions(n)
            case .endMarker:
                // Everything the server ran before the stop has been seen: end here exactly.
                markerSeen = true
                session.callLimit = session.calls
            }
            live.samplerCommands += 1
            return true
        }

        // The tool's own calls, on all its connections: the server counts them in commandstats
        // and logs them, and they are taken out of both.
        func readCommandStats() {
            measured.read(toolSent: sampler.connection.sentCommands.merging(monitor.sentCommands, uniquingKeysWith: +)) { argv throws(ServerError) in
                try sampler.send(argv)
            }
        }
        let serverLog = options.checkServerLog
            ? ServerLogReader.start(server: connection.serverName, serverID: live.serverVersion) { argv throws(ServerError) in try sampler.send(argv) } : nil
        readCommandStats()
        var lastCommandStats = monotonicSeconds()
        var endRead = false
        var windowNotes: [String] = []

        var stream = StreamBuffer(initial: monitor.takeBufferedBytes(), lineLimit: options.maxLineBytes)
        defer { stream.deallocate() }
        let started = monotonicSeconds()
        // The sampler's round trips end with the session: a server that stalls them cannot hold it past its end.
        sampler.connection.notAfter = options.duration.map { started + $0 + options.drainSeconds }
        var stopReason: String?
        var drainDeadline = 0.0
        var endReason: String?
        var lastWatch = started
        func requestStop(_ reason: String) {
            guard stopReason == nil else { return }
            stopReason = reason
            // The last read goes just before the end marker: the analysis ends at the marker.
            readCommandStats()
            endRead = true
            drainDeadline = monotonicSeconds() + options.drainSeconds
            sampler.connection.notAfter = drainDeadline
            if !sampler.sendEndMarker() { endReason = reason }
        }
        func analyseWholeLines() {
            guard let chunk = stream.wholeLines else { return }
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
        func streamFault() -> String? {
            if stream.foreignLine { return "the server sent a line that is not MONITOR output (not a +status line)" }
            if stream.unfinishedLineIsTooLong { return "a MONITOR line longer than \(options.maxLineBytes >> 20) MB" }
            return nil
        }

        analyseWholeLines()
        while endReason == nil {
            if let fault = streamFault() {
                live.connectionLost = true
                endReason = "the MONITOR connection failed: \(fault)"
                break
            }
            // The clock is read on every pass, busy or idle: a stream that never pauses does
            // not hold the session past --duration.
            let now = monotonicSeconds()
            if markerSeen { endReason = stopReason; break }
            if session.isFull { endReason = "--count reached"; break }
            if stopReason != nil, now > drainDeadline { endReason = (stopReason ?? "") + " (calls still arriving after the stop were left out)"; break }
            if let duration = options.duration, now - started >= duration { requestStop("--duration reached") }
            if options.statsInterval > 0, stopReason == nil, now - lastCommandStats >= options.statsInterval {
                lastCommandStats = now
                readCommandStats()
            }
            if now - lastWatch >= 1 {
                lastWatch = now
                if let id = monitorID, let omem = sampler.outputBufferBytes(ofClient: id) {
                    live.lastMonitorOutputBytes = omem
                    live.maxMonitorOutputBytes = max(live.maxMonitorOutputBytes ?? 0, omem)
                }
                progress?(Progress(calls: session.calls, seconds: now - started, monitorOutputBytes: live.lastMonitorOutputBytes))
            }
            var fds = [pollfd(fd: monitor.fileDescriptor, events: Int16(POLLIN), revents: 0)]
            if stopReason == nil, let stop = options.stopDescriptor { fds.append(pollfd(fd: stop, events: Int16(POLLIN), revents: 0)) }
            let ready = poll(&fds, nfds_t(fds.count), 100)
            if ready < 0, errno != EINTR {
                endReason = "poll failed: \(String(cString: strerror(errno)))"
                break
            }
            if fds.count > 1, fds[1].revents != 0 { requestStop("stopped by a signal") }
            guard fds[0].revents != 0 else { continue }
            do {
                stream.reserveSpace()
                let count = try monitor.receive(into: stream.freeSpace, label: "MONITOR")
                if count == 0 {
                    analyseWholeLines()
                    live.connectionLost = true
                    endReason = streamFault().map { "the MONITOR connection failed: \($0)" } ?? "the server closed the MONITOR connection"
                    break
                }
                stream.received(count)
                analyseWholeLines()
            } catch {
                analyseWholeLines()
                live.connectionLost = true
                endReason = "the MONITOR connection failed: \(error.detail)"
            }
        }
        // The last reads get the ordinary timeout again.
        sampler.connection.notAfter = nil
        if !endRead {
            readCommandStats()
            windowNotes.append("The session ended without its end marker (\(endReason ?? "ended")): calls the server ran after the last one analysed, up to the last read, are measured but not estimated.")
        } else if !markerSeen {
            windowNotes.append("Calls still arriving after the stop were left out of the analysis; the server's figures include those that ran before the last read.")
        }
        var result = session.finish()
        result.measuredTime = measured.result(final: result, intervalSeconds: options.statsInterval, notes: windowNotes)
        switch serverLog {
        case .success(let reader)?:
            result.serverLog = reader.finish(server: connection.serverName, connection: sampler.connection, table: analyzer.table,
                                             topCalls: result.topCalls, toolAddress: sampler.addressIsShared ? nil : sampler.monitorAddress)
        case .failure(let error)?:
            var check = AnalysisResult.ServerLogCheck(source: "SLOWLOG")
            check.unavailable = error.description
            result.serverLog = check
        case nil: break
        }
        live.seconds = monotonicSeconds() - started
        live.endReason = endReason ?? "ended"
        live.keysSampled = sampler.keysSampled
        live.keysDeferred = sampler.keysDeferred
        live.samplingDisabled = sampler.disabledReason
        live.subscriberCountsRead = sampler.subscriberCountsRead
        live.subscriberCountsDenied = sampler.subscriptionsDeniedReason
        if sampler.isEnabled { live.keySizesAtEnd = keySizes(sampler.connection) }
        live.toolCommands = sampler.connection.sentCommands.merging(monitor.sentCommands, uniquingKeysWith: +)
        result.live = live
        return result
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
