import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// The sampler's own connection (`CLIENT SETNAME redis-cost-sampler`): it reads the sizes of
/// the keys the monitored calls touch with `TYPE` then the O(1) command the table says
/// measures the type (`semantics.measures`: `STRLEN`, `LLEN`, …, `BF.CARD`, `TS.INFO`,
/// `JSON.OBJLEN`/`JSON.ARRLEN`), pipelined, at most `samplesPerSecond` keys a second, each key
/// at most once per `cacheSeconds`. Its commands come back in the MONITOR stream; `own`
/// recognises them there by their exact arguments (they are left out of the analysis) and says
/// where the model takes a sampled size: at the command that answered.
public final class LiveSampler {
    public enum Action {
        case none
        /// The server measured this key here.
        case resync(SampledKey, key: [UInt8], database: Int)
        /// The server counted these channels' subscribers here.
        case resyncSubscribers([SubscriberCount])
        /// The server counted the pattern subscriptions here.
        case resyncPatterns(Int)
        /// The marker sent when the session stops: every call before it has been seen.
        case endMarker
    }

    package struct Expected {
        package var argv: [[UInt8]]
        package var action: Action
        /// The stream chunk during which it was sent: it can only show in later chunks.
        package var epoch: Int
    }

    /// Counts the stream's chunks (see `beginChunk`).
    private var epoch = 0

    /// The session has received a new chunk: commands sent from now on run after every line
    /// in it, so none of its lines can be theirs (a workload's own `TYPE k` is not ours).
    public func beginChunk() { epoch += 1 }

    public static let clientName = "redis-cost-sampler"

    package let connection: RedisConnection
    /// Where the size command of each type comes from.
    package let table: CommandTable
    /// How MONITOR names this connection's client (`127.0.0.1:50422`, `unix:/path`).
    package let monitorAddress: [UInt8]
    /// Every unix-socket client shows as the same `unix:/path`: the address alone does not
    /// tell our lines from the workload's, the expected commands do.
    package let addressIsShared: Bool
    private var expected: [Expected] = []
    private var head = 0
    private var database: Int

    package let samplesPerSecond: Double
    package let cacheSeconds: Double
    private var tokens: Double
    private var lastRefill = monotonicSeconds()
    private var sampledAt: [SizeRequest: Double] = [:]

    public private(set) var keysSampled = 0
    /// Channels whose subscribers were counted, and pattern-subscription counts read.
    public private(set) var subscriberCountsRead = 0
    /// Keys that needed a sample while the rate limit was spent (their sizes stay unknown).
    public private(set) var keysDeferred = 0
    /// MOVED or ASK answers to a live sampler's size commands (the key's slot is served elsewhere now).
    public private(set) var redirectsSeen = 0
    /// Why sampling stopped (an ACL refusal, a lost connection), or nil.
    public private(set) var disabledReason: String?

    /// Whether a MONITOR stream will show this sampler's commands (a live session); a
    /// sampler for a capture file does not record them.
    package let watchedByMonitor: Bool

    /// Other cluster nodes a capture's sampler asks when a key's node answers MOVED or ASK.
    public let redirects: ClusterRedirects?

    public init(_ options: ConnectionOptions, table: CommandTable, samplesPerSecond: Double, cacheSeconds: Double,
                watchedByMonitor: Bool = true) throws(ServerError) {
        connection = try RedisConnection(options)
        redirects = watchedByMonitor ? nil : ClusterRedirects(base: options, table: table)
        self.table = table
        self.watchedByMonitor = watchedByMonitor
        database = options.database
        self.samplesPerSecond = samplesPerSecond
        self.cacheSeconds = cacheSeconds
        tokens = max(1, samplesPerSecond / 10)
        // A user without +client still gets a session: unnamed, told apart by its commands.
        _ = try connection.command(["CLIENT", "SETNAME", Self.clientName])
        if let socketPath = options.socketPath {
            monitorAddress = Array("unix:\(socketPath)".utf8)
            addressIsShared = true
        } else {
            // CLIENT INFO (6.2+) gives the address the server prints for this client.
            let info = (try? connection.require(["CLIENT", "INFO"]).text) ?? ""
            let address = clientFields(info)["addr"]
            monitorAddress = Array((address ?? "").utf8)
            addressIsShared = address == nil
        }
    }

