import Foundation

/// What a live session asks the server: the size of one key, or the key count of a database
/// (`DBSIZE`) or of all databases (`INFO keyspace`). All O(1) for the server.
public enum SizeRequest: Hashable, Sendable {
    case key(database: Int, name: [UInt8])
    case databaseSize(Int)
    case allKeys
}

/// The sampler's own connection (`CLIENT SETNAME redis-cost-sampler`): it reads the sizes of
/// the keys the monitored calls touch with `TYPE` then `STRLEN`/`LLEN`/`SCARD`/`ZCARD`/`HLEN`/
/// `XLEN`/`VCARD`, pipelined, at most `samplesPerSecond` keys a second, each key at most once
/// per `cacheSeconds`. Its commands come back in the MONITOR stream; `own` recognises them
/// there (they are left out of the analysis) and says where the model takes a sampled size.
public final class LiveSampler {
    public enum Action {
        case none
        /// The server measured this key here.
        case resync(SampledKey, key: [UInt8], database: Int)
        /// The marker sent when the session stops: every call before it has been seen.
        case endMarker
    }

    struct Expected {
        var argv: [[UInt8]]
        var action: Action
    }

    public static let clientName = "redis-cost-sampler"

    let connection: RedisConnection
    /// How MONITOR names this connection's client (`127.0.0.1:50422`, `unix:/path`).
    let monitorAddress: [UInt8]
    /// Every unix-socket client shows as the same `unix:/path`: the address alone does not
    /// tell our lines from the workload's, the expected commands do.
    let addressIsShared: Bool
    private var expected: [Expected] = []
    private var head = 0
    private var database: Int

    let samplesPerSecond: Double
    let cacheSeconds: Double
    private var tokens: Double
    private var lastRefill = monotonicSeconds()
    private var sampledAt: [SizeRequest: Double] = [:]

    public private(set) var commandsSent = 0
    public private(set) var keysSampled = 0
    /// Keys that needed a sample while the rate limit was spent (their sizes stay unknown).
    public private(set) var keysDeferred = 0
    /// Why sampling stopped (an ACL refusal, a lost connection), or nil.
    public private(set) var disabledReason: String?

    public init(_ options: ConnectionOptions, samplesPerSecond: Double, cacheSeconds: Double) throws(ServerError) {
        connection = try RedisConnection(options)
        database = options.database
        self.samplesPerSecond = samplesPerSecond
        self.cacheSeconds = cacheSeconds
        tokens = max(1, samplesPerSecond / 10)
        _ = try connection.require(["CLIENT", "SETNAME", Self.clientName])
        if let socketPath = options.socketPath {
            monitorAddress = Array("unix:\(socketPath)".utf8)
            addressIsShared = true
        } else {
            // CLIENT INFO (6.2+) gives the address the server prints for this client.
            let info = (try? connection.require(["CLIENT", "INFO"]).text) ?? ""
            let address = info.split(separator: " ").first { $0.hasPrefix("addr=") }.map { String($0.dropFirst(5)) }
            monitorAddress = Array((address ?? "").utf8)
            addressIsShared = address == nil
        }
    }

    var isEnabled: Bool { disabledReason == nil }

    /// Whether a request may go out now: not sampled within `cacheSeconds`, and the rate limit allows it.
    public func admit(_ request: SizeRequest) -> Bool {
        guard isEnabled else { return false }
        let now = monotonicSeconds()
        if let at = sampledAt[request], now - at < cacheSeconds { return false }
        tokens = min(max(1, samplesPerSecond / 10), tokens + (now - lastRefill) * samplesPerSecond)
        lastRefill = now
        guard tokens >= 1 else {
            keysDeferred += 1
            return false
        }
        tokens -= 1
        if sampledAt.count > 1_000_000 { sampledAt = sampledAt.filter { now - $0.value < cacheSeconds } }
        sampledAt[request] = now
        return true
    }

    /// Samples the requests (two pipelined round trips: types, then sizes) and tells the
    /// analyzer what it found. A failure disables sampling; the session goes on.
    public func sample(_ requests: [SizeRequest], into analyzer: Analyzer) {
        guard isEnabled, !requests.isEmpty else { return }
        do {
            try sampleOrThrow(requests, into: analyzer)
        } catch {
            disable(error.description)
        }
    }

    private func disable(_ reason: String) {
        disabledReason = reason
        expected.removeAll()
        head = 0
    }

