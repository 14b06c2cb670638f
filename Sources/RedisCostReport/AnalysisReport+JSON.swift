import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// The JSON report of `analyze` and `monitor`, one type per section. Field names are what
/// scripts read: add fields, never rename or remove one without a new `schemaVersion`.
extension AnalysisReport {
    public struct Document: Codable, Sendable, JSONSchemaNamed, JSONSchemaDescribed {
        package static let schemaName = "analysis"
        package static let fieldDescriptions = [
            "schemaVersion": "Raised only when a field is renamed, removed or changes meaning; fields are added without it.",
            "minimumVersion": "The Redis version the calls need (null if any); minimumVersions has every server family.",
            "live": "Only in a report of `monitor` (a live session).",
            "cluster": "Only when more than one node was analysed: `analyze` of one input per node, `monitor --cluster`.",
            "unknownCommands": "Commands not in the command table → calls (their cost is unknown).",
            "unmodelledWrites": "Writes the replay model does not follow → calls (their keys are marked approximate).",
            "elapsedSeconds": "The wall time the analysis took, in seconds (varies from run to run).",
            "costOverTime": "Elements touched per time bucket; null when no call had a timestamp.",
            "bigHotKeys": "Per key, the calls that touched it (any of their keys) and their estimated time, most time first; MONITOR input only, empty otherwise.",
            "measuredTime": "A live session (monitor): INFO commandstats deltas less the tool's own calls, beside the estimate; null for files.",
            "serverLog": "A live session (monitor): the slow log's entries of the session beside the costliest calls; null for files.",
        ]
        package var schemaVersion = ReportSchemaVersion()
        package var input: Input
        package var totals: Totals
        package var commands: [Command]
        package var unknownCommands: [String: Int]
        package var topCalls: [TopCall]
        package var patterns: [Pattern]
        package var biggestKeys: [BigKey]
        package var dataset: Dataset
        package var elapsedSeconds: Double
        package var costOverTime: CostOverTime?
        package var unmodelledWrites: [String: Int]
        package var snapshots: [Snapshot]
        package var note: String
        package var hotKeys: [HotKey]
        package var clients: [Client]
        package var slowestCalls: [SlowCall]
        package var findings: [FindingsReport.Item]
        /// Redis's alone, kept for scripts that read it; `minimumVersions` has every family.
        package var minimumVersion: MinimumVersion?
        package var minimumVersions: [FamilyMinimumVersion]
        package var monitor: Monitor
        /// Only in a report of `monitor` (a live session).
        package var live: Live?
        /// The keys the server spent the most estimated time on (calls × cost), MONITOR input.
        package var bigHotKeys: [BigHotKey]
        /// A live session: the server's own time per command beside the estimate; null otherwise.
        package var measuredTime: MeasuredTime?
        /// A live session: the server's slow log beside the costliest calls; null otherwise.
        package var serverLog: ServerLog?
        /// Only when more than one node was analysed (ClusterReport.swift).
        package var cluster: Cluster? = nil
    }

