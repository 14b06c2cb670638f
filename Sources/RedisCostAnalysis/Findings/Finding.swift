import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// What the report tells the operator to change: a rule that fired, with its evidence.
public struct Finding: Sendable {
    package init(rule: String, title: String, severity: Severity, why: String, fix: String, summary: String, count: Int, cost: Double, evidence: [Evidence], patterns: [(pattern: [UInt8], count: Int)], threshold: String? = nil, estimatedMicroseconds: Double = 0.0) {
        self.rule = rule
        self.title = title
        self.severity = severity
        self.why = why
        self.fix = fix
        self.summary = summary
        self.count = count
        self.cost = cost
        self.evidence = evidence
        self.patterns = patterns
        self.threshold = threshold
        self.estimatedMicroseconds = estimatedMicroseconds
    }
    public enum Severity: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
        case info, warning, critical
        public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
        public var description: String {
            switch self {
            case .info: "info"
            case .warning: "warning"
            case .critical: "critical"
            }
        }
        public init?(name: String) {
            guard let found = Self.allCases.first(where: { $0.description == name }) else { return nil }
            self = found
        }
    }

    /// One call that shows the problem.
    public struct Evidence: Sendable {
        package init(command: String, keys: [[UInt8]], sizes: [KeySize], cost: Double? = nil, time: Int64? = nil, client: String? = nil, location: String, note: Note? = nil, elementClass: String = "", estimatedMicroseconds: Double? = nil) {
            self.command = command
            self.keys = keys
            self.sizes = sizes
            self.cost = cost
            self.time = time
            self.client = client
            self.location = location
            self.note = note
            self.elementClass = elementClass
            self.estimatedMicroseconds = estimatedMicroseconds
        }
        public var command: String
        public var keys: [[UInt8]]
        public var sizes: [KeySize]
        /// Elements touched, when known.
        public var cost: Double?
        public var time: Int64?
        public var client: String?
        /// `file@byte` (AOF) or `capture:line`.
        public var location: String
        /// What about this call matters (`index 2,500 of 5,002`, `after SCAN MATCH …`).
        public var note: Note?
        /// The time model's class of the command, and the server time by that model.
        package var elementClass = "keyspace"
        public var estimatedMicroseconds: Double? = nil
    }

    public var rule: String
    public var title: String
    public var severity: Severity
    public var why: String
    public var fix: String
    /// One sentence of what was seen, with the numbers.
    public var summary: String
    public var count: Int
    /// Elements the occurrences touched (0 when the rule is not about a cost).
    public var cost: Double
    public var evidence: [Evidence]
    /// Key patterns of the occurrences, most frequent first.
    public var patterns: [(pattern: [UInt8], count: Int)]
    /// The threshold the rule applied, with its unit (`1,000 elements`).
    public var threshold: String?
    /// Server time of the occurrences by the time model, each call's own estimate (0 when
    /// the rule is not about a cost).
    public var estimatedMicroseconds = 0.0

    /// Server time by the time model for evidence that is not a call of the analysis (a
    /// SLOWLOG entry costed with today's key sizes).
    package mutating func estimateTimes(_ model: TimeModel) {
        for e in evidence.indices where evidence[e].estimatedMicroseconds == nil {
            let element = evidence[e].elementClass
            evidence[e].estimatedMicroseconds = evidence[e].cost.map { model.microseconds(calls: 1, elements: $0, elementClass: element) }
        }
    }
}

/// Collects a rule's occurrences: their count and cost, the costliest few as evidence, and
/// the key patterns they touched.
package struct FindingBuilder {
    package static let evidenceLimit = 5
    package private(set) var count = 0
    package private(set) var cost = 0.0
    package private(set) var worst = 0.0
    package private(set) var evidence: [Finding.Evidence] = []
    private var patternCounts: [[UInt8]: Int] = [:]
    private var microseconds = 0.0

    package mutating func add(_ call: ObservedCall, cost: Double? = nil, note: Note? = nil) {
        let value = cost ?? call.cost.value ?? 0
        count += 1
        self.cost += value
        // The call's one estimate, made when it was costed; rules that are not about a cost
        // (cost 0) add no time.
        if value > 0 { microseconds += call.estimatedMicroseconds ?? 0 }
        worst = max(worst, value)
        if let first = call.positions.first {
            let pattern = KeyPattern.fold(call.argv[first])
            if patternCounts.count < 10_000 || patternCounts[pattern] != nil { patternCounts[pattern, default: 0] += 1 }
        }
        if evidence.count < Self.evidenceLimit || value > (evidence.last?.cost ?? 0) {
            evidence.append(call.evidence(cost: cost, note: note))
            evidence.sort { ($0.cost ?? 0) > ($1.cost ?? 0) }
            if evidence.count > Self.evidenceLimit { evidence.removeLast() }
        }
    }

    package var patterns: [(pattern: [UInt8], count: Int)] { Self.top(patternCounts) }

    /// The most frequent patterns; ties go to the shorter, then the first in byte order.
    package static func top(_ counts: [[UInt8]: Int], limit: Int = 5) -> [(pattern: [UInt8], count: Int)] {
        counts.sorted { a, b in
            a.value != b.value ? a.value > b.value : a.key.count != b.key.count ? a.key.count < b.key.count : a.key.lexicographicallyPrecedes(b.key)
        }.prefix(limit).map { ($0.key, $0.value) }
    }

    /// The finding, when anything was added.
    package func finding<R: FindingRule>(_ rule: R.Type, summary: String, severity: Finding.Severity? = nil, threshold: String? = nil) -> Finding? {
        guard count > 0 else { return nil }
        return Finding(rule: R.id, title: R.title, severity: severity ?? R.severity, why: R.why, fix: R.fix, summary: summary,
                       count: count, cost: cost, evidence: evidence, patterns: patterns, threshold: threshold, estimatedMicroseconds: microseconds)
    }
}