    private func sampleOrThrow(_ requests: [SizeRequest], into analyzer: Analyzer) throws(ServerError) {
        // Round one: TYPE of every key, DBSIZE, INFO keyspace.
        var batch = Batch(sampler: self)
        for request in requests {
            switch request {
            case .key(let db, let name): batch.add(["TYPE"], key: name, in: db, for: request)
            case .databaseSize(let db): batch.add(["DBSIZE"], in: db, for: request)
            case .allKeys: batch.add(["INFO", "keyspace"], in: nil, for: request)
            }
        }
        var sizes = Batch(sampler: self)
        var typed: [(request: SizeRequest, type: String, entry: Int)] = []
        for (reply, request, entry) in try batch.run() {
            if case .error(let message) = reply {
                throw ServerError(server: connection.serverName, command: "size sampling", detail: message)
            }
            switch request {
            case .key(let db, let name):
                let type = reply.text ?? "unknown"
                if type != "none", let command = sizeCommandByType[type] {
                    typed.append((request, type, sizes.add([command], key: name, in: db, for: request)))
                } else {
                    // Missing, or a type with no O(1) size: the TYPE line is where it was measured.
                    let sample = SampledKey(type: type, size: type == "none" ? .missing : .unknown)
                    expected[entry].action = .resync(sample, key: name, database: db)
                    analyzer.receive(sample, key: name, database: db)
                    keysSampled += 1
                }
            case .databaseSize(let db):
                if let n = reply.int { analyzer.receiveDatabaseSize(n, database: db) }
            case .allKeys:
                let total = parseInfo(reply.text ?? "").reduce(0) { total, field in
                    guard field.key.hasPrefix("db"), let keys = field.value.split(separator: ",").first(where: { $0.hasPrefix("keys=") }),
                          let n = Int(keys.dropFirst(5)) else { return total }
                    return total + n
                }
                analyzer.receiveDatabaseSize(total, database: nil)
            }
        }
        // Round two: the O(1) size command of each key's type.
        var byEntry: [Int: String] = [:]
        for item in typed { byEntry[item.entry] = item.type }
        for (reply, request, entry) in try sizes.run() {
            guard case .key(let db, let name) = request, let type = byEntry[entry] else { continue }
            var size = KeySize.unknown
            if let n = reply.int { size = type == "string" ? .bytes(n) : .elements(n) }
            let sample = SampledKey(type: type, size: size)
            expected[entry].action = .resync(sample, key: name, database: db)
            analyzer.receive(sample, key: name, database: db)
            keysSampled += 1
        }
    }

    /// One pipeline of the sampler's commands, `SELECT`s included, each recorded as expected
    /// in the MONITOR stream.
    struct Batch {
        let sampler: LiveSampler
        var commands: [[[UInt8]]] = []
        /// For each command: the request it serves and its entry in `expected` (nil for SELECT).
        var purposes: [(request: SizeRequest, entry: Int)?] = []

        @discardableResult
        mutating func add(_ words: [String], key: [UInt8]? = nil, in database: Int?, for request: SizeRequest) -> Int {
            if let database, database != sampler.database {
                append(["SELECT", String(database)].map { Array($0.utf8) }, nil)
                sampler.database = database
            }
            return append(words.map { Array($0.utf8) } + (key.map { [$0] } ?? []), request)
        }

        @discardableResult
        private mutating func append(_ argv: [[UInt8]], _ request: SizeRequest?) -> Int {
            commands.append(argv)
            sampler.expected.append(Expected(argv: argv, action: .none))
            let entry = sampler.expected.count - 1
            purposes.append(request.map { ($0, entry) })
            return entry
        }

        func run() throws(ServerError) -> [(RESPValue, SizeRequest, Int)] {
            guard !commands.isEmpty else { return [] }
            sampler.commandsSent += commands.count
            let replies = try sampler.connection.pipelineBytes(commands, label: "size sampling")
            return zip(replies, purposes).compactMap { reply, purpose in purpose.map { (reply, $0.request, $0.entry) } }
        }
    }

    /// Sends a command that is not a sample (the end marker, `CLIENT LIST ID`), expected in
    /// the stream like the others in case the server shows it.
    func send(_ argv: [String], action: Action = .none) throws(ServerError) -> RESPValue {
        let bytes = argv.map { Array($0.utf8) }
        expected.append(Expected(argv: bytes, action: action))
        commandsSent += 1
        return try connection.pipelineBytes([bytes], label: argv.prefix(2).joined(separator: " "))[0]
    }

    /// Sends the end marker: once it shows in the stream, every call the server ran before
    /// the stop has been seen.
    public func sendEndMarker() -> Bool {
        guard isEnabled else { return false }
        do {
            _ = try send(["ECHO", "redis-cost-end-\(UInt64.random(in: 0...UInt64.max))"], action: .endMarker)
            return true
        } catch {
            disable(error.description)
            return false
        }
    }

    /// Whether a MONITOR line is the sampler's own, and what it marks. Commands the server
    /// does not show (admin commands) are skipped over.
    public func own(client: UnsafeRawBufferPointer, argv: Argv) -> Action? {
        guard client.elementsEqual(monitorAddress) else { return nil }
        let window = min(expected.count, head + 64)
        for j in head..<window where expected[j].argv.count == argv.count
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
        guard isEnabled, let reply = try? send(["CLIENT", "LIST", "ID", String(id)]), let text = reply.text else { return nil }
        return text.split(separator: " ").first { $0.hasPrefix("omem=") }.flatMap { Int($0.dropFirst(5)) }
    }
}

func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