    package var isEnabled: Bool { disabledReason == nil }

    /// Whether a request may go out now: not sampled within `cacheSeconds`, and the rate limit
    /// allows it. With `wait`, it waits for the rate limit instead of declining (a capture file
    /// has no deadline; a live stream does).
    public func admit(_ request: SizeRequest, wait: Bool = false) -> Bool {
        guard isEnabled, samplesPerSecond > 0 else { return false }
        var now = monotonicSeconds()
        if let at = sampledAt[request], now - at < cacheSeconds { return false }
        tokens = min(max(1, samplesPerSecond / 10), tokens + (now - lastRefill) * samplesPerSecond)
        lastRefill = now
        if wait, tokens < 1 {
            usleep(useconds_t((1 - tokens) / samplesPerSecond * 1_000_000))
            now = monotonicSeconds()
            tokens = 1
            lastRefill = now
        }
        guard tokens >= 1 else {
            keysDeferred += 1
            return false
        }
        tokens -= 1
        if sampledAt.count > 1_000_000 { sampledAt = sampledAt.filter { now - $0.value < cacheSeconds } }
        sampledAt[request] = now
        return true
    }

    /// What a request found.
    public enum Sampled {
        case key(SampledKey, key: [UInt8], database: Int)
        /// Keys in a database (`DBSIZE`), or in all of them (`database` nil).
        case keyCount(Int, database: Int?)
        case subscribers(SubscriberCount)
        case patternSubscriptions(Int)
    }

    /// Why subscriber counts are not read (PUBSUB refused by an ACL), or nil; keys are still sampled.
    public private(set) var subscriptionsDeniedReason: String?

    /// Samples the requests (per database: two pipelined round trips, types then sizes) and
    /// notes where each key was measured in the stream. A failure disables sampling and
    /// returns what was found before it; the session goes on.
    public func sample(_ requests: [SizeRequest]) -> [Sampled] {
        guard isEnabled, !requests.isEmpty else { return [] }
        var found: [Sampled] = []
        do {
            var keysByDatabase: [Int: [[UInt8]]] = [:]
            var channels: [[SubscriberCount]] = [[], []]
            var patterns = false
            for request in requests {
                switch request {
                case .subscribers(let channel, let shard): channels[shard ? 1 : 0].append(.init(channel: channel, shard: shard, count: 0))
                case .patternSubscriptions: patterns = true
                case .key(let db, let name): keysByDatabase[db, default: []].append(name)
                case .databaseSize(let db):
                    if let n = try run([["DBSIZE"]], in: db)[0].int, (0...largestSize).contains(n) { found.append(.keyCount(n, database: db)) }
                case .allKeys:
                    found.append(.keyCount(keyCount(infoKeyspace: try run([["INFO", "keyspace"]], in: nil)[0].text ?? ""), database: nil))
                }
            }
            found += try sampleSubscriptions(channels: channels[0] + channels[1], patterns: patterns)
            for (db, names) in keysByDatabase.sorted(by: { $0.key < $1.key }) {
                var entries: [[Int]] = [[], []]
                // A capture's sampler follows a MOVED/ASK to the key's owner; a live one keeps to
                // its node, whose stream shows its commands, and the key stays unknown.
                // A MOVED is counted: the slot has another owner, and `monitor --cluster` reads the topology again.
                let redirected: ClusterRedirects.Follower? = watchedByMonitor
                    ? { redirect, key throws(ServerError) in self.redirectsSeen += 1; return try ClusterRedirects.leaveUnknown(redirect, key) }
                    : redirects?.follower
                let results = try sampleSizes(names, table: table, server: connection.serverName, redirected: redirected) { (round, commands) throws(ServerError) in
                    let (replies, recorded) = try runRecording(commands, in: db)
                    entries[round] = recorded
                    return replies
                }
                for (name, result) in zip(names, results) {
                    if watchedByMonitor {
                        expected[entries[result.round][result.position]].action = .resync(result.sample, key: name, database: db)
                    }
                    found.append(.key(result.sample, key: name, database: db))
                    keysSampled += 1
                }
            }
        } catch {
            disable(error.description)
        }
        return found
    }

