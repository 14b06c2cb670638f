import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost table`: the command table as markdown or JSON.
public enum TableReport {
    /// The markdown walks the same values as the JSON.
    public static func markdown(_ entries: [CommandEntry]) -> String {
        markdown(entries.map(entry))
    }

    package static func markdown(_ entries: [Entry]) -> String {
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
        package static let schemaName = "tableEntry"
        package struct KeySpec: Codable, Sendable {
            /// An object, or the string `unknown` when the server cannot say where the keys begin.
            package struct BeginSearch: Codable, Sendable, JSONSchemaOrConstant {
                package static let schemaConstant = "unknown"
                package var index: Omittable<Int>?
                package var keyword: Omittable<String>?
                package var startFrom: Omittable<Int>?
                package enum CodingKeys: String, CodingKey { case index, keyword, startFrom }
                package init() {}
                package init(from decoder: any Decoder) throws {
                    if let text = try? decoder.singleValueContainer().decode(String.self), text == Self.schemaConstant { return }
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    index = try container.decodeIfPresent(Omittable<Int>.self, forKey: .index)
                    keyword = try container.decodeIfPresent(Omittable<String>.self, forKey: .keyword)
                    startFrom = try container.decodeIfPresent(Omittable<Int>.self, forKey: .startFrom)
                }
                package func encode(to encoder: any Encoder) throws {
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
            package struct FindKeys: Codable, Sendable, JSONSchemaOrConstant {
                package static let schemaConstant = "unknown"
                package struct Range: Codable, Sendable {
                    package var lastKey: Int
                    package var step: Int
                    package var limit: Int
                }
                package struct KeyNum: Codable, Sendable {
                    package var keyNumIndex: Int
                    package var firstKey: Int
                    package var step: Int
                }
                package var range: Omittable<Range>?
                package var keyNum: Omittable<KeyNum>?
                package enum CodingKeys: String, CodingKey { case range, keyNum }
                package init() {}
                package init(from decoder: any Decoder) throws {
                    if let text = try? decoder.singleValueContainer().decode(String.self), text == Self.schemaConstant { return }
                    let container = try decoder.container(keyedBy: CodingKeys.self)
                    range = try container.decodeIfPresent(Omittable<Range>.self, forKey: .range)
                    keyNum = try container.decodeIfPresent(Omittable<KeyNum>.self, forKey: .keyNum)
                }
                package func encode(to encoder: any Encoder) throws {
                    guard range != nil || keyNum != nil else {
                        var container = encoder.singleValueContainer()
                        return try container.encode(Self.schemaConstant)
                    }
                    var container = encoder.container(keyedBy: CodingKeys.self)
                    try container.encodeIfPresent(range, forKey: .range)
                    try container.encodeIfPresent(keyNum, forKey: .keyNum)
                }
            }
            package var flags: [String]
            package var beginSearch: BeginSearch
            package var findKeys: FindKeys
        }
        package var name: String
        package var group: String
        package var since: String?
        package var complexity: String?
        package var formula: String?
        package var flags: [String]
        package var acl: [String]
        package var servers: [String]
        package var arity: Int?
        package var summary: String?
        package var deprecatedSince: String?
        package var replacedBy: String?
        package var complexityByServer: [String: String?]
        /// The servers whose documented complexity differs from `complexity` (`null`: that
        /// server documents none), as the table file holds them.
        package var complexityVariants: [String: String?]
        /// Where the complexity comes from when no server reports it (a module's commands.json).
        package var complexitySource: String?
        package var keySpecs: [KeySpec]
        /// What the analysis needs to know of the command beyond flags and key specs (the
        /// table's hand-written `semantics`, Data/README.md): only the fields it has.
        package var semantics: Semantics

        package struct Semantics: Codable, Sendable {
            /// Where a script's body, SHA-1 or function name is: `kind` is body, load, sha1 or function.
            package struct Script: Codable, Sendable {
                package var kind: String
                package var argument: Int
            }
            package var reads: Omittable<String>?
            package var range: Omittable<[Int]>?
            package var span: Omittable<[Int]>?
            package var index: Omittable<Int>?
            package var pagedBy: Omittable<[String]>?
            package var write: Omittable<String>?
            package var frees: Omittable<String>?
            package var flushes: Omittable<String>?
            /// Every call gives its key a TTL.
            package var expiresAlways: Omittable<Bool>?
            /// Only with one of these options.
            package var expiresWith: Omittable<[String]>?
            package var transaction: Omittable<String>?
            package var subscription: Omittable<String>?
            package var space: Omittable<String>?
            package var script: Omittable<Script>?

            package init(_ s: CommandSemantics) {
                reads = s.reads.map { Omittable($0.rawValue) }
                range = s.range.map { Omittable([$0.start, $0.stop]) }
                span = s.span.map { Omittable([$0.start, $0.stop]) }
                index = s.index.map { Omittable($0) }
                pagedBy = s.pagedBy.isEmpty ? nil : Omittable(s.pagedBy)
                write = s.write.map { Omittable($0.rawValue) }
                frees = s.freesInBackground ? Omittable("background") : nil
                flushes = s.flushes.map { Omittable($0.rawValue) }
                switch s.expires {
                case .always: expiresAlways = Omittable(true)
                case .withOption(let options): expiresWith = Omittable(options)
                case nil: break
                }
                transaction = s.transaction.map { Omittable($0.rawValue) }
                subscription = s.subscription.map { Omittable($0.rawValue) }
                space = s.space.map { Omittable($0.rawValue) }
                switch s.script {
                case .body(let i): script = Omittable(Script(kind: "body", argument: i))
                case .load(let i): script = Omittable(Script(kind: "load", argument: i))
                case .sha1(let i): script = Omittable(Script(kind: "sha1", argument: i))
                case .function(let i): script = Omittable(Script(kind: "function", argument: i))
                case nil: break
                }
            }
        }
    }

    public static func entry(_ entry: CommandEntry) -> Entry {
        Entry(name: entry.name, group: entry.group, since: entry.since, complexity: entry.complexity, formula: entry.formula,
              flags: entry.flags, acl: entry.aclCategories, servers: entry.servers, arity: entry.arity, summary: entry.summary,
              deprecatedSince: entry.deprecatedSince, replacedBy: entry.replacedBy,
              complexityByServer: Dictionary(uniqueKeysWithValues: entry.servers.map { ($0, entry.complexity(on: $0)) }),
              complexityVariants: entry.complexityVariants, complexitySource: entry.complexitySource,
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
              }, semantics: Entry.Semantics(entry.semantics))
    }

    public static func json(_ entries: [CommandEntry]) -> String {
        JSONText.render(entries.map(entry))
    }
}
