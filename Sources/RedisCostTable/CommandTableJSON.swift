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

    /// `Data/commands.json` as written by `encode`: optional fields may be absent.
    package struct File: Decodable {
        package struct Entry: Decodable {
            package struct KeySpec: Decodable {
                package var flags: [String]?
                package var index: Int?
                package var keyword: String?
                package var startFrom: Int?
                package var range: [Int]?
                package var keyNum: [Int]?
            }
            package var name: String?
            package var group: String?
            package var since: String?
            package var sinceVariants: [String: String]?
            package var summary: String?
            package var complexity: String?
            package var complexityVariants: [String: String?]?
            package var complexitySource: String?
            package var servers: [String]?
            package var arity: Int?
            package var flags: [String]?
            package var acl: [String]?
            package var keySpecs: [KeySpec]?
            package var deprecatedSince: String?
            package var replacedBy: String?
            package var formula: String?
            package var semantics: CommandSemantics.Document?
        }
        package var commands: [Entry]
    }

    public static func decode(_ text: String, source: String) throws -> [CommandEntry] {
        let file: File
        do {
            file = try JSONTree.parse(text).decode(File.self)
        } catch let error as JSONTree.SyntaxError {
            throw FormatError(source: source, detail: "not JSON \(error)")
        } catch DecodingError.keyNotFound(let key, let context) where context.codingPath.isEmpty && key.stringValue == "commands" {
            throw FormatError(source: source, detail: "expected {\"commands\": [...]}")
        } catch let error as DecodingError {
            throw FormatError(source: source, detail: Self.describe(error))
        } catch {
            throw FormatError(source: source, detail: "\(error.localizedDescription)")
        }
        return try file.commands.enumerated().map { index, item in
            try entry(from: item, where: "\(source): commands[\(index)]")
        }
    }

    /// A decoding error as one line: where in the file, and what was wrong.
    package static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            return (context.codingPath.isEmpty ? "" : "at \(path(context)): ") + context.debugDescription
        @unknown default:
            return "\(error)"
        }
    }

    package static func entry(from item: File.Entry, where location: String) throws -> CommandEntry {
        guard let name = item.name, let group = item.group else {
            throw FormatError(source: location, detail: "an entry needs a name and a group")
        }
        let specs = try (item.keySpecs ?? []).map {
            try keySpec(from: $0, where: "\(location) (\(name))")
        }
        return CommandEntry(
            name: name, group: group, since: item.since,
            sinceVariants: item.sinceVariants ?? [:], summary: item.summary,
            complexity: item.complexity, complexityVariants: item.complexityVariants ?? [:],
            complexitySource: item.complexitySource,
            servers: item.servers ?? [], arity: item.arity,
            flags: item.flags ?? [], aclCategories: item.acl ?? [],
            keySpecs: specs, deprecatedSince: item.deprecatedSince,
            replacedBy: item.replacedBy, formula: item.formula,
            semantics: try item.semantics.map { try CommandSemantics($0, where: "\(location) (\(name))") } ?? CommandSemantics())
    }

    package static func keySpec(from item: File.Entry.KeySpec, where location: String) throws -> KeySpec {
        let begin: KeySpec.BeginSearch
        if let index = item.index {
            begin = .index(index)
        } else if let keyword = item.keyword {
            begin = .keyword(keyword, startFrom: item.startFrom ?? 1)
        } else {
            begin = .unknown
        }
        let find: KeySpec.FindKeys
        if let range = item.range, range.count == 3 {
            find = .range(lastKey: range[0], step: range[1], limit: range[2])
        } else if let keyNum = item.keyNum, keyNum.count == 3 {
            find = .keyNum(keyNumIndex: keyNum[0], firstKey: keyNum[1], step: keyNum[2])
        } else if item.range != nil || item.keyNum != nil {
            throw FormatError(source: location, detail: "range and keyNum take three integers")
        } else {
            find = .unknown
        }
        return KeySpec(flags: item.flags ?? [], begin: begin, find: find)
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
        if let source = e.complexitySource { fields.append(("complexitySource", quote(source))) }
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
