import Foundation
import RedisCostCore
import RedisCostFormats

extension ServerCommandDocs {
    /// Reads the command JSON files of a redis/redis or valkey-io/valkey source tree
    /// (`src/commands/*.json`), for commands no running server reports (Sentinel's, SFLUSH…).
    /// One command of `src/commands/*.json` (a file holds one object: the command's name → this).
    package struct SourceCommand: Decodable {
        package struct KeySpec: Decodable {
            package struct BeginSearch: Decodable {
                package struct Index: Decodable { var pos: Int? }
                package struct Keyword: Decodable {
                    package var keyword: String?
                    package var startfrom: Int?
                }
                package var index: Index?
                package var keyword: Keyword?
            }
            package struct FindKeys: Decodable {
                package struct Range: Decodable {
                    package var lastkey: Int?
                    package var step: Int?
                    package var limit: Int?
                }
                package struct KeyNum: Decodable {
                    package var keynumidx: Int?
                    package var firstkey: Int?
                    package var step: Int?
                }
                package var range: Range?
                package var keynum: KeyNum?
            }
            package var flags: [String]?
            package var begin_search: BeginSearch?
            package var find_keys: FindKeys?
        }
        package var container: String?
        package var group: String?
        package var since: String?
        package var summary: String?
        package var complexity: String?
        package var arity: Int?
        package var command_flags: [String]?
        package var acl_categories: [String]?
        package var doc_flags: [String]?
        package var deprecated_since: String?
        package var replaced_by: String?
        package var key_specs: [KeySpec]?
    }

    /// A top-level value of a command file: a command, or (not in the trees seen) anything else, skipped.
    package struct SourceValue: Decodable {
        package struct AnyKey: CodingKey {
            package var stringValue: String
            package var intValue: Int? { nil }
            package init(stringValue: String) { self.stringValue = stringValue }
            package init?(intValue: Int) { nil }
        }
        package var command: SourceCommand?
        package init(from decoder: any Decoder) throws {
            guard (try? decoder.container(keyedBy: AnyKey.self)) != nil else { return }
            command = try SourceCommand(from: decoder)
        }
    }

    public init(server: String, commandJSONDirectory directory: String) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".json") }.sorted()
        var commands: [CommandEntry] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            let root: [String: SourceValue]
            do {
                root = try JSONDecoder().decode([String: SourceValue].self, from: Data(contentsOf: URL(fileURLWithPath: path)))
            } catch DecodingError.typeMismatch(_, let context) where context.codingPath.isEmpty {
                throw CommandTableJSON.FormatError(source: path, detail: "expected an object")
            } catch let error as DecodingError {
                throw CommandTableJSON.FormatError(source: path, detail: CommandTableJSON.describe(error))
            }
            for (name, value) in root {
                guard let fields = value.command else { continue }
                let fullName = ((fields.container.map { $0 + " " } ?? "") + name).uppercased()
                var entry = CommandEntry(
                    name: fullName, group: fields.group ?? "unknown",
                    since: fields.since, summary: fields.summary,
                    complexity: fields.complexity, arity: fields.arity,
                    flags: (fields.command_flags ?? []).map { $0.lowercased() },
                    aclCategories: (fields.acl_categories ?? []).map { "@" + $0.lowercased() })
                if (fields.doc_flags ?? []).contains("DEPRECATED") {
                    entry.deprecatedSince = fields.deprecated_since ?? "unknown"
                }
                entry.replacedBy = fields.replaced_by
                entry.keySpecs = (fields.key_specs ?? []).map(Self.keySpec)
                commands.append(entry)
            }
        }
        self.init(server: server, commands: commands)
    }

    package static func keySpec(_ json: SourceCommand.KeySpec) -> KeySpec {
        let flags = (json.flags ?? []).map { ["RO", "RW", "OW", "RM"].contains($0) ? $0 : $0.lowercased() }
        var begin = KeySpec.BeginSearch.unknown
        if let search = json.begin_search {
            if let index = search.index?.pos {
                begin = .index(index)
            } else if let keyword = search.keyword, let word = keyword.keyword {
                begin = .keyword(word, startFrom: keyword.startfrom ?? 1)
            }
        }
        var find = KeySpec.FindKeys.unknown
        if let keys = json.find_keys {
            if let range = keys.range {
                find = .range(lastKey: range.lastkey ?? 0, step: range.step ?? 1, limit: range.limit ?? 0)
            } else if let keyNum = keys.keynum {
                find = .keyNum(keyNumIndex: keyNum.keynumidx ?? 0, firstKey: keyNum.firstkey ?? 1, step: keyNum.step ?? 1)
            }
        }
        return KeySpec(flags: flags, begin: begin, find: find)
    }
}
