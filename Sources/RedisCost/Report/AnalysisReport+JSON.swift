/// The JSON report of `analyze` and `monitor`, one type per section. Field names are what
/// scripts read: add fields, never rename or remove one without a new `schemaVersion`.
extension AnalysisReport {
    public struct Document: Codable, Sendable, JSONSchemaNamed, JSONSchemaDescribed {
        static let schemaName = "analysis"
        static let fieldDescriptions = [
            "schemaVersion": "Raised only when a field is renamed, removed or changes meaning; fields are added without it.",
            "minimumVersion": "The Redis version the calls need (null if any); minimumVersions has every server family.",
            "live": "Only in a report of `monitor` (a live session).",
            "unknownCommands": "Commands not in the command table → calls (their cost is unknown).",
            "unmodelledWrites": "Writes the replay model does not follow → calls (their keys are marked approximate).",
        ]
        var schemaVersion = ReportSchemaVersion()
        var input: Input
        var totals: Totals
        var commands: [Command]
        var unknownCommands: [String: Int]
        var topCalls: [TopCall]
        var patterns: [Pattern]
        var biggestKeys: [BigKey]
        var dataset: Dataset
        var unmodelledWrites: [String: Int]
        var snapshots: [Snapshot]
        var note: String
        var hotKeys: [HotKey]
        var clients: [Client]
        var slowestCalls: [SlowCall]
        var findings: [FindingsReport.Item]
        /// Redis's alone, kept for scripts that read it; `minimumVersions` has every family.
        var minimumVersion: MinimumVersion?
        var minimumVersions: [FamilyMinimumVersion]
        var monitor: Monitor
        /// Only in a report of `monitor` (a live session).
        var live: Live?
    }

    struct Input: Codable, Sendable {
        struct File: Codable, Sendable {
            var path: String
            var role: String
            var format: String
            var bytes: Int
            var commands: Int
        }
        struct Truncation: Codable, Sendable {
            var file: String
            var offset: Int
        }
        var description: String
        var bytes: Int
        var files: [File]
        var truncatedAt: Truncation?
        var firstTime: Int64?
        var lastTime: Int64?
    }

    struct Totals: Codable, Sendable {
        struct Malformed: Codable, Sendable {
            var location: String
            var reason: String
        }
        var calls: Int
        var cost: Double
        var unknownCostCalls: Int
        var transactions: Int
        var malformedCalls: Int
        var firstMalformed: [Malformed]
        var estimatedMicroseconds: Double
        var timeModel: String
    }

    struct Command: Codable, Sendable, JSONSchemaDescribed {
        static let fieldDescriptions = [
            "estimatedMicroseconds": "Estimated server time of its calls; null when no call of the command had a known cost.",
            "nestedCost": "What the calls it ran touched (MULTI…EXEC, a script); counted in cost, once in the totals.",
            "elementsInTotals": "Its part of totals.cost: each call's elements counted once.",
        ]
        var name: String
        var calls: Int
        var cost: Double
        var unknownCostCalls: Int
        var upperBoundCalls: Int
        var maxCost: Double
        var write: Bool
        var observedMicroseconds: Int64
        var maxObservedMicroseconds: Int64
        /// `null` when no call of the command had a known cost.
        var estimatedMicroseconds: Double?
        var nestedCost: Double
        var elementsInTotals: Double
    }

    struct TopCall: Codable, Sendable, JSONSchemaDescribed {
        static let fieldDescriptions = [
            "line": "The call's line in a MONITOR capture; a call from an AOF or RDB has offset instead.",
            "offset": "The call's byte offset in its AOF file; a call from a MONITOR capture has line instead.",
            "sizes": "Each key's size just before the call: elements, bytes for a string, null when unknown.",
            "cost": "Elements touched (null when unknown); an upper bound when upperBound is true.",
            "nestedCost": "What the calls it ran touched (MULTI…EXEC, a script), null for other calls.",
        ]
        var command: String
        var keys: [String]
        var sizes: [Int?]
        var cost: Double?
        var upperBound: Bool
        var time: Int64?
        var file: String
        /// Where the call is: `line` of a MONITOR capture, else `offset` (byte) in its file; one of the two.
        var line: Omittable<Int>?
        var offset: Omittable<Int>?
        var inTransaction: Bool
        var db: Int
        var estimatedMicroseconds: Double?
        var nestedCost: Double?
    }

    struct Pattern: Codable, Sendable {
        var pattern: String
        var calls: Int
        var reads: Int
        var writes: Int
        var cost: Double
        var unknownCostCalls: Int
    }

    struct BigKey: Codable, Sendable {
        var key: String
        var db: Int
        var type: String
        var size: Int?
        var approximate: Bool
    }

    struct Dataset: Codable, Sendable {
        var keysPerDatabase: [String: Int]
        var approximateKeys: Int
        var modelBytes: Int
        var wholeDataSet: Bool
    }

