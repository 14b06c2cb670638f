import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Everything an analysis found, ready for the markdown and JSON reports.
public struct AnalysisResult: Sendable {
    package init(input: String) { self.input = input }
    public struct Segment: Sendable {
        public var path: String
        public var role: AOFInput.Role
        public var format: AOFInput.Format
        public var bytes: Int
        public var commands: Int
    }

    public struct CommandStats: Sendable {
        public var name: String
        public var calls = 0
        /// Sum of the known costs (upper bounds included as their bound).
        public var cost = 0.0
        public var unknownCalls = 0
        public var upperBoundCalls = 0
        public var maxCost = 0.0
        /// Of `cost`, what the calls a wrapper ran (MULTI…EXEC, scripts) touched: a wrapper's
        /// row includes them, as INFO commandstats does; totals count them once, in their own rows.
        public var nestedCost = 0.0
        /// What its calls added to the elements-touched totals: `cost` less `nestedCost`, or 0
        /// for bytes of script compiled, which are priced in time only.
        public var elementsInTotals = 0.0
        public var isWrite = false
        /// MONITOR only: the sum and the largest of the gaps to the next line (an upper bound
        /// of the time each call took).
        public var observedMicroseconds: Int64 = 0
        public var maxObservedMicroseconds: Int64 = 0
        /// Server time by the time model: calls with a known cost only.
        public var estimatedMicroseconds = 0.0
        /// EXEC, EVAL/EVALSHA, FCALL…: its row includes the calls it ran, which have rows of their own.
        public var isWrapper = false

        package init(name: String, isWrite: Bool = false, isWrapper: Bool = false) {
            self.name = name
            self.isWrite = isWrite
            self.isWrapper = isWrapper
        }
    }

    public struct Call: Sendable {
        /// Server time of this call by the time model (when its cost is known).
        public var estimatedMicroseconds: Double?
        public var command: String
        public var keys: [[UInt8]]
        public var sizes: [KeySize]
        /// A wrapper's cost includes the calls it ran (MULTI…EXEC, a script); `nestedCost` is their part.
        public var cost: Cost
        public var nestedCost: Double?
        /// Unix seconds from the last `#TS:` annotation before it, if any.
        public var time: Int64?
        public var file: String
        /// The byte offset of the command in an AOF; the line number in a MONITOR capture.
        public var offset: Int
        public var inTransaction: Bool
        public var database: Int
    }

    public struct PatternStats: Sendable {
        public var pattern: [UInt8]
        public var calls = 0
        public var reads = 0
        public var writes = 0
        public var cost = 0.0
        public var unknownCalls = 0
    }

    public struct BigKey: Sendable {
        public var database: Int
        public var name: [UInt8]
        public var type: String
        public var size: KeySize
        public var approximate: Bool
    }

    /// What a snapshot (an RDB file, an RDB base or preamble) held when it was loaded.
    public struct SnapshotProfile: Sendable {
        package init(file: String, magic: String, checksumVerified: Bool, aux: [String: String] = [:], keys: Int = 0, expiringKeys: Int = 0, emptyKeysSkipped: Int = 0, byType: [String: TypeStats] = [:], byEncoding: [String: Int] = [:], biggestByElements: [BigKey] = [], biggestByBytes: [BigKey] = [], patterns: [PatternCount] = []) {
            self.file = file
            self.magic = magic
            self.checksumVerified = checksumVerified
            self.aux = aux
            self.keys = keys
            self.expiringKeys = expiringKeys
            self.emptyKeysSkipped = emptyKeysSkipped
            self.byType = byType
            self.byEncoding = byEncoding
            self.biggestByElements = biggestByElements
            self.biggestByBytes = biggestByBytes
            self.patterns = patterns
        }
        public struct TypeStats: Sendable {
            public var keys = 0
            public var elements = 0
            public var bytes = 0
        }
        public struct BigKey: Sendable {
            public var database: Int
            public var name: [UInt8]
            public var type: String
            public var size: KeySize
            public var bytes: Int
        }
        public struct PatternCount: Sendable {
            public var pattern: [UInt8]
            public var keys = 0
            public var bytes = 0
        }
        public var file: String
        public var magic: String
        public var checksumVerified: Bool
        public var aux: [String: String] = [:]
        public var keys = 0
        public var expiringKeys = 0
        public var emptyKeysSkipped = 0
        /// Keys whose expiry was before the file's ctime: dropped on load, as the server does.
        public var expiredOnLoad = 0
        public var byType: [String: TypeStats] = [:]
        public var byEncoding: [String: Int] = [:]
        public var biggestByElements: [BigKey] = []
        public var biggestByBytes: [BigKey] = []
        public var patterns: [PatternCount] = []
    }

