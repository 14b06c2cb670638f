import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost table`: the command table as markdown or JSON.
public enum TableReport {
    public static func markdown(_ entries: [CommandEntry]) -> String {
        var out = "# Command table (\(entries.count) entries)\n\n"
        let rows = entries.map { entry -> [String] in
            var complexity = entry.complexity ?? "(not documented by the server)"
            for (server, variant) in entry.complexityVariants.sorted(by: { $0.key < $1.key }) {
                complexity += " — \(server): \(variant ?? "(none)")"
            }
            var name = entry.name
            if let since = entry.deprecatedSince {
                name += " (deprecated since \(since)\(entry.replacedBy.map { "; use \($0)" } ?? ""))"
            }
            return [name, entry.group, entry.since ?? "", complexity, entry.formula.map { "`\($0)`" } ?? "(none yet)",
                    entry.flags.joined(separator: " ")]
        }
        out += Markdown.table(header: ["Command", "Group", "Since", "Complexity", "Formula", "Flags"], rows: rows)
        return out
    }

    public static func jsonObject(_ entry: CommandEntry) -> [String: Any] {
        var object: [String: Any] = [
            "name": entry.name, "group": entry.group, "since": JSONText.orNull(entry.since),
            "complexity": JSONText.orNull(entry.complexity), "formula": JSONText.orNull(entry.formula),
            "flags": entry.flags, "acl": entry.aclCategories, "servers": entry.servers,
            "arity": JSONText.orNull(entry.arity), "summary": JSONText.orNull(entry.summary),
            "deprecatedSince": JSONText.orNull(entry.deprecatedSince), "replacedBy": JSONText.orNull(entry.replacedBy),
        ]
        object["complexityByServer"] = Dictionary(uniqueKeysWithValues: entry.servers.map {
            ($0, JSONText.orNull(entry.complexity(on: $0)))
        })
        // The table file's own form of it (Data/README.md), read back as a JSON object.
        object["semantics"] = (try? JSONSerialization.jsonObject(with: Data(entry.semantics.json.utf8))) ?? [String: Any]()
        object["keySpecs"] = entry.keySpecs.map { spec -> [String: Any] in
            var item: [String: Any] = ["flags": spec.flags]
            switch spec.begin {
            case .index(let i): item["beginSearch"] = ["index": i]
            case .keyword(let word, let from): item["beginSearch"] = ["keyword": word, "startFrom": from]
            case .unknown: item["beginSearch"] = "unknown"
            }
            switch spec.find {
            case .range(let last, let step, let limit): item["findKeys"] = ["range": ["lastKey": last, "step": step, "limit": limit]]
            case .keyNum(let index, let first, let step): item["findKeys"] = ["keyNum": ["keyNumIndex": index, "firstKey": first, "step": step]]
            case .unknown: item["findKeys"] = "unknown"
            }
            return item
        }
        return object
    }

    public static func json(_ entries: [CommandEntry]) -> String {
        JSONText.render(entries.map(jsonObject))
    }
}
