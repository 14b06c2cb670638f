import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// A rule that turns evidence into advice. Like a SwiftLint rule, it declares its id, what it
/// is about, why it matters, the fix, its threshold, and examples that must and must not fire
/// (RuleExamplesTests runs them all). Adding a rule is adding one file in `Rules/` and its
/// name to `FindingsEngine.ruleTypes`.
public protocol FindingRule: Sendable {
    /// The JSON `rule` field; scripts match on it.
    static var id: String { get }
    static var title: String { get }
    static var severity: Finding.Severity { get }
    static var why: String { get }
    static var fix: String { get }
    /// Table names of the calls it watches, for a rule whose subject is one command by nature
    /// (EXISTS, SCAN, SORT); empty (the default) when it chooses by what the table says, or reads
    /// only the finished result.
    static var commands: Set<String> { get }
    /// Whether it watches calls of this entry: by default, those named in `commands`; a rule
    /// about a kind of command decides by what the table says of it instead (its flags, key
    /// specs, formula, `semantics`).
    static func watches(_ entry: CommandEntry) -> Bool
    /// Whether calls of this entry matter only after a watched call armed the rule (the GET
    /// after an EXISTS, the DEL after a SCAN): the engine does not even build them a call while
    /// `isArmed` is false, so common commands cost nothing until then.
    static func follows(_ entry: CommandEntry) -> Bool
    var isArmed: Bool { get }
    static var threshold: RuleThreshold? { get }
    static var examples: [RuleExample] { get }

    /// `threshold`: the configured value of `Self.threshold` (its default unless set).
    init(threshold: Double)
    /// Takes the run's other settings (`--target-version`); most rules need none.
    mutating func configure(_ options: FindingsEngine.Options)
    mutating func observe(_ call: ObservedCall)
    /// The findings, once every call has been seen.
    func findings(in result: AnalysisResult, table: CommandTable) -> [Finding]
}

extension FindingRule {
    public static var commands: Set<String> { [] }
    public static var threshold: RuleThreshold? { nil }
    public static func follows(_ entry: CommandEntry) -> Bool { false }
    public static func watches(_ entry: CommandEntry) -> Bool { commands.contains(entry.name) }
    public mutating func configure(_ options: FindingsEngine.Options) {}
    public var isArmed: Bool { true }
    public mutating func observe(_ call: ObservedCall) {}

    /// Observes `call` and says whether the rule is armed after it, in one access to the rule
    /// where it is stored (reading `isArmed` apart would copy it out of the engine's array).
    mutating func observeArmed(_ call: ObservedCall) -> Bool {
        observe(call)
        return isArmed
    }
}

/// A rule's one tunable number: `--threshold full-read=5000`.
public struct RuleThreshold: Sendable {
    public var value: Double
    /// What it counts: "elements", "keys in the database", "occurrences".
    public var unit: String
    public init(_ value: Double, _ unit: String) {
        self.value = value
        self.unit = unit
    }
}

/// A call as a rule sees it: valid only during `observe` (its arguments are borrowed).
public struct ObservedCall {
    public let index: Int
    public let command: String
    /// The entry's semantics from the table (what it reads, writes, begins…).
    public let semantics: CommandSemantics
    public let argv: Argv
    public let positions: [Int]
    public let sizes: [KeySize]
    public let cost: Cost
    /// The call's estimated server time, made once when it was costed (inclusive of the
    /// calls a wrapper ran).
    public let estimatedMicroseconds: Double?
    /// For a read of a JSON document (`reads: document`): the serialized length of the document
    /// at its first key, when the input showed it.
    public let documentBytes: Int?
    public let database: Int
    /// Unix microseconds (a capture's timestamps; an AOF's `#TS` seconds), when known.
    public let microseconds: Int64?
    /// The client address (MONITOR), nil for an AOF.
    public let client: String?
    public let inTransaction: Bool
    public let inScript: Bool
    package let file: String
    /// Byte offset (AOF) or line number (capture).
    package let offset: Int
    package let isCapture: Bool
    /// `file@byte` or `capture:line`, built only for the few calls kept as evidence.
    public var location: String {
        let name = file.split(separator: "/").last.map(String.init) ?? file
        return isCapture ? "\(name):\(offset)" : "\(name)@\(offset)"
    }