    /// MONITOR: per client address.
    public struct ClientStats: Sendable {
        public var client: String
        public var calls = 0
        public var cost = 0.0
        public var unknownCalls = 0
    }

    /// MONITOR: the most called keys, with their read/write split.
    public struct HotKey: Sendable {
        public var database: Int
        public var name: [UInt8]
        public var calls = 0
        public var reads = 0
        public var writes = 0
    }

    /// MONITOR: a key and the calls that touched it (any of their keys), by what they cost:
    /// the time the server spent on it. A call counts once per key it touches, by its own part
    /// (a wrapper's calls count under their own keys).
    public struct BigHotKey: Sendable {
        public var database: Int
        public var name: [UInt8]
        public var calls = 0
        /// Elements the calls of known cost touched.
        public var cost = 0.0
        public var unknownCostCalls = 0
        public var estimatedMicroseconds = 0.0
        /// In the model at the end of the analysis; unknown when the model does not hold it.
        public var size: KeySize = .unknown
    }

    /// A live session: per command, the server's own count and time (`INFO commandstats`
    /// deltas over the session, less the tool's own calls) beside the estimate.
    public struct MeasuredTime: Sendable {
        public struct Row: Sendable {
            /// As commandstats names it: `get`, `client|setinfo`, a module's `FT.SEARCH`.
            public var command: String
            /// The workload's calls: the delta less the tool's own; nil when the counters were
            /// reset during the session.
            public var measuredCalls: Int?
            /// The workload's part of the measured time; when the tool ran the command too, its
            /// share in proportion to the calls (`sharedWithTool`).
            public var measuredMicroseconds: Double?
            public var toolCalls = 0
            public var sharedWithTool = false
            /// Calls the stream showed in the same window, and the estimate of those of known cost.
            public var estimatedCalls = 0
            public var estimatedMicroseconds: Double?
            public var unknownCostCalls = 0
            public var cost = 0.0
            public var isWrapper = false
            public init(command: String) { self.command = command }
        }
        public var rows: [Row] = []
        /// Times `INFO commandstats` was read (start, every `intervalSeconds`, end).
        public var reads = 0
        public var intervalSeconds = 0.0
        /// From the first read to the last.
        public var windowSeconds = 0.0
        /// A counter went down between two reads (CONFIG RESETSTAT, a restart).
        public var countersReset = false
        /// Where the measured and the analysed windows may differ, one sentence each.
        public var notes: [String] = []
        /// Why nothing could be measured (`INFO commandstats` refused or malformed), one line.
        public var unavailable: String?
        public init() {}

        /// Nothing measured, and why (one line naming the server).
        package static func unavailable(_ reason: String) -> MeasuredTime {
            var measured = MeasuredTime()
            measured.unavailable = reason
            return measured
        }
    }

    /// A live session: the server's own slow log (SLOWLOG, or COMMANDLOG's slow log on Valkey
    /// 8.1+) read at the end, its entries from the session beside the estimates.
    public struct ServerLogCheck: Sendable {
        public struct Entry: Sendable {
            public var id: Int
            public var time: Int64
            public var loggedMicroseconds: Int
            /// The table's name, or the first argument as the server logged it.
            public var command: String
            /// Key arguments only: a value is never kept.
            public var keys: [[UInt8]]
            /// The estimate of the analysed call it matched (same command and keys, within a second).
            public var estimatedMicroseconds: Double?
            /// Its rank among the costliest calls (0-based), when it matched one.
            public var topCall: Int?
            /// The cluster node whose log it is (`monitor --cluster`); nil for a single server.
            public var node: String?
            package init(id: Int, time: Int64, loggedMicroseconds: Int, command: String, keys: [[UInt8]]) {
                self.id = id
                self.time = time
                self.loggedMicroseconds = loggedMicroseconds
                self.command = command
                self.keys = keys
            }
        }
        /// `SLOWLOG` or `COMMANDLOG slow`.
        public var source: String
        /// `slowlog-log-slower-than` (µs; negative: logging off), when CONFIG GET answered.
        public var thresholdMicroseconds: Int?
        /// Entries logged during the session, the tool's own left out.
        public var entries: [Entry] = []
        public var toolEntries = 0
        /// The log may have lost entries of the session: more were logged than one read returns.
        public var mayHaveLost = false
        public var unavailable: String?
        public init(source: String) { self.source = source }

