import RedisCostCore
import RedisCostFormats

/// Everything `explain` says about one concrete call.
public struct Explanation: Sendable {
    public var argv: [String]
    public var entry: CommandEntry
    public var formula: Formula?
    public var keys: [String]
    /// Per key: its type where sampled, and its size.
    public var keyTypes: [String?]
    public var facts: CallFacts
    public var cost: Cost
    /// Where sizes came from: "sampled from 127.0.0.1:6379 (db 0)" or "no server: sizes unknown".
    public var sizeSource: String

    /// Works out the call's entry and keys; sizes come later from `withSizes`.
    public init(argv: [String], table: CommandTable) throws(ExplainError) {
        guard let entry = table.entry(forArguments: argv) else {
            throw ExplainError(description: "unknown command \"\(argv.first ?? "")\" (not in the command table; see 'redis-cost table')")
        }
        self.argv = argv
        self.entry = entry
        self.formula = table.formula(named: entry.name)
        let positions = entry.keyPositions(in: argv)
        self.keys = positions.map { argv[$0] }
        self.keyTypes = positions.map { _ in nil }
        self.facts = CallFacts(argv: argv, keyPositions: positions, sizes: positions.map { _ in .unknown })
        self.cost = .unknown(reason: "not evaluated")
        self.sizeSource = "no server given: key sizes unknown (add -u redis://host:port to sample them)"
        evaluate()
    }

    package mutating func evaluate() {
        cost = formula?.evaluate(facts) ?? .unknown(reason: "no formula for \(entry.name) yet")
    }

    public var needsDatabaseSize: Bool { formula?.references(.dbsize) ?? false }
    public var needsAllDatabasesSize: Bool { formula?.references(.allkeys) ?? false }

    public mutating func withSizes(_ sampled: [SampledKey], databaseSize: Int?, allDatabasesSize: Int?, source: String) {
        keyTypes = sampled.map { $0.type }
        facts.sizes = sampled.map(\.size)
        facts.databaseSize = databaseSize
        facts.allDatabasesSize = allDatabasesSize
        sizeSource = source
        evaluate()
    }
}

public struct ExplainError: Error, CustomStringConvertible {
    public var description: String
}

extension Formula {
    package func references(_ variable: Variable) -> Bool {
        func walk(_ node: Node) -> Bool {
            switch node {
            case .variable(let v): v == variable
            case .call(_, let arguments): arguments.contains(where: walk)
            case .negate(let inner): walk(inner)
            case .binary(_, let a, let b): walk(a) || walk(b)
            case .number, .text: false
            }
        }
        return walk(root)
    }
}