    /// The key bytes of the n-th key.
    package func key(_ n: Int) -> [UInt8] { argv.bytes(positions[n]) }

    package func evidence(cost: Double? = nil, note: Note? = nil) -> Finding.Evidence {
        Finding.Evidence(command: command, keys: positions.map { argv.bytes($0) }, sizes: sizes, cost: cost ?? self.cost.value,
                         time: microseconds.map { $0 / 1_000_000 }, client: client, location: location, note: note,
                         estimatedMicroseconds: estimatedMicroseconds)
    }
}

/// Runs the rules: each call goes only to the rules that watch its command.
public final class FindingsEngine {
    public static let ruleTypes: [any FindingRule.Type] = [
        KeysRule.self, FlushSyncRule.self, DeleteBigRule.self, FullReadRule.self, SetAlgebraRule.self,
        DeepListRule.self, SortRule.self, HeavyTransactionRule.self, HeavyScriptRule.self, CheckThenActRule.self,
        ScanDeleteRule.self, KeyspaceNotificationsRule.self, VersionRule.self, ConnectionChurnRule.self,
        SearchWholeIndexRule.self, JSONWholeDocumentRule.self, VectorSearchRule.self,
    ]

    public struct Options: Sendable {
        /// Rule id → threshold, for the rules whose defaults are overridden.
        public var thresholds: [String: Double] = [:]
        /// `--target-version`: what would break on that server version.
        public var targetVersion: String?
        public init() {}
    }

    private var rules: [any FindingRule]
    /// Per rule, its `isArmed` since the last call it saw (only `observe` changes a rule): read
    /// for every call without copying the rule's existential out of `rules`.
    private var armed: [Bool]
    /// The rules that watch each table entry, and whether only while armed: entry `i`'s are
    /// `watchers[firstWatcher[i]..<firstWatcher[i + 1]]` (one flat array, no inner array to retain).
    private let watchers: [(rule: Int, followerOnly: Bool)]
    private let firstWatcher: [Int]
    package let options: Options
    package let table: CommandTable

    public init(table: CommandTable, options: Options = .init()) {
        self.options = options
        self.table = table
        rules = Self.ruleTypes.map { type in
            type.init(threshold: options.thresholds[type.id] ?? type.threshold?.value ?? 0)
        }
        var watchers: [(rule: Int, followerOnly: Bool)] = []
        var firstWatcher = [0]
        for entry in table.entries {
            for (r, type) in Self.ruleTypes.enumerated() {
                if type.watches(entry) { watchers.append((r, false)) } else if type.follows(entry) { watchers.append((r, true)) }
            }
            firstWatcher.append(watchers.count)
        }
        self.watchers = watchers
        self.firstWatcher = firstWatcher
        for r in rules.indices { rules[r].configure(options) }
        armed = rules.map(\.isArmed)
    }

    @inline(__always)
    package func watches(_ index: Int) -> Bool {
        for w in firstWatcher[index]..<firstWatcher[index + 1] where !watchers[w].followerOnly || armed[watchers[w].rule] { return true }
        return false
    }

    package func observe(_ call: ObservedCall) {
        for w in firstWatcher[call.index]..<firstWatcher[call.index + 1] {
            let (rule, followerOnly) = watchers[w]
            if !followerOnly || armed[rule] { armed[rule] = rules[rule].observeArmed(call) }
        }
    }

    /// Every finding, the most severe and costliest first.
    public func findings(in result: AnalysisResult) -> [Finding] {
        rules.flatMap { $0.findings(in: result, table: table) }
            .sorted { ($0.severity, $0.cost, $0.count) > ($1.severity, $1.cost, $1.count) }
    }

    /// A rule type by id.
    public static func rule(_ id: String) -> (any FindingRule.Type)? { ruleTypes.first { $0.id == id } }
}
