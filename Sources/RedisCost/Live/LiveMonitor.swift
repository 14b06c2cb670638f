#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

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
        /// After a stop, the calls the server ran before it are still read: until the stream has
        /// been silent this long, and at most `maxDrainSeconds`.
        public var drainSeconds = 2.0
        public var maxDrainSeconds = 30.0
        public init() {}
    }

    public struct Progress: Sendable {
        public var calls: Int
        public var seconds: Double
        public var monitorOutputBytes: Int?
    }

    public static func run(_ connection: ConnectionOptions, analyzer: Analyzer, options: Options,
                           progress: ((Progress) -> Void)? = nil) throws(ServerError) -> AnalysisResult {
        let sampler = try LiveSampler(connection, samplesPerSecond: options.samplesPerSecond, cacheSeconds: options.cacheSeconds)
        var live = AnalysisResult.LiveSession(server: connection.serverName)
        live.serverVersion = try? sampler.connection.serverID()
        live.keySizesAtStart = keySizes(sampler.connection)
        live.samplesPerSecond = options.samplesPerSecond

        let monitor = try RedisConnection(connection)
        let monitorID = try monitor.command(["CLIENT", "ID"]).int
        let reply = try monitor.command(["MONITOR"])
        if case .error(let message) = reply {
            throw ServerError(server: connection.serverName, command: "MONITOR", detail: RedisConnection.explain(message))
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
        session.ownCall = { [unowned session] _, client, argv in
            guard let action = sampler.own(client: client, argv: argv) else { return false }
            switch action {
            case .none: break
            case .resync(let sample, let key, let database): analyzer.resync(sample, key: key, database: database)
            case .endMarker:
                // Everything the server ran before the stop has been seen: end here exactly.
                markerSeen = true
                session.callLimit = session.calls
            }
            live.samplerCommands += 1
            return true
        }

        var stream = StreamBuffer(initial: monitor.takeBufferedBytes())
        defer { stream.deallocate() }
        let started = monotonicSeconds()
        var stopReason: String?
        var drainDeadline = 0.0
        var drainLimit = 0.0
        var endReason: String?
        var lastWatch = started
        func requestStop(_ reason: String) {
            guard stopReason == nil else { return }
            stopReason = reason
            if sampler.sendEndMarker() {
                drainDeadline = monotonicSeconds() + options.drainSeconds
                drainLimit = monotonicSeconds() + options.maxDrainSeconds
            } else {
                endReason = reason
            }
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
                    }
                }
            }
            session.consume(chunk, framing: .resp)
            stream.consumed(chunk.count)
        }

        analyseWholeLines()
        while endReason == nil {
            let now = monotonicSeconds()
            if markerSeen { endReason = stopReason; break }
            if session.isFull { endReason = "--count reached"; break }
            if stopReason != nil, now > min(drainDeadline, drainLimit) { endReason = (stopReason ?? "") + " (calls still arriving after the stop were left out)"; break }
            if let duration = options.duration, now - started >= duration { requestStop("--duration reached") }
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
                    endReason = "the server closed the MONITOR connection"
                    break
                }
                stream.received(count)
                if stopReason != nil { drainDeadline = monotonicSeconds() + options.drainSeconds }
                analyseWholeLines()
            } catch {
                analyseWholeLines()
                live.connectionLost = true
                endReason = "the MONITOR connection failed: \(error.detail)"
            }
        }
        var result = session.finish()
        live.seconds = monotonicSeconds() - started
        live.endReason = endReason ?? "ended"
        live.keysSampled = sampler.keysSampled
        live.keysDeferred = sampler.keysDeferred
        live.samplingDisabled = sampler.disabledReason
        if sampler.isEnabled { live.keySizesAtEnd = keySizes(sampler.connection) }
        live.toolCommands = sampler.connection.sentCommands.merging(monitor.sentCommands, uniquingKeysWith: +)
        result.live = live
        return result
    }

    /// `INFO keysizes` (Redis 8+; empty elsewhere) as ordered fields.
    static func keySizes(_ connection: RedisConnection) -> [(field: String, value: String)] {
        (try? connection.command(["INFO", "keysizes"]))?.text.map(infoLines) ?? []
    }
}

/// The bytes read from the MONITOR socket: whole lines are analysed, a partial last line waits
/// for the rest. Grows when a single line (a big value) does not fit.
struct StreamBuffer {
    private var storage: UnsafeMutableRawBufferPointer
    private var filled = 0

    init(initial: [UInt8]) {
        storage = .allocate(byteCount: max(4 << 20, initial.count * 2), alignment: 8)
        initial.withUnsafeBytes { storage.copyMemory(from: $0) }
        filled = initial.count
    }

    func deallocate() { storage.deallocate() }

    /// Everything up to and including the last newline, or nil.
    var wholeLines: UnsafeRawBufferPointer? {
        var i = filled
        while i > 0 {
            if storage[i - 1] == 10 { return UnsafeRawBufferPointer(rebasing: storage[0..<i]) }
            i -= 1
        }
        return nil
    }

    mutating func consumed(_ count: Int) {
        let rest = filled - count
        if rest > 0, let base = storage.baseAddress { memmove(base, base + count, rest) }
        filled = rest
    }

    /// Room for the next read: doubles when the buffer is full of one unfinished line.
    mutating func reserveSpace() {
        guard filled == storage.count else { return }
        let larger = UnsafeMutableRawBufferPointer.allocate(byteCount: storage.count * 2, alignment: 8)
        larger.copyMemory(from: UnsafeRawBufferPointer(storage))
        storage.deallocate()
        storage = larger
    }

    var freeSpace: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(rebasing: storage[filled...]) }

    mutating func received(_ count: Int) { filled += count }
}
