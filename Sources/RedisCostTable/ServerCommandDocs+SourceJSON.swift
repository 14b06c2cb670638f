import Foundation
import RedisCostCore
import RedisCostFormats

extension ServerCommandDocs {
    /// Reads the command JSON files of a redis/redis or valkey-io/valkey source tree
    /// (`src/commands/*.json`), for commands no running server reports (Sentinel's, SFLUSH…).
    public init(server: String, commandJSONDirectory directory: String) throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory)
            .filter { $0.hasSuffix(".json") }.sorted()
        var commands: [CommandEntry] = []
        for file in files {
            let path = (directory as NSString).appendingPathComponent(file)
            let object = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path)))
            guard let root = object as? [String: Any] else {
                throw CommandTableJSON.FormatError(source: path, detail: "expected an object")
            }
            for (name, value) in root {
                guard let fields = value as? [String: Any] else { continue }
                let container = fields["container"] as? String
                let fullName = ((container.map { $0 + " " } ?? "") + name).uppercased()
                var entry = CommandEntry(
                    name: fullName, group: fields["group"] as? String ?? "unknown",
                    since: fields["since"] as? String, summary: fields["summary"] as? String,
                    complexity: fields["complexity"] as? String, arity: fields["arity"] as? Int,
                    flags: (fields["command_flags"] as? [String] ?? []).map { $0.lowercased() },
                    aclCategories: (fields["acl_categories"] as? [String] ?? []).map { "@" + $0.lowercased() })
                if (fields["doc_flags"] as? [String] ?? []).contains("DEPRECATED") {
                    entry.deprecatedSince = fields["deprecated_since"] as? String ?? "unknown"
                }
                entry.replacedBy = fields["replaced_by"] as? String
                entry.keySpecs = (fields["key_specs"] as? [[String: Any]] ?? []).map { Self.keySpec(json: $0) }
                commands.append(entry)
            }
        }
        self.init(server: server, commands: commands)
    }

    package static func keySpec(json: [String: Any]) -> KeySpec {
        let flags = (json["flags"] as? [String] ?? []).map { ["RO", "RW", "OW", "RM"].contains($0) ? $0 : $0.lowercased() }
        var begin = KeySpec.BeginSearch.unknown
        if let search = json["begin_search"] as? [String: Any] {
            if let index = (search["index"] as? [String: Any])?["pos"] as? Int {
                begin = .index(index)
            } else if let keyword = search["keyword"] as? [String: Any], let word = keyword["keyword"] as? String {
                begin = .keyword(word, startFrom: keyword["startfrom"] as? Int ?? 1)
            }
        }
        var find = KeySpec.FindKeys.unknown
        if let keys = json["find_keys"] as? [String: Any] {
            if let range = keys["range"] as? [String: Any] {
                find = .range(lastKey: range["lastkey"] as? Int ?? 0, step: range["step"] as? Int ?? 1, limit: range["limit"] as? Int ?? 0)
            } else if let keyNum = keys["keynum"] as? [String: Any] {
                find = .keyNum(keyNumIndex: keyNum["keynumidx"] as? Int ?? 0, firstKey: keyNum["firstkey"] as? Int ?? 1, step: keyNum["step"] as? Int ?? 1)
            }
        }
        return KeySpec(flags: flags, begin: begin, find: find)
    }
}
