import RedisCostCore
import RedisCostFormats

extension ServerCommandDocs {
    /// The server id a table records: `valkey-9.1.2` or `redis-7.0.15`, from `INFO server`.
    public static func serverID(infoServer: String) -> String {
        let fields = parseInfo(infoServer)
        if let valkey = fields["valkey_version"] { return "valkey-\(valkey)" }
        if fields["server_name"] == "valkey", let version = fields["redis_version"] { return "valkey-\(version)" }
        return "redis-\(fields["redis_version"] ?? "unknown")"
    }

    /// Builds table entries from the replies of `COMMAND DOCS` and `COMMAND INFO` (RESP2 or RESP3).
    public init(server: String, docs: RESPValue, info: RESPValue) {
        var infoByName: [String: RESPValue] = [:]
        func collectInfo(_ value: RESPValue) {
            guard let items = value.array, let name = items.first?.text else { return }
            infoByName[Self.tableName(name)] = value
            if items.count > 9, let subcommands = items[9].array { subcommands.forEach(collectInfo) }
        }
        info.array?.forEach(collectInfo)

        var commands: [CommandEntry] = []
        func collectDocs(name: String, value: RESPValue) {
            guard let fields = value.fields else { return }
            let tableName = Self.tableName(name)
            var entry = CommandEntry(
                name: tableName, group: fields["group"]?.text ?? "unknown", since: fields["since"]?.text,
                summary: fields["summary"]?.text, complexity: fields["complexity"]?.text)
            if fields["doc_flags"]?.strings?.contains("deprecated") == true {
                entry.deprecatedSince = fields["deprecated_since"]?.text ?? "unknown"
            }
            entry.replacedBy = fields["replaced_by"]?.text
            if let infoItems = infoByName[tableName]?.array, infoItems.count >= 7 {
                entry.arity = infoItems[1].int
                entry.flags = infoItems[2].strings ?? []
                entry.aclCategories = infoItems[6].strings ?? []
                if infoItems.count > 8 { entry.keySpecs = (infoItems[8].array ?? []).compactMap(Self.keySpec) }
            }
            commands.append(entry)
            if let subcommands = fields["subcommands"]?.array {
                var i = 0
                while i + 1 < subcommands.count {
                    if let subName = subcommands[i].text { collectDocs(name: subName, value: subcommands[i + 1]) }
                    i += 2
                }
            }
        }
        if let items = docs.array {
            var i = 0
            while i + 1 < items.count {
                if let name = items[i].text { collectDocs(name: name, value: items[i + 1]) }
                i += 2
            }
        }
        self.init(server: server, commands: commands)
    }

    /// `client|list` → `CLIENT LIST`.
    package static func tableName(_ serverName: String) -> String {
        serverName.replacingOccurrences(of: "|", with: " ").uppercased()
    }

    package static func keySpec(_ value: RESPValue) -> KeySpec? {
        guard let fields = value.fields else { return nil }
        let flags = fields["flags"]?.strings ?? []
        var begin = KeySpec.BeginSearch.unknown
        if let search = fields["begin_search"]?.fields, let spec = search["spec"]?.fields {
            switch search["type"]?.text {
            case "index": begin = spec["index"]?.int.map { .index($0) } ?? .unknown
            case "keyword":
                if let keyword = spec["keyword"]?.text { begin = .keyword(keyword, startFrom: spec["startfrom"]?.int ?? 1) }
            default: break
            }
        }
        var find = KeySpec.FindKeys.unknown
        if let keys = fields["find_keys"]?.fields, let spec = keys["spec"]?.fields {
            switch keys["type"]?.text {
            case "range":
                find = .range(lastKey: spec["lastkey"]?.int ?? 0, step: spec["keystep"]?.int ?? 1, limit: spec["limit"]?.int ?? 0)
            case "keynum":
                find = .keyNum(keyNumIndex: spec["keynumidx"]?.int ?? 0, firstKey: spec["firstkey"]?.int ?? 1, step: spec["keystep"]?.int ?? 1)
            default: break
            }
        }
        return KeySpec(flags: flags, begin: begin, find: find)
    }
}