    /// Counts subscribers with `PUBSUB NUMSUB` / `SHARDNUMSUB` (one command per 1,000
    /// channels) and `PUBSUB NUMPAT`, pipelined; each count is taken where its command shows
    /// in the stream. A refusal stops these reads only.
    private func sampleSubscriptions(channels: [SubscriberCount], patterns: Bool) throws(ServerError) -> [Sampled] {
        guard subscriptionsDeniedReason == nil, !channels.isEmpty || patterns else { return [] }
        var commands: [[[UInt8]]] = []
        var batches: [[SubscriberCount]] = []
        for shard in [false, true] {
            let ofKind = channels.filter { $0.shard == shard }
            for start in stride(from: 0, to: ofKind.count, by: 1000) {
                let batch = Array(ofKind[start..<min(ofKind.count, start + 1000)])
                commands.append([Array("PUBSUB".utf8), Array((shard ? "SHARDNUMSUB" : "NUMSUB").utf8)] + batch.map(\.channel))
                batches.append(batch)
            }
        }
        if patterns { commands.append([Array("PUBSUB".utf8), Array("NUMPAT".utf8)]) }
        let (replies, entries) = try runRecording(commands, in: nil)
        var found: [Sampled] = []
        for (i, reply) in replies.enumerated() {
            if case .error(let message) = reply {
                subscriptionsDeniedReason = "\(connection.serverName): PUBSUB: \(message)"
                return found
            }
            if i < batches.count {
                // [channel, count, channel, count, …] in the order asked.
                guard case .array(let items) = reply, items.count == batches[i].count * 2 else { continue }
                var counts: [SubscriberCount] = []
                for (j, asked) in batches[i].enumerated() {
                    guard let n = items[2 * j + 1].int, (0...largestSize).contains(n) else { continue }
                    counts.append(.init(channel: asked.channel, shard: asked.shard, count: n))
                    found.append(.subscribers(counts[counts.count - 1]))
                    subscriberCountsRead += 1
                }
                if watchedByMonitor, i < entries.count { expected[entries[i]].action = .resyncSubscribers(counts) }
            } else if let n = reply.int, (0...largestSize).contains(n) {
                found.append(.patternSubscriptions(n))
                subscriberCountsRead += 1
                if watchedByMonitor, i < entries.count { expected[entries[i]].action = .resyncPatterns(n) }
            }
        }
        return found
    }

    private func disable(_ reason: String) {
        disabledReason = reason
        expected.removeAll()
        head = 0
    }

    /// Runs commands in a database (SELECT first if needed), each recorded as expected in the
    /// MONITOR stream; returns the replies and the commands' entries in `expected`.
    private func runRecording(_ commands: [[[UInt8]]], in database: Int?) throws(ServerError) -> ([RESPValue], [Int]) {
        var batch = commands
        var selected = false
        if let database, database != self.database {
            batch.insert([Array("SELECT".utf8), Array(String(database).utf8)], at: 0)
            selected = true
        }
        var entries: [Int] = []
        for argv in batch where watchedByMonitor {
            expected.append(Expected(argv: argv, action: .none, epoch: epoch))
            entries.append(expected.count - 1)
        }
        var replies = try connection.pipelineBytes(batch, label: RedisConnection.label(of: batch))
        if selected {
            if case .error(let message) = replies[0] { throw ServerError(server: connection.serverName, command: "SELECT", detail: message) }
            self.database = database!
            replies.removeFirst()
            if watchedByMonitor { entries.removeFirst() }
        }
        return (replies, entries)
    }

