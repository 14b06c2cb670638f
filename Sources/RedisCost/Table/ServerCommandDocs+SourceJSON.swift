import Foundation

extension ServerCommandDocs {
    /// Reads the command JSON files of a redis/redis or valkey-io/valkey source tree
    /// (`src/commands/*.json`), for commands no running server reports (Sentinel's, SFLUSH…).
    /// One command of `src/commands/*.json` (a file holds one object: the command's name → this).
    struct SourceCommand: Decodable {
        struct KeySpec: Decodable {
            struct BeginSearch: Decodable {
                struct Index: Decodable { var pos: Int? }
                struct Keyword: Decodable {
                    var keyword: String?
                    var startfrom: Int?
                }
                var index: Index?
                var keyword: Keyword?
            }
            struct FindKeys: Decodable {
                struct Range: Decodable {
                    var lastkey: Int?
                    var step: Int?
                    var limit: Int?
                }
                struct KeyNum: Decodable {
                    var keynumidx: Int?
                    var firstkey: Int?
                    var step: Int?
                }
                var range: Range?
                var keynum: KeyNum?
            }
            var flags: [String]?
            var begin_search: BeginSearch?
            var find_keys: FindKeys?
        }
        var container: String?
        var group: String?
        var since: String?
        var summary: String?
        var complexity: String?
        var arity: Int?
        var command_flags: [String]?
        var acl_categories: [String]?
        var doc_flags: [String]?
        var deprecated_since: String?
        var replaced_by: String?
        var key_specs: [KeySpec]?
    }

    /// A top-level value of a command file: a command, or (not in the trees seen) anything else, skipped.
    struct SourceValue: Decodable {
        struct AnyKey: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var command: SourceCommand?
        init(from decoder: any Decoder) throws {
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

    static func keySpec(_ json: SourceCommand.KeySpec) -> KeySpec {
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
