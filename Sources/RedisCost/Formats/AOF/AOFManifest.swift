/// A Redis 7+ AOF manifest (`appendonly.aof.manifest`): one line per file,
/// `file <name> seq <n> type <b|h|i> [startoffset <n> endoffset <n>]` (aof.c,
/// aofLoadManifestFromFile). Names with spaces are written quoted, as sdscatrepr does.
public struct AOFManifest: Sendable, Equatable {
    public enum FileType: String, Sendable {
        case base = "b", history = "h", incremental = "i"
    }

    public struct Entry: Sendable, Equatable {
        public var name: String
        public var sequence: Int
        public var type: FileType
    }

    public var entries: [Entry]

    /// The files Redis loads, in its order: the base, then the incr files by sequence.
    /// History files are leftovers of earlier rewrites and are not loaded.
    public var loadOrder: [Entry] {
        entries.filter { $0.type == .base } + entries.filter { $0.type == .incremental }.sorted { $0.sequence < $1.sequence }
    }

    public init(text: String, path: String) throws(InputError) {
        var entries: [Entry] = []
        var offset = 0
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: false) {
            defer { offset += rawLine.utf8.count + 1 }
            let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
            if line.isEmpty || line.hasPrefix("#") { continue }
            let words = Self.split(String(line))
            var fields: [String: String] = [:]
            var i = 0
            while i + 1 < words.count {
                fields[words[i]] = words[i + 1]
                i += 2
            }
            guard let name = fields["file"], let seqText = fields["seq"], let sequence = Int(seqText),
                  let typeText = fields["type"], let type = FileType(rawValue: typeText) else {
                throw InputError(file: path, offset: offset, detail: "expected \"file NAME seq N type b|h|i\", found \"\(line.prefix(80))\"")
            }
            guard !name.contains("/") else {
                throw InputError(file: path, offset: offset, detail: "a manifest file name may not contain '/': \(name)")
            }
            entries.append(Entry(name: name, sequence: sequence, type: type))
        }
        guard entries.contains(where: { $0.type != .history }) else {
            throw InputError(file: path, offset: 0, detail: "the manifest lists no base or incr file")
        }
        guard entries.filter({ $0.type == .base }).count <= 1 else {
            throw InputError(file: path, offset: 0, detail: "the manifest lists more than one base file")
        }
        self.entries = entries
    }

    /// Splits on spaces, honouring "double quoted" words with \\ and \" escapes.
    static func split(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var inQuotes = false
        var escaped = false
        var hasWord = false
        for character in line {
            if escaped {
                current.append(character)
                escaped = false
            } else if inQuotes && character == "\\" {
                escaped = true
            } else if character == "\"" {
                inQuotes.toggle()
                hasWord = true
            } else if character == " " && !inQuotes {
                if hasWord || !current.isEmpty { words.append(current) }
                current = ""
                hasWord = false
            } else {
                current.append(character)
            }
        }
        if hasWord || !current.isEmpty { words.append(current) }
        return words
    }
}

/// Bad input: names the file and the byte offset, in one line.
public struct InputError: Error, CustomStringConvertible, Equatable {
    public var file: String
    public var offset: Int
    public var detail: String
    public init(file: String, offset: Int, detail: String) {
        self.file = file
        self.offset = offset
        self.detail = detail
    }
    public var description: String { "\(file): at byte \(offset): \(detail)" }
}