    struct Snapshot: Codable, Sendable {
        struct TypeStats: Codable, Sendable {
            var keys: Int
            var elements: Int
            var bytes: Int
        }
        struct Key: Codable, Sendable {
            var key: String
            var db: Int
            var type: String
            var size: Int?
            var bytes: Int
        }
        struct Pattern: Codable, Sendable {
            var pattern: String
            var keys: Int
            var bytes: Int
        }
        var file: String
        var magic: String
        var checksumVerified: Bool
        var aux: [String: String]
        var keys: Int
        var expiringKeys: Int
        var emptyKeysSkipped: Int
        var byType: [String: TypeStats]
        var byEncoding: [String: Int]
        var biggestByElements: [Key]
        var biggestByBytes: [Key]
        var patterns: [Pattern]
    }

    struct HotKey: Codable, Sendable {
        var key: String
        var db: Int
        var calls: Int
        var reads: Int
        var writes: Int
    }

    struct Client: Codable, Sendable {
        var client: String
        var calls: Int
        var cost: Double
        var unknownCostCalls: Int
    }

    struct SlowCall: Codable, Sendable {
        var command: String
        var keys: [String]
        var observedMicroseconds: Int64
        var time: Int64
        var line: Int
        var client: String
        var blocking: Bool
    }

    struct MinimumVersion: Codable, Sendable {
        var version: String
        var commands: [String]
    }

    struct FamilyMinimumVersion: Codable, Sendable {
        var family: String
        var version: String
        var commands: [String]
        var unavailable: [String]
    }

    struct Monitor: Codable, Sendable {
        var scripts: Int
        var malformedLines: Int
        var callsOnKeysOfUnknownSize: Int
        var sampledKeys: Int
        var sampledFrom: String?
    }

    struct Live: Codable, Sendable, OmittedWhenNil {
        struct Field: Codable, Sendable {
            var field: String
            var value: String
        }
        var server: String
        var serverVersion: String?
        var seconds: Double
        var endReason: String
        var connectionLost: Bool
        var samplerCommands: Int
        var toolCommands: [String: Int]
        var keysSampled: Int
        var keysResynced: Int
        var keysDeferred: Int
        var samplesPerSecond: Double
        var samplingDisabled: String?
        var subscriberCountsRead: Int
        var subscriberCountsDenied: String?
        var maxMonitorOutputBytes: Int?
        var keySizesAtStart: [Field]
        var keySizesAtEnd: [Field]
    }

    /// The report's values, built once from the analysis.
    public static func document(_ r: AnalysisResult, options: ReportOptions = .init()) -> Document {
        func big(_ k: AnalysisResult.SnapshotProfile.BigKey) -> Snapshot.Key {
            Snapshot.Key(key: options.key(k.name), db: k.database, type: k.type, size: k.size.count, bytes: k.bytes)
        }
        let input = Input(
            description: r.input, bytes: r.bytesRead,
            files: r.segments.map {
                Input.File(path: $0.path, role: $0.role == .base ? "base" : "workload", format: $0.format.rawValue, bytes: $0.bytes, commands: $0.commands)
            },
            truncatedAt: r.truncatedAt.map { Input.Truncation(file: $0.file, offset: $0.offset) },
            firstTime: r.firstTime, lastTime: r.lastTime)
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
            TopCall(command: call.command, keys: call.keys.map(options.key), sizes: call.sizes.map(\.count), cost: call.cost.value,
                    upperBound: call.cost.isUpperBound, time: call.time, file: call.file,
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
                expiringKeys: p.expiringKeys, emptyKeysSkipped: p.emptyKeysSkipped,
                byType: p.byType.mapValues { Snapshot.TypeStats(keys: $0.keys, elements: $0.elements, bytes: $0.bytes) },
                byEncoding: p.byEncoding, biggestByElements: p.biggestByElements.map(big), biggestByBytes: p.biggestByBytes.map(big),
                patterns: p.patterns.map { Snapshot.Pattern(pattern: options.pattern($0.pattern), keys: $0.keys, bytes: $0.bytes) })
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
                BigKey(key: options.key($0.name), db: $0.database, type: $0.type, size: $0.size.count, approximate: $0.approximate)
            },
            dataset: Dataset(keysPerDatabase: Dictionary(uniqueKeysWithValues: r.keysPerDatabase.map { (String($0.key), $0.value) }),
                             approximateKeys: r.approximateKeys, modelBytes: r.modelBytes, wholeDataSet: r.knowsWholeDataSet),
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
                FamilyMinimumVersion(family: $0.family, version: $0.version, commands: $0.commands, unavailable: $0.unavailable)
            },
            monitor: Monitor(scripts: r.scripts, malformedLines: r.malformedLines, callsOnKeysOfUnknownSize: r.callsOnKeysOfUnknownSize,
                             sampledKeys: r.sampledKeys, sampledFrom: r.sampledFrom),
            live: live)
    }
}