        /// Every cluster node's check as one: the entries of all (each naming its node), slowest
        /// first; the threshold when every node has the same; unavailable only when no node's
        /// log was read (the others' reasons are said beside).
        package static func merged(_ checks: [(node: String, check: ServerLogCheck)]) -> ServerLogCheck {
            var merged = ServerLogCheck(source: Set(checks.map(\.check.source)).sorted().joined(separator: ", "))
            let thresholds = Set(checks.compactMap(\.check.thresholdMicroseconds))
            merged.thresholdMicroseconds = thresholds.count == 1 && checks.allSatisfy({ $0.check.thresholdMicroseconds != nil }) ? thresholds.first : nil
            var failures: [String] = []
            for (node, check) in checks {
                if let reason = check.unavailable { failures.append("\(node): \(reason)"); continue }
                merged.entries += check.entries.map { var e = $0; e.node = node; return e }
                merged.toolEntries += check.toolEntries
                merged.mayHaveLost = merged.mayHaveLost || check.mayHaveLost
            }
            merged.entries.sort { ($0.loggedMicroseconds, $1.node ?? "", $1.id) > ($1.loggedMicroseconds, $0.node ?? "", $0.id) }
            if !failures.isEmpty {
                merged.unavailable = failures.count == checks.count ? failures.joined(separator: "; ") : nil
                merged.partlyUnavailable = failures.count == checks.count ? [] : failures
            }
            return merged
        }
        /// Cluster nodes whose log could not be read while others' were.
        public var partlyUnavailable: [String] = []
    }

    /// MONITOR: a call and the gap to the next line.
    /// What a live `monitor` session saw of the server beside the calls.
    public struct LiveSession: Sendable {
        public var server: String
        /// `redis-7.0.15`, `valkey-9.1.2`.
        public var serverVersion: String?
        public var seconds = 0.0
        /// Why the session ended: "--duration reached", "stopped by a signal", …
        public var endReason = ""
        public var connectionLost = false
        /// The sampler's commands seen in the stream (all left out of the analysis).
        public var samplerCommands = 0
        /// Every command the tool sent on its connections, by commandstats name (`TYPE`, `CLIENT|ID`).
        public var toolCommands: [String: Int] = [:]
        public var keysSampled = 0
        /// Keys that needed a sample while the rate limit was spent.
        public var keysDeferred = 0
        public var samplesPerSecond = 0.0
        public var samplingDisabled: String?
        /// Subscriber counts read (PUBSUB NUMSUB/SHARDNUMSUB per channel, NUMPAT), for PUBLISH's cost.
        public var subscriberCountsRead = 0
        /// Why they could not be read (PUBSUB refused), or nil.
        public var subscriberCountsDenied: String?
        /// The MONITOR client's output buffer on the server (`omem` of `CLIENT LIST`), bytes.
        public var maxMonitorOutputBytes: Int?
        public var lastMonitorOutputBytes: Int?
        /// `INFO keysizes` (Redis 8+) at the start and end: field → histogram, in the server's order.
        public var keySizesAtStart: [(field: String, value: String)] = []
        public var keySizesAtEnd: [(field: String, value: String)] = []
        public init(server: String) { self.server = server }
    }

    public struct SlowCall: Sendable {
        public var command: String
        public var keys: [[UInt8]]
        public var microseconds: Int64
        public var time: Int64
        public var line: Int
        public var client: String
        /// A blocking command (BRPOP, XREAD BLOCK…): its gap includes the wait for data.
        public var blocking = false
    }

