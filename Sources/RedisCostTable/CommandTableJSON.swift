import Foundation
import RedisCostCore
import RedisCostFormats

/// Reading and writing `Data/commands.json`. The writer emits one entry per block with a
/// fixed field order so that a refresh shows up as a small, reviewable diff.
public enum CommandTableJSON {
    public struct FormatError: Error, CustomStringConvertible {
        public var source: String
        public var detail: String
        public var description: String { "\(source): not a valid command table: \(detail)" }
    }

    public static func decode(_ text: String, source: String) throws -> [CommandEntry] {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        } catch {
            throw FormatError(source: source, detail: "\(error.localizedDescription)")
        }
        guard let root = object as? [String: Any], let list = root["commands"] as? [[String: Any]] else {
            throw FormatError(source: source, detail: "expected {\"commands\": [...]}")
        }
        return try list.enumerated().map { index, item in
            try entry(from: item, where: "\(source): commands[\(index)]")
        }
    }

    package static func entry(from item: [String: Any], where location: String) throws -> CommandEntry {
        guard let name = item["name"] as? String, let group = item["group"] as? String else {
            throw FormatError(source: location, detail: "an entry needs a name and a group")
        }
        var variants: [String: String?] = [:]
        for (server, value) in item["complexityVariants"] as? [String: Any] ?? [:] {
            variants[server] = .some(value as? String)
        }
        let specs = try (item["keySpecs"] as? [[String: Any]] ?? []).map {
            try keySpec(from: $0, where: "\(location) (\(name))")
        }
        var semantics = CommandSemantics()
        if let value = item["semantics"] {
            guard let object = value as? [String: Any] else {
                throw FormatError(source: "\(location) (\(name))", detail: "semantics is an object")
            }
            semantics = try CommandSemantics(json: object, where: "\(location) (\(name))")
        }
        return CommandEntry(
            name: name, group: group, since: item["since"] as? String,
            sinceVariants: item["sinceVariants"] as? [String: String] ?? [:], summary: item["summary"] as? String,
            complexity: item["complexity"] as? String, complexityVariants: variants,
            servers: item["servers"] as? [String] ?? [], arity: item["arity"] as? Int,
            flags: item["flags"] as? [String] ?? [], aclCategories: item["acl"] as? [String] ?? [],
            keySpecs: specs, deprecatedSince: item["deprecatedSince"] as? String,
            replacedBy: item["replacedBy"] as? String, formula: item["formula"] as? String, semantics: semantics)
    }

    package static func keySpec(from item: [String: Any], where location: String) throws -> KeySpec {
        let begin: KeySpec.BeginSearch
        if let index = item["index"] as? Int {
            begin = .index(index)
        } else if let keyword = item["keyword"] as? String {
            begin = .keyword(keyword, startFrom: item["startFrom"] as? Int ?? 1)
        } else {
            begin = .unknown
        }
        let find: KeySpec.FindKeys
        if let range = item["range"] as? [Int], range.count == 3 {
            find = .range(lastKey: range[0], step: range[1], limit: range[2])
        } else if let keyNum = item["keyNum"] as? [Int], keyNum.count == 3 {
            find = .keyNum(keyNumIndex: keyNum[0], firstKey: keyNum[1], step: keyNum[2])
        } else if item["range"] != nil || item["keyNum"] != nil {
            throw FormatError(source: location, detail: "range and keyNum take three integers")
        } else {
            find = .unknown
        }
        return KeySpec(flags: item["flags"] as? [String] ?? [], begin: begin, find: find)
    }

    public static func encode(_ entries: [CommandEntry]) -> String {
        var out = "{\"commands\": [\n"
        for (index, entry) in entries.sorted(by: { $0.name < $1.name }).enumerated() {
            out += index == 0 ? "" : ",\n"
            out += encode(entry)
        }
        out += "\n]}\n"
        return out
    }

    package static func encode(_ e: CommandEntry) -> String {
        var fields: [(String, String)] = [("name", quote(e.name)), ("group", quote(e.group))]
        if let since = e.since { fields.append(("since", quote(since))) }
        if !e.sinceVariants.isEmpty {
            let parts = e.sinceVariants.keys.sorted().map { "\(quote($0)): \(quote(e.sinceVariants[$0]!))" }
            fields.append(("sinceVariants", "{" + parts.joined(separator: ", ") + "}"))
        }
        if let summary = e.summary { fields.append(("summary", quote(summary))) }
        fields.append(("complexity", e.complexity.map(quote) ?? "null"))
        if !e.complexityVariants.isEmpty {
            let parts = e.complexityVariants.keys.sorted().map { server in
                "\(quote(server)): \(e.complexityVariants[server]!.map(quote) ?? "null")"
            }
            fields.append(("complexityVariants", "{" + parts.joined(separator: ", ") + "}"))
        }
        fields.append(("formula", e.formula.map(quote) ?? "null"))
        if !e.semantics.isEmpty { fields.append(("semantics", e.semantics.json)) }
        fields.append(("servers", list(e.servers)))
        if let arity = e.arity { fields.append(("arity", String(arity))) }
        fields.append(("flags", list(e.flags)))
        fields.append(("acl", list(e.aclCategories)))
        if !e.keySpecs.isEmpty {
            let specs = e.keySpecs.map { "\n    " + encode($0) }.joined(separator: ",")
            fields.append(("keySpecs", "[" + specs + "]"))
        }
        if let deprecated = e.deprecatedSince { fields.append(("deprecatedSince", quote(deprecated))) }
        if let replacement = e.replacedBy { fields.append(("replacedBy", quote(replacement))) }
        return "  {" + fields.map { "\(quote($0.0)): \($0.1)" }.joined(separator: ",\n   ") + "}"
    }

    package static func encode(_ spec: KeySpec) -> String {
        var parts = ["\"flags\": \(list(spec.flags))"]
        switch spec.begin {
        case .index(let index): parts.append("\"index\": \(index)")
        case .keyword(let keyword, let startFrom):
            parts.append("\"keyword\": \(quote(keyword)), \"startFrom\": \(startFrom)")
        case .unknown: break
        }
        switch spec.find {
        case .range(let lastKey, let step, let limit): parts.append("\"range\": [\(lastKey), \(step), \(limit)]")
        case .keyNum(let index, let firstKey, let step): parts.append("\"keyNum\": [\(index), \(firstKey), \(step)]")
        case .unknown: break
        }
        return "{" + parts.joined(separator: ", ") + "}"
    }

    package static func list(_ strings: [String]) -> String { "[" + strings.map(quote).joined(separator: ", ") + "]" }

    package static func quote(_ string: String) -> String {
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