    package struct Input: Codable, Sendable, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "kind": "monitor: a MONITOR capture or a live session (reads and writes, observed times); aof: AOF and RDB files (writes only).",
        ]
        package enum Kind: String, Codable, Sendable, CaseIterable, JSONSchemaEnum {
            case monitor, aof
        }
        package struct File: Codable, Sendable {
            package var path: String
            package var role: String
            package var format: String
            package var bytes: Int
            package var commands: Int
        }
        package struct Truncation: Codable, Sendable {
            package var file: String
            package var offset: Int
        }
        package var description: String
        package var bytes: Int
        package var files: [File]
        package var truncatedAt: Truncation?
        package var firstTime: Int64?
        package var lastTime: Int64?
        package var kind: Kind
    }

    /// Elements touched per time bucket: about 30 buckets whatever the span, the bucket growing
    /// with it (a second up to a week, then as many days as it takes), so that two timestamps
    /// years apart make 30 buckets, not millions.
    package struct CostOverTime: Codable, Sendable, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "first": "The first second (Unix time) with a call.",
            "last": "The last second (Unix time) with a call.",
            "start": "Where the first bucket begins (Unix time, a multiple of bucketSeconds).",
            "bucketSeconds": "The width of each bucket, in seconds.",
            "cost": "Elements touched in each bucket, in time order.",
        ]
        package var first: Int64
        package var last: Int64
        package var start: Int64
        package var bucketSeconds: Int64
        package var cost: [Double]

        package init?(_ perSecond: [(second: Int64, cost: Double)]) {
            guard let first = perSecond.first?.second, let last = perSecond.last?.second, last >= first else { return nil }
            // Unsigned: the span of any two timestamps fits, whatever the input held.
            let span = UInt64(bitPattern: last &- first)
            let sizes: [UInt64] = [1, 5, 10, 30, 60, 300, 600, 900, 1800, 3600, 6 * 3600, 86400, 7 * 86400]
            let bucket = Int64(sizes.first { span / $0 < 30 } ?? (span / (30 * 86400) + 1) * 86400)
            let start = first &- (first % bucket + bucket) % bucket
            var bars = [Double](repeating: 0, count: Int(UInt64(bitPattern: last &- start) / UInt64(bucket)) + 1)
            for (second, cost) in perSecond { bars[Int(UInt64(bitPattern: second &- start) / UInt64(bucket))] += cost }
            self.first = first
            self.last = last
            self.start = start
            bucketSeconds = bucket
            cost = bars
        }
    }

    package struct Totals: Codable, Sendable {
        package struct Malformed: Codable, Sendable {
            package var location: String
            package var reason: String
        }
        package var calls: Int
        package var cost: Double
        package var unknownCostCalls: Int
        package var transactions: Int
        package var malformedCalls: Int
        package var firstMalformed: [Malformed]
        package var estimatedMicroseconds: Double
        package var timeModel: String
    }

    package struct Command: Codable, Sendable, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "estimatedMicroseconds": "Estimated server time of its calls; null when no call of the command had a known cost.",
            "nestedCost": "What the calls it ran touched (MULTI…EXEC, a script); counted in cost, once in the totals.",
            "elementsInTotals": "Its part of totals.cost: each call's elements counted once.",
        ]
        package var name: String
        package var calls: Int
        package var cost: Double
        package var unknownCostCalls: Int
        package var upperBoundCalls: Int
        package var maxCost: Double
        package var write: Bool
        package var observedMicroseconds: Int64
        package var maxObservedMicroseconds: Int64
        /// `null` when no call of the command had a known cost.
        package var estimatedMicroseconds: Double?
        package var nestedCost: Double
        package var elementsInTotals: Double
    }

    package struct TopCall: Codable, Sendable, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "line": "The call's line in a MONITOR capture; a call from an AOF or RDB has offset instead.",
            "offset": "The call's byte offset in its AOF file; a call from a MONITOR capture has line instead.",
            "sizes": "Each key's size just before the call: elements, bytes for a string, null when unknown.",
            "cost": "Elements touched (null when unknown); an upper bound when upperBound is true.",
            "nestedCost": "What the calls it ran touched (MULTI…EXEC, a script), null for other calls.",
            "sizeKinds": "What each of sizes counts: elements, bytes (a string), missing (no such key, 0) or unknown (null).",
            "unknownCostReason": "Why the cost is unknown; only when cost is null.",
        ]
        package var command: String
        package var keys: [String]
        package var sizes: [Int?]
        package var sizeKinds: [KeySizeKind]
        package var cost: Double?
        package var upperBound: Bool
        package var unknownCostReason: Omittable<String>?
        package var time: Int64?
        package var file: String
        /// Where the call is: `line` of a MONITOR capture, else `offset` (byte) in its file; one of the two.
        package var line: Omittable<Int>?
        package var offset: Omittable<Int>?
        package var inTransaction: Bool
        package var db: Int
        package var estimatedMicroseconds: Double?
        package var nestedCost: Double?
    }

    package struct Pattern: Codable, Sendable {
        package var pattern: String
        package var calls: Int
        package var reads: Int
        package var writes: Int
        package var cost: Double
        package var unknownCostCalls: Int
    }

    package struct BigKey: Codable, Sendable {
        package var key: String
        package var db: Int
        package var type: String
        package var size: Int?
        package var sizeKind: KeySizeKind
        package var approximate: Bool
    }

    package struct Dataset: Codable, Sendable {
        package var keysPerDatabase: [String: Int]
        package var approximateKeys: Int
        package var modelBytes: Int
        package var wholeDataSet: Bool
    }

    package struct Snapshot: Codable, Sendable {
        package struct TypeStats: Codable, Sendable {
            package var keys: Int
            package var elements: Int
            package var bytes: Int
        }
        package struct Key: Codable, Sendable {
            package var key: String
            package var db: Int
            package var type: String
            package var size: Int?
            package var sizeKind: KeySizeKind
            package var bytes: Int
        }
        package struct Pattern: Codable, Sendable {
            package var pattern: String
            package var keys: Int
            package var bytes: Int
        }
        /// A module type among the snapshot's values (RDB_TYPE_MODULE_2) and what the reader
        /// makes of it: a size taken from the value, or the value only walked past.
        package struct ModuleType: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "sizeFrom": "The server's answer the reader takes each key's size from, read from the value as the module saved it; null: the value is only skipped and its size is unknown.",
                "encodingVersions": "The module encoding versions whose values are read (first-last); a value of another version is only skipped. Null when none is read.",
            ]
            package var type: String
            package var keys: Int
            package var sizeFrom: String?
            package var encodingVersions: String?

            package init(type: String, keys: Int, sizeFrom: String?, encodingVersions: String?) {
                self.type = type
                self.keys = keys
                self.sizeFrom = sizeFrom
                self.encodingVersions = encodingVersions
            }
        }
        package var file: String
        package var magic: String
        package var checksumVerified: Bool
        package var aux: [String: String]
        package var keys: Int
        package var expiringKeys: Int
        package var emptyKeysSkipped: Int
        package var expiredOnLoad: Int
        package var byType: [String: TypeStats]
        package var byEncoding: [String: Int]
        package var biggestByElements: [Key]
        package var biggestByBytes: [Key]
        package var patterns: [Pattern]
        package var moduleTypes: [ModuleType]
    }

    package struct HotKey: Codable, Sendable {
        package var key: String
        package var db: Int
        package var calls: Int
        package var reads: Int
        package var writes: Int
    }

    package struct Client: Codable, Sendable {
        package var client: String
        package var calls: Int
        package var cost: Double
        package var unknownCostCalls: Int
    }

    package struct SlowCall: Codable, Sendable {
        package var command: String
        package var keys: [String]
        package var observedMicroseconds: Int64
        package var time: Int64
        package var line: Int
        package var client: String
        package var blocking: Bool
    }

    package struct MinimumVersion: Codable, Sendable {
        package var version: String
        package var commands: [String]
    }

    package struct FamilyMinimumVersion: Codable, Sendable {
        package var family: String
        package var version: String
        package var commands: [String]
        package var unavailable: [String]
        /// `Redis ≥ 7.4.0 (HEXPIRE)`, `Valkey ≥ 7.2.4 (any)`: what the markdown says.
        package var text: String
    }

    package struct Monitor: Codable, Sendable {
        package var scripts: Int
        package var malformedLines: Int
        package var callsOnKeysOfUnknownSize: Int
        package var sampledKeys: Int
        package var sampledFrom: String?
        package var hotKeysTracked: Int
        package var hotKeysCapped: Bool
        /// Distinct keys whose time is followed (bigHotKeys), and whether later new keys were not.
        package var bigHotKeysTracked: Int
        package var bigHotKeysCapped: Bool
    }

    package struct BigHotKey: Codable, Sendable, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "calls": "Calls that named the key (a call counts once per key it names).",
            "cost": "Elements those calls of known cost touched (each call's own part: a transaction's or script's calls count under their own keys).",
            "estimatedMicroseconds": "Estimated server time of those calls of known cost.",
            "size": "The key's size at the end of the analysis: elements, bytes for a string, 0 when deleted, null when unknown.",
        ]
        package var key: String
        package var database: Int
        package var calls: Int
        package var cost: Double
        package var estimatedMicroseconds: Double
        package var unknownCostCalls: Int
        package var size: Int?
        package var sizeKind: KeySizeKind
    }

    /// Per command, the server's count and time (`INFO commandstats`) beside the estimate.
    package struct MeasuredTime: Codable, Sendable, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "convention": "How the figures are counted, as the report states it beside the table.",
            "reads": "Times INFO commandstats was read (the start, every intervalSeconds, the end).",
            "windowSeconds": "From the first read to the last.",
            "countersReset": "A counter went down between two reads (CONFIG RESETSTAT, a restart): measured calls are null.",
            "notes": "Where the measured and the analysed windows differ, one sentence each.",
            "unavailable": "Why nothing was measured (INFO commandstats refused or malformed), one line naming the server and the command; null when measured.",
        ]
        package struct Row: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "command": "As INFO commandstats names it: get, client|setinfo, a module's FT.SEARCH.",
                "measuredCalls": "The commandstats delta less the tool's own calls (toolCalls); null when the counters were reset.",
                "measuredMicroseconds": "The server's time for those calls (usec delta); when the tool ran the command too (sharedWithTool), the workload's share in proportion to the calls.",
                "estimatedCalls": "Calls the MONITOR stream showed in the same window.",
                "estimatedMicroseconds": "The time model's estimate of those of known cost; null when none had a known cost.",
                "cost": "Elements those calls touched (a wrapper's row includes its calls').",
                "wrapper": "EXEC, EVAL/EVALSHA, FCALL: its time includes the calls it ran, which have their own rows.",
                "ratio": "measuredMicroseconds / estimatedMicroseconds: above 1 the server took longer than estimated; null when either is unknown or 0.",
            ]
            package var command: String
            package var measuredCalls: Int?
            package var measuredMicroseconds: Double?
            package var toolCalls: Int
            package var sharedWithTool: Bool
            package var estimatedCalls: Int
            package var estimatedMicroseconds: Double?
            package var unknownCostCalls: Int
            package var cost: Double
            package var wrapper: Bool
            package var ratio: Double?
        }
        /// Each call once: the rows of commands that run no others and that the stream showed.
        package struct Total: Codable, Sendable, JSONSchemaDescribed {
            package static let fieldDescriptions = [
                "measuredMicroseconds": "The server's time of the rows that are not wrappers and that the stream showed; null when one of them is unknown.",
                "estimatedMicroseconds": "The estimate of the same rows, calls of known cost only.",
            ]
            package var measuredCalls: Int?
            package var measuredMicroseconds: Double?
            package var estimatedCalls: Int
            package var estimatedMicroseconds: Double
            package var unknownCostCalls: Int
            package var ratio: Double?
        }
        package var convention: String
        package var reads: Int
        package var intervalSeconds: Double
        package var windowSeconds: Double
        package var countersReset: Bool
        package var notes: [String]
        package var unavailable: String?
        package var commands: [Row]
        package var total: Total
    }

    /// The server's slow log (SLOWLOG, or COMMANDLOG's slow log) beside the costliest calls.
    package struct ServerLog: Codable, Sendable, JSONSchemaDescribed {
        package static let fieldDescriptions = [
            "source": "SLOWLOG, or COMMANDLOG slow (Valkey 8.1+).",
            "thresholdMicroseconds": "slowlog-log-slower-than when CONFIG GET answered (negative: logging off); null otherwise.",
            "entriesInSession": "Entries logged during the session (after the newest one at its start), the tool's own left out.",
            "toolEntries": "Entries of the tool's own connection, left out.",
            "mayHaveLost": "The log dropped entries of the session (it keeps slowlog-max-len, and 128 are read).",
            "unavailable": "Why the log could not be read, one line naming the server and the command; null when read.",
            "costliest": "The costliest calls by estimate, in order, each with the entry it matched (same command and keys, within a second) or nulls.",
            "slowestLogged": "The session's entries, slowest first, each with the estimate of the call it matched or null; under monitor --cluster every node's, each with its node.",
            "partlyUnavailable": "monitor --cluster: the nodes whose log could not be read while others' were, each with why.",
        ]
        package struct Match: Codable, Sendable {
            package var rank: Int
            package var command: String
            package var keys: [String]
            package var estimatedMicroseconds: Double?
            package var loggedMicroseconds: Int?
            package var entryId: Int?
            /// The node whose log holds that entry (monitor --cluster), else null.
            package var entryNode: String?
        }
        package struct Entry: Codable, Sendable {
            package var id: Int
            package var time: Int64
            package var command: String
            package var keys: [String]
            package var loggedMicroseconds: Int
            package var estimatedMicroseconds: Double?
            /// The rank (0-based) of the costliest call it matched, or null.
            package var topCall: Int?
            /// The cluster node whose log it is (monitor --cluster), else null.
            package var node: String?
        }
        package var source: String
        package var thresholdMicroseconds: Int?
        package var entriesInSession: Int
        package var toolEntries: Int
        package var mayHaveLost: Bool
        package var unavailable: String?
        package var costliest: [Match]
        package var slowestLogged: [Entry]
        package var partlyUnavailable: [String]
    }

    package struct Live: Codable, Sendable, OmittedWhenNil {
        package struct Field: Codable, Sendable {
            package var field: String
            package var value: String
        }
        package var server: String
        package var serverVersion: String?
        package var seconds: Double
        package var endReason: String
        package var connectionLost: Bool
        package var samplerCommands: Int
        package var toolCommands: [String: Int]
        package var keysSampled: Int
        package var keysResynced: Int
        package var keysDeferred: Int
        package var samplesPerSecond: Double
        package var samplingDisabled: String?
        package var subscriberCountsRead: Int
        package var subscriberCountsDenied: String?
        package var maxMonitorOutputBytes: Int?
        package var keySizesAtStart: [Field]
        package var keySizesAtEnd: [Field]
    }

    /// The report's values, built once from the analysis.
    public static func document(_ r: AnalysisResult, options: ReportOptions = .init()) -> Document {
        func big(_ k: AnalysisResult.SnapshotProfile.BigKey) -> Snapshot.Key {
            Snapshot.Key(key: options.key(k.name), db: k.database, type: k.type, size: k.size.count, sizeKind: KeySizeKind(k.size), bytes: k.bytes)
        }
        let input = Input(
            description: r.input, bytes: r.bytesRead,
            files: r.segments.map {
                Input.File(path: $0.path, role: $0.role == .base ? "base" : "workload", format: $0.format.rawValue, bytes: $0.bytes, commands: $0.commands)
            },
            truncatedAt: r.truncatedAt.map { Input.Truncation(file: $0.file, offset: $0.offset) },
            firstTime: r.firstTime, lastTime: r.lastTime, kind: r.isMonitor ? .monitor : .aof)
        let totals = Totals(
            calls: r.calls, cost: r.totalCost, unknownCostCalls: r.unknownCostCalls, transactions: r.transactions,
            malformedCalls: r.malformedLines, firstMalformed: r.firstMalformed.map { Totals.Malformed(location: $0.location, reason: $0.reason) },
            estimatedMicroseconds: r.estimatedMicroseconds, timeModel: r.timeModelSource)
        let commands = r.commands.map { c in
            Command(name: c.name, calls: c.calls, cost: c.cost, unknownCostCalls: c.unknownCalls, upperBoundCalls: c.upperBoundCalls,
                    maxCost: c.maxCost, write: c.isWrite, observedMicroseconds: c.observedMicroseconds,
                    maxObservedMicroseconds: c.maxObservedMicroseconds,
                    estimatedMicroseconds: c.calls > c.unknownCalls ? c.estimatedMicroseconds : nil, nestedCost: c.nestedCost,
                    elementsInTotals: c.elementsInTotals)
        }
        let topCalls = r.topCalls.map { call in
            TopCall(command: call.command, keys: call.keys.map(options.key), sizes: call.sizes.map(\.count), sizeKinds: call.sizes.map(KeySizeKind.init),
                    cost: call.cost.value, upperBound: call.cost.isUpperBound, unknownCostReason: call.cost.unknownReason.map(Omittable.init), time: call.time, file: call.file,
                    line: r.isMonitor ? Omittable(call.offset) : nil, offset: r.isMonitor ? nil : Omittable(call.offset),
                    inTransaction: call.inTransaction, db: call.database, estimatedMicroseconds: call.estimatedMicroseconds,
                    nestedCost: call.nestedCost)
        }
        let snapshots = r.snapshots.map { p in
            // Redis 5 and 6 keep their scripts in `lua` aux fields: a script's text, shown as any other.
            var aux = p.aux
            aux["lua"] = p.aux["lua"].map { options.note("\(excerpt: Array($0.utf8))") }
            return Snapshot(
                file: p.file, magic: p.magic, checksumVerified: p.checksumVerified, aux: aux, keys: p.keys,
                expiringKeys: p.expiringKeys, emptyKeysSkipped: p.emptyKeysSkipped, expiredOnLoad: p.expiredOnLoad,
                byType: p.byType.mapValues { Snapshot.TypeStats(keys: $0.keys, elements: $0.elements, bytes: $0.bytes) },
                byEncoding: p.byEncoding, biggestByElements: p.biggestByElements.map(big), biggestByBytes: p.biggestByBytes.map(big),
                patterns: p.patterns.map { Snapshot.Pattern(pattern: options.pattern($0.pattern), keys: $0.keys, bytes: $0.bytes) },
                moduleTypes: moduleTypes(p.byType))
        }
        let live = r.live.map { live in
            Live(server: live.server, serverVersion: live.serverVersion, seconds: live.seconds, endReason: live.endReason,
                 connectionLost: live.connectionLost, samplerCommands: live.samplerCommands, toolCommands: live.toolCommands,
                 keysSampled: live.keysSampled, keysResynced: r.sampledKeys, keysDeferred: live.keysDeferred,
                 samplesPerSecond: live.samplesPerSecond, samplingDisabled: live.samplingDisabled,
                 subscriberCountsRead: live.subscriberCountsRead, subscriberCountsDenied: live.subscriberCountsDenied,
                 maxMonitorOutputBytes: live.maxMonitorOutputBytes,
                 keySizesAtStart: live.keySizesAtStart.map { Live.Field(field: $0.field, value: $0.value) },
                 keySizesAtEnd: live.keySizesAtEnd.map { Live.Field(field: $0.field, value: $0.value) })
        }
        return Document(
            input: input, totals: totals, commands: commands, unknownCommands: r.unknownCommands, topCalls: topCalls,
            patterns: r.patterns.map {
                Pattern(pattern: options.pattern($0.pattern), calls: $0.calls, reads: $0.reads, writes: $0.writes, cost: $0.cost,
                        unknownCostCalls: $0.unknownCalls)
            },
            biggestKeys: r.biggestKeys.map {
                BigKey(key: options.key($0.name), db: $0.database, type: $0.type, size: $0.size.count, sizeKind: KeySizeKind($0.size), approximate: $0.approximate)
            },
            dataset: Dataset(keysPerDatabase: Dictionary(uniqueKeysWithValues: r.keysPerDatabase.map { (String($0.key), $0.value) }),
                             approximateKeys: r.approximateKeys, modelBytes: r.modelBytes, wholeDataSet: r.knowsWholeDataSet),
            elapsedSeconds: r.elapsedSeconds, costOverTime: CostOverTime(r.costOverTime),
            unmodelledWrites: r.unmodelledWrites, snapshots: snapshots,
            note: r.isMonitor ? "Observed times are upper bounds: the gap to the next line of the capture."
                : "An AOF holds writes only; reads need a MONITOR capture.",
            hotKeys: r.hotKeys.map { HotKey(key: options.key($0.name), db: $0.database, calls: $0.calls, reads: $0.reads, writes: $0.writes) },
            clients: r.clients.map { Client(client: $0.client, calls: $0.calls, cost: $0.cost, unknownCostCalls: $0.unknownCalls) },
            slowestCalls: r.slowestCalls.map {
                SlowCall(command: $0.command, keys: $0.keys.map(options.key), observedMicroseconds: $0.microseconds, time: $0.time,
                         line: $0.line, client: $0.client, blocking: $0.blocking)
            },
            findings: FindingsReport.items(r.findings, options: options),
            minimumVersion: r.minimumVersions.first { $0.family == "Redis" }.map { MinimumVersion(version: $0.version, commands: $0.commands) },
            minimumVersions: r.minimumVersions.map {
                FamilyMinimumVersion(family: $0.family, version: $0.version, commands: $0.commands, unavailable: $0.unavailable, text: $0.text)
            },
            monitor: Monitor(scripts: r.scripts, malformedLines: r.malformedLines, callsOnKeysOfUnknownSize: r.callsOnKeysOfUnknownSize,
                             sampledKeys: r.sampledKeys, sampledFrom: r.sampledFrom, hotKeysTracked: r.hotKeysTracked,
                             hotKeysCapped: r.hotKeysCapped, bigHotKeysTracked: r.bigHotKeysTracked, bigHotKeysCapped: r.bigHotKeysCapped),
            live: live,
            bigHotKeys: r.bigHotKeys.map {
                BigHotKey(key: options.key($0.name), database: $0.database, calls: $0.calls, cost: $0.cost,
                          estimatedMicroseconds: $0.estimatedMicroseconds, unknownCostCalls: $0.unknownCostCalls,
                          size: $0.size.count, sizeKind: KeySizeKind($0.size))
            },
            measuredTime: r.measuredTime.map(measuredTime),
            serverLog: r.serverLog.map { serverLog($0, topCalls: r.topCalls, options: options) },
            cluster: r.cluster.flatMap { $0.nodes.count > 1 ? Cluster($0, options: options) : nil })
    }

    package static let measuredConvention = "Per command as INFO commandstats counts it: a wrapper (EXEC, EVAL/EVALSHA, FCALL) includes the calls it ran, "
        + "which count under their own names too; the total counts each call once (the commands that run no others, of those the MONITOR stream showed). "
        + "Measured: the deltas from the first read of INFO commandstats to the last, less the tool's own calls. "
        + "Estimated: the calls the stream showed from the first read's line to the session's end."

    /// measured ÷ estimated, when both are known and the estimate is not 0.
    package static func ratio(_ measured: Double?, _ estimated: Double?) -> Double? {
        guard let measured, let estimated, estimated > 0 else { return nil }
        return measured / estimated
    }

    static func measuredTime(_ m: AnalysisResult.MeasuredTime) -> MeasuredTime {
        let rows = m.rows.map { row in
            MeasuredTime.Row(command: KeyText.printable(row.command), measuredCalls: row.measuredCalls, measuredMicroseconds: row.measuredMicroseconds,
                             toolCalls: row.toolCalls, sharedWithTool: row.sharedWithTool, estimatedCalls: row.estimatedCalls,
                             estimatedMicroseconds: row.estimatedMicroseconds, unknownCostCalls: row.unknownCostCalls, cost: row.cost,
                             wrapper: row.isWrapper, ratio: ratio(row.measuredMicroseconds, row.estimatedMicroseconds))
        }
        // Each call once: wrappers' rows hold their calls' time again; commands the stream never
        // showed (admin commands) have no estimate to set beside.
        let counted = m.rows.filter { !$0.isWrapper && $0.estimatedCalls > 0 }
        let measuredCalls = counted.contains { $0.measuredCalls == nil } ? nil : counted.reduce(0) { $0 + ($1.measuredCalls ?? 0) }
        let measuredMicroseconds = counted.contains { $0.measuredMicroseconds == nil } ? nil : counted.reduce(0.0) { $0 + ($1.measuredMicroseconds ?? 0) }
        let estimated = counted.reduce(0.0) { $0 + ($1.estimatedMicroseconds ?? 0) }
        let total = MeasuredTime.Total(measuredCalls: m.unavailable == nil ? measuredCalls : nil,
                                       measuredMicroseconds: m.unavailable == nil ? measuredMicroseconds : nil,
                                       estimatedCalls: counted.reduce(0) { $0 + $1.estimatedCalls }, estimatedMicroseconds: estimated,
                                       unknownCostCalls: counted.reduce(0) { $0 + $1.unknownCostCalls },
                                       ratio: m.unavailable == nil ? ratio(measuredMicroseconds, estimated) : nil)
        return MeasuredTime(convention: measuredConvention, reads: m.reads, intervalSeconds: m.intervalSeconds, windowSeconds: m.windowSeconds,
                            countersReset: m.countersReset, notes: m.notes, unavailable: m.unavailable, commands: rows, total: total)
    }

    static func serverLog(_ log: AnalysisResult.ServerLogCheck, topCalls: [AnalysisResult.Call], options: ReportOptions) -> ServerLog {
        let matched = Dictionary(log.entries.compactMap { e in e.topCall.map { ($0, e) } }, uniquingKeysWith: { a, _ in a })
        let costliest = log.unavailable != nil ? [] : topCalls.prefix(25).enumerated().map { rank, call in
            ServerLog.Match(rank: rank, command: call.command, keys: call.keys.map(options.key), estimatedMicroseconds: call.estimatedMicroseconds,
                            loggedMicroseconds: matched[rank]?.loggedMicroseconds, entryId: matched[rank]?.id, entryNode: matched[rank]?.node)
        }
        return ServerLog(source: log.source, thresholdMicroseconds: log.thresholdMicroseconds, entriesInSession: log.entries.count,
                         toolEntries: log.toolEntries, mayHaveLost: log.mayHaveLost, unavailable: log.unavailable, costliest: costliest,
                         slowestLogged: log.entries.prefix(25).map {
                             ServerLog.Entry(id: $0.id, time: $0.time, command: $0.command, keys: $0.keys.map(options.key),
                                             loggedMicroseconds: $0.loggedMicroseconds, estimatedMicroseconds: $0.estimatedMicroseconds,
                                             topCall: $0.topCall, node: $0.node)
                         }, partlyUnavailable: log.partlyUnavailable)
    }

    /// The built-in types a snapshot's values have; any other type name is a module's.
    static let builtInTypes: Set<String> = ["string", "list", "set", "zset", "hash", "stream"]

    /// For each module type among a snapshot's values, whether its size is read from the
    /// value (ModuleSizeReading, in RedisCostFormats) or the value only skipped.
    static func moduleTypes(_ byType: [String: AnalysisResult.SnapshotProfile.TypeStats]) -> [Snapshot.ModuleType] {
        byType.filter { !builtInTypes.contains($0.key) }.sorted { $0.key < $1.key }.map { type, stats in
            let reading = ModuleSizeReading.byType[type]
            let versions = reading.map { $0.encodingVersions.count == 1 ? "\($0.encodingVersions.lowerBound)" : "\($0.encodingVersions.lowerBound)-\($0.encodingVersions.upperBound)" }
            return Snapshot.ModuleType(type: type, keys: stats.keys, sizeFrom: reading?.command, encodingVersions: versions)
        }
    }
}
