import Foundation

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

    public struct Entry: Codable, Sendable, JSONSchemaNamed {
        static let schemaName = "tableEntry"
        struct KeySpec: Codable, Sendable {
            /// An object, or the string `unknown` when the server cannot say where the keys begin.
            struct BeginSearch: Codable, Sendable, JSONSchemaOrConstant {
                static let schemaConstant = "unknown"
                var index: Omittable<Int>?
                var keyword: Omittable<String>?
                var startFrom: Omittable<Int>?
                enum CodingKeys: String, CodingKey { case index, keyword, startFrom }
                init() {}
                init(from decoder: any Decoder) throws {
                    if let text = try? decoder.singleValueContainer().decode(String.self), text == Self.schemaConstant { return }
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    index = try container.decodeIfPresent(Omittable<Int>.self, forKey: .index)
                    keyword = try container.decodeIfPresent(Omittable<String>.self, forKey: .keyword)
                    startFrom = try container.decodeIfPresent(Omittable<Int>.self, forKey: .startFrom)
                }
                func encode(to encoder: any Encoder) throws {
                    guard index != nil || keyword != nil else {
                        var container = encoder.singleValueContainer()
                        return try container.encode(Self.schemaConstant)
                    }
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encodeIfPresent(index, forKey: .index)
                    try container.encodeIfPresent(keyword, forKey: .keyword)
                    try container.encodeIfPresent(startFrom, forKey: .startFrom)
                }
            }
            /// `range` or `keyNum`, or the string `unknown`.
            struct FindKeys: Codable, Sendable, JSONSchemaOrConstant {
                static let schemaConstant = "unknown"
                struct Range: Codable, Sendable {
                    var lastKey: Int
                    var step: Int
                    var limit: Int
                }
                struct KeyNum: Codable, Sendable {
                    var keyNumIndex: Int
                    var firstKey: Int
                    var step: Int
                }
                var range: Omittable<Range>?
                var keyNum: Omittable<KeyNum>?
                enum CodingKeys: String, CodingKey { case range, keyNum }
                init() {}
                init(from decoder: any Decoder) throws {
                    if let text = try? decoder.singleValueContainer().decode(String.self), text == Self.schemaConstant { return }
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    range = try container.decodeIfPresent(Omittable<Range>.self, forKey: .range)
                    keyNum = try container.decodeIfPresent(Omittable<KeyNum>.self, forKey: .keyNum)
                }
                func encode(to encoder: any Encoder) throws {
                    guard range != nil || keyNum != nil else {
                        var container = encoder.singleValueContainer()
                        return try container.encode(Self.schemaConstant)
                    }
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encodeIfPresent(range, forKey: .range)
                    try container.encodeIfPresent(keyNum, forKey: .keyNum)
                }
            }
            var flags: [String]
            var beginSearch: BeginSearch
            var findKeys: FindKeys
        }
        var name: String
        var group: String
        var since: String?
        var complexity: String?
        var formula: String?
        var flags: [String]
        var acl: [String]
        var servers: [String]
        var arity: Int?
        var summary: String?
        var deprecatedSince: String?
        var replacedBy: String?
        var complexityByServer: [String: String?]
        var keySpecs: [KeySpec]
    }

    public static func entry(_ entry: CommandEntry) -> Entry {
        Entry(name: entry.name, group: entry.group, since: entry.since, complexity: entry.complexity, formula: entry.formula,
              flags: entry.flags, acl: entry.aclCategories, servers: entry.servers, arity: entry.arity, summary: entry.summary,
              deprecatedSince: entry.deprecatedSince, replacedBy: entry.replacedBy,
              complexityByServer: Dictionary(uniqueKeysWithValues: entry.servers.map { ($0, entry.complexity(on: $0)) }),
              keySpecs: entry.keySpecs.map { spec in
                  var begin = Entry.KeySpec.BeginSearch()
                  switch spec.begin {
                  case .index(let i): begin.index = Omittable(i)
                  case .keyword(let word, let from): (begin.keyword, begin.startFrom) = (Omittable(word), Omittable(from))
                  case .unknown: break
                  }
                  var find = Entry.KeySpec.FindKeys()
                  switch spec.find {
                  case .range(let last, let step, let limit): find.range = Omittable(.init(lastKey: last, step: step, limit: limit))
                  case .keyNum(let index, let first, let step): find.keyNum = Omittable(.init(keyNumIndex: index, firstKey: first, step: step))
                  case .unknown: break
                  }
                  return Entry.KeySpec(flags: spec.flags, beginSearch: begin, findKeys: find)
              })
    }

    public static func json(_ entries: [CommandEntry]) -> String {
        JSONText.render(entries.map(entry))
    }
}