    private func run(_ commands: [[String]], in database: Int?) throws(ServerError) -> [RESPValue] {
        let argv = commands.map { $0.map { Array($0.utf8) } }
        let replies = try runRecording(argv, in: database).0
        for reply in replies {
            if case .error(let message) = reply { throw ServerError(server: connection.serverName, command: RedisConnection.label(of: argv), detail: message) }
        }
        return replies
    }

    /// A size source for a capture file analysed with `--sample`: each key the analysis asks
    /// for is read now, at the sampler's pace. Key counts per database are read once, first.
    public func sizeSource(for analyzer: Analyzer) -> (UnsafeRawBufferPointer, Int) -> SampledKey? {
        if let text = try? run([["INFO", "keyspace"]], in: nil)[0].text {
            let counts = keyCounts(infoKeyspace: text)
            for (db, n) in counts { analyzer.receiveDatabaseSize(n, database: db) }
            analyzer.receiveDatabaseSize(keyCount(infoKeyspace: text), database: nil)
        }
        return { key, database in
            let request = SizeRequest.key(database: database, name: Array(key))
            guard self.admit(request, wait: true), case .key(let sample, _, _)? = self.sample([request]).first else { return nil }
            return sample
        }
    }

    /// Sends a command that is not a sample (the end marker, `CLIENT LIST ID`), expected in
    /// the stream like the others in case the server shows it.
    package func send(_ argv: [String], action: Action = .none) throws(ServerError) -> RESPValue {
        let (replies, entries) = try runRecording([argv.map { Array($0.utf8) }], in: nil)
        if let entry = entries.first { expected[entry].action = action }
        return replies[0]
    }

    /// Sends the end marker: once it shows in the stream, every call the server ran before
    /// the stop has been seen.
    public func sendEndMarker() -> Bool {
        guard isEnabled else { return false }
        do {
            // Refused (an ACL), the marker never shows: nothing to wait for.
            if case .error = try send(["ECHO", "redis-cost-end-\(UInt64.random(in: 0...UInt64.max))"], action: .endMarker) { return false }
            return true
        } catch {
            disable(error.description)
            return false
        }
    }

    /// Whether a MONITOR line is the sampler's own, and what it marks. Commands the server
    /// does not show (admin commands) are skipped over.
    public func own(client: UnsafeRawBufferPointer, argv: Argv) -> Action? {
        // An unknown address (CLIENT INFO denied) matches any: the commands decide.
        guard monitorAddress.isEmpty || client.elementsEqual(monitorAddress) else { return nil }
        let window = min(expected.count, head + 64)
        for j in head..<window where expected[j].epoch < epoch && expected[j].argv.count == argv.count
            && expected[j].argv.indices.allSatisfy({ argv[$0].elementsEqual(expected[j].argv[$0]) }) {
            head = j + 1
            if head > 4096, head * 2 > expected.count {
                expected.removeFirst(head)
                head = 0
            }
            return expected[j].action
        }
        return addressIsShared ? nil : Action.none
    }

    /// `omem` (bytes in the output buffer) of a client, from `CLIENT LIST ID` (Redis 6.2+).
    public func outputBufferBytes(ofClient id: Int) -> Int? {
        guard isEnabled else { return nil }
        do {
            // A refusal (no +client) is a reply without text; a failure leaves the connection unusable.
            return try send(["CLIENT", "LIST", "ID", String(id)]).text.flatMap { clientFields($0)["omem"] }.flatMap { Int($0) }
        } catch {
            disable(error.description)
            return nil
        }
    }
}

package func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