    public var input: String
    public var clients: [ClientStats] = []
    public var hotKeys: [HotKey] = []
    /// Hot keys are counted for the first this-many distinct keys (memory stays bounded).
    public var hotKeysTracked = 0
    public var hotKeysCapped = false
    public var slowestCalls: [SlowCall] = []
    /// The keys the server spent the most estimated time on, costliest first.
    public var bigHotKeys: [BigHotKey] = []
    /// Followed for the first this-many distinct keys (memory stays bounded).
    public var bigHotKeysTracked = 0
    public var bigHotKeysCapped = false
    /// Live sessions: the server's commandstats beside the estimate, and its slow log.
    public var measuredTime: MeasuredTime?
    /// `monitor --fit-model`: the windows the time model is fitted on (not in the report).
    package var workloadFit: WorkloadFit.Observations?
    public var serverLog: ServerLogCheck?
    public var scripts = 0
    public var malformedLines = 0
    /// Lines or calls that could not be analysed: where (`capture:line`, `file@offset`) and why.
    public var firstMalformed: [(location: String, reason: String)] = []
    /// Calls whose cost is unknown because a key they touch existed before the capture.
    public var callsOnKeysOfUnknownSize = 0
    public var isMonitor = false
    /// False for a capture or live session without a baseline: the model holds only the keys
    /// the calls touched.
    public var knowsWholeDataSet = true
    /// Live sessions: keys whose size was read from the server (O(1) commands).
    public var sampledKeys = 0
    /// Elements touched per second of the input's clock, in time order.
    public var costOverTime: [(second: Int64, cost: Double)] = []
    /// The time model's estimate of the server time all calls of known cost took, and where
    /// its constants came from.
    public var estimatedMicroseconds = 0.0
    public var timeModelSource = ""
    /// What the rules found (empty when no rules ran).
    public var findings: [Finding] = []
    /// The newest `since` of the commands seen, and those commands.
    public var minimumVersions: [MinimumVersion] = []

    /// The oldest server of one family (Redis, Valkey) that has every command the workload ran.
    public struct MinimumVersion: Sendable, Equatable {
        package init(family: String, version: String, commands: [String] = [], unavailable: [String] = []) {
            self.family = family
            self.version = version
            self.commands = commands
            self.unavailable = unavailable
        }
        public var family: String
        public var version: String
        /// The commands that need `version` (empty: any release of the family has them all).
        public var commands: [String] = []
        /// Commands no release of this family that the table knows has.
        public var unavailable: [String] = []

        /// `Redis ≥ 7.4.0 (HEXPIRE)`, `Valkey ≥ 7.2.4 (any)`, `Valkey: lacks HGETDEL`.
        public var text: String {
            var out = "\(family) ≥ \(version) (" + (commands.isEmpty ? "any" : commands.prefix(5).joined(separator: ", ")) + ")"
            if !unavailable.isEmpty { out += ", and no \(family) has \(unavailable.prefix(5).joined(separator: ", "))" }
            return out
        }
    }
    /// A capture analysed with `--sample`: the server its pre-capture sizes were read from.
    public var sampledFrom: String?
    public var live: LiveSession?
    /// Several nodes analysed together (Stages/ClusterAggregation.swift); nil for one.
    public var cluster: Cluster?
    public var snapshots: [SnapshotProfile] = []
    public var segments: [Segment] = []
    /// A truncated tail: the file and the offset of the incomplete command.
    public var truncatedAt: (file: String, offset: Int)?
    public var calls = 0
    public var transactions = 0
    public var totalCost = 0.0
    public var unknownCostCalls = 0
    public var firstTime: Int64?
    public var lastTime: Int64?
    public var commands: [CommandStats] = []
    public var topCalls: [Call] = []
    public var patterns: [PatternStats] = []
    public var biggestKeys: [BigKey] = []
    public var keysPerDatabase: [Int: Int] = [:]
    public var approximateKeys = 0
    public var modelBytes = 0
    public var unknownCommands: [String: Int] = [:]
    public var unmodelledWrites: [String: Int] = [:]
    public var elapsedSeconds = 0.0
    public var top = 100

    public var bytesRead: Int { segments.reduce(0) { $0 + $1.bytes } }
}
