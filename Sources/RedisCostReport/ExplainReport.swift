import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost explain`: the documented complexity, the formula and the cost of one call.
public enum ExplainReport {
    /// The call as typed; under `--redact-keys`, the command's name and each argument as a
    /// redacted name (a value or a pattern may name what a key does).
    package static func call(_ e: Explanation, options: ReportOptions) -> [String] {
        guard options.redactKeys else { return e.argv }
        let words = e.entry.name.split(separator: " ").count
        return e.entry.name.split(separator: " ").map(String.init) + e.argv.dropFirst(words).map { options.key(Array($0.utf8)) }
    }

    public static func markdown(_ e: Explanation, options: ReportOptions = .init()) -> String {
        var out = "# \(e.entry.name)\n\n"
        out += "- Call: \(Markdown.code(call(e, options: options).joined(separator: " ")))\n"
        out += "- Group: \(e.entry.group)" + (e.entry.since.map { ", since \($0)" } ?? "") + "\n"
        out += "- Documented complexity: \(e.entry.complexity ?? "(the server documents none)")\n"
        for (server, variant) in e.entry.complexityVariants.sorted(by: { $0.key < $1.key }) {
            out += "  - on \(server): \(variant ?? "(none)")\n"
        }
        if let since = e.entry.deprecatedSince {
            out += "- Deprecated since \(since)" + (e.entry.replacedBy.map { "; use \($0)" } ?? "") + "\n"
        }
        out += "- Cost formula: " + (e.formula.map { Markdown.code($0.source) } ?? "(none yet)") + "\n"
        out += "- Sizes: \(e.sizeSource)\n"
        if !e.keys.isEmpty {
            out += "\n" + Markdown.table(
                header: ["Key", "Type", "Size"],
                rows: zip(e.keys.indices, e.keys).map { index, key in
                    let size = e.facts.sizes[index]
                    let text = switch size {
                    case .missing: "0 (no such key)"
                    case .elements(let n), .bytes(let n): String(n)
                    case .unknown: "unknown"
                    }
                    return [Markdown.code(options.key(Array(key.utf8))), e.keyTypes[index] ?? "", text]
                }, alignRight: [2])
        }
        if let n = e.facts.databaseSize { out += "\n- Keys in the database: \(n)\n" }
        if let n = e.facts.allDatabasesSize { out += "- Keys in all databases: \(n)\n" }
        switch e.cost {
        case .unknown(let reason): out += "\n**Estimated cost: unknown** (\(reason))\n"
        case .atMost(let v): out += "\n**Estimated cost: at most \(formatCost(v)) elements touched**\n"
        case .exact(let v): out += "\n**Estimated cost: \(formatCost(v)) elements touched**\n"
        }
        return out
    }

    public struct Document: Codable, Sendable, JSONSchemaNamed {
        package static let schemaName = "explain"
        package struct Cost: Codable, Sendable {
            package var value: Double?
            package var upperBound: Bool
            /// Only when the cost is unknown.
            package var unknownReason: Omittable<String>?
        }
        package var schemaVersion = ReportSchemaVersion()
        package var command: String
        package var argv: [String]
        package var complexity: String?
        package var formula: String?
        package var keys: [String]
        package var sizes: [Int?]
        package var types: [String?]
        package var databaseSize: Int?
        package var cost: Cost
        package var sizeSource: String
    }

    public static func document(_ e: Explanation, options: ReportOptions = .init()) -> Document {
        Document(command: e.entry.name, argv: call(e, options: options), complexity: e.entry.complexity, formula: e.formula?.source,
                        keys: e.keys.map { options.key(Array($0.utf8)) }, sizes: e.facts.sizes.map(\.count), types: e.keyTypes,
                        databaseSize: e.facts.databaseSize,
                        cost: .init(value: e.cost.value, upperBound: e.cost.isUpperBound, unknownReason: e.cost.unknownReason.map(Omittable.init)), sizeSource: e.sizeSource)
    }

    public static func json(_ e: Explanation, options: ReportOptions = .init()) -> String { JSONText.render(document(e, options: options)) }
}
