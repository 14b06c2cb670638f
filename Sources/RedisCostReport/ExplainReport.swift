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

    /// The markdown walks the same values as the JSON.
    public static func markdown(_ e: Explanation, options: ReportOptions = .init()) -> String {
        markdown(document(e, options: options))
    }

    package static func markdown(_ d: Document) -> String {
        var out = "# \(d.command)\n\n"
        out += "- Call: \(Markdown.code(d.argv.joined(separator: " ")))\n"
        out += "- Group: \(d.group)" + (d.since.map { ", since \($0)" } ?? "") + "\n"
        out += "- Documented complexity: \(d.complexity ?? "(the server documents none)")\n"
        for (server, variant) in d.complexityVariants.sorted(by: { $0.key < $1.key }) {
            out += "  - on \(server): \(variant ?? "(none)")\n"
        }
        if let since = d.deprecatedSince {
            out += "- Deprecated since \(since)" + (d.replacedBy.map { "; use \($0)" } ?? "") + "\n"
        }
        out += "- Cost formula: " + (d.formula.map { Markdown.code($0) } ?? "(none yet)") + "\n"
        out += "- Sizes: \(d.sizeSource)\n"
        if !d.keys.isEmpty {
            out += "\n" + Markdown.table(
                header: ["Key", "Type", "Size"],
                rows: d.keys.indices.map { index in
                    let text = switch d.sizeKinds[index] {
                    case .missing: "0 (no such key)"
                    case .elements, .bytes: d.sizes[index].map(String.init) ?? "unknown"
                    case .unknown: "unknown"
                    }
                    return [Markdown.code(d.keys[index]), d.types[index] ?? "", text]
                }, alignRight: [2])
        }
        if let n = d.databaseSize { out += "\n- Keys in the database: \(n)\n" }
        if let n = d.allDatabasesSize { out += "- Keys in all databases: \(n)\n" }
        switch (d.cost.value, d.cost.upperBound) {
        case (nil, _): out += "\n**Estimated cost: unknown** (\(d.cost.unknownReason?.value ?? ""))\n"
        case (let v?, true): out += "\n**Estimated cost: at most \(formatCost(v)) elements touched**\n"
        case (let v?, false): out += "\n**Estimated cost: \(formatCost(v)) elements touched**\n"
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
        package var group: String
        package var since: String?
        /// Servers whose documented complexity differs (`null`: that server documents none).
        package var complexityVariants: [String: String?]
        package var deprecatedSince: String?
        package var replacedBy: String?
        /// What each of `sizes` counts: elements, bytes, missing (no such key) or unknown.
        package var sizeKinds: [KeySizeKind]
        package var allDatabasesSize: Int?
    }

    public static func document(_ e: Explanation, options: ReportOptions = .init()) -> Document {
        Document(command: e.entry.name, argv: call(e, options: options), complexity: e.entry.complexity, formula: e.formula?.source,
                        keys: e.keys.map { options.key(Array($0.utf8)) }, sizes: e.facts.sizes.map(\.count), types: e.keyTypes,
                        databaseSize: e.facts.databaseSize,
                        cost: .init(value: e.cost.value, upperBound: e.cost.isUpperBound, unknownReason: e.cost.unknownReason.map(Omittable.init)), sizeSource: e.sizeSource,
                        group: e.entry.group, since: e.entry.since, complexityVariants: e.entry.complexityVariants,
                        deprecatedSince: e.entry.deprecatedSince, replacedBy: e.entry.replacedBy,
                        sizeKinds: e.facts.sizes.map(KeySizeKind.init), allDatabasesSize: e.facts.allDatabasesSize)
    }

    public static func json(_ e: Explanation, options: ReportOptions = .init()) -> String { JSONText.render(document(e, options: options)) }
}
