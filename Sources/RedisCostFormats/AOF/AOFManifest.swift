import RedisCostCore
import RedisCostKeyspace

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
        /// Where its line starts in the manifest, for messages.
        public var offset: Int
    }

    public var entries: [Entry]

    /// The files Redis loads, in its order: the base, then the incr files by sequence.
    /// History files are leftovers of earlier rewrites and are not loaded.
    public var loadOrder: [Entry] {
        entries.filter { $0.type == .base } + entries.filter { $0.type == .incremental }.sorted { $0.sequence < $1.sequence }
    }

    /// Redis reads a manifest line into a buffer of this size and refuses a longer line
    /// (aof.c, MANIFEST_MAX_LINE): a line that long is no manifest Redis wrote.
    package static let maxLine = 1024

    public init(text: String, path: String) throws(InputError) {
        self = try withBytes(Array(text.utf8)) { (raw) throws(InputError) -> AOFManifest in try AOFManifest(bytes: raw, path: path) }
    }

    /// Reads the lines as Redis does (aof.c, aofLoadManifestFromFile), from the bytes: a
    /// file of any size costs its entries, never a copy of itself.
    public init(bytes: UnsafeRawBufferPointer, path: String) throws(InputError) {
        var entries: [Entry] = []
        var lineOfName: [String: Int] = [:]
        var offset = 0
        var lineNumber = 0
        while offset < bytes.count {
            lineNumber += 1
            let end = bytes[offset...].firstIndex(of: 10) ?? bytes.count
            defer { offset = end + 1 }
            guard end - offset <= Self.maxLine else {
                throw InputError(file: path, offset: offset, detail: "line \(lineNumber) is longer than the \(Self.maxLine) bytes Redis reads of a manifest line")
            }
            var line = UnsafeRawBufferPointer(rebasing: bytes[offset..<end])
            if line.last == 13 { line = UnsafeRawBufferPointer(rebasing: line.dropLast()) }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            let words = Self.split(String(decoding: line, as: UTF8.self))
            var fields: [String: String] = [:]
            var i = 0
            while i + 1 < words.count {
                fields[words[i]] = words[i + 1]
                i += 2
            }
            guard let name = fields["file"], let seqText = fields["seq"], let sequence = Int(seqText),
                  let typeText = fields["type"], let type = FileType(rawValue: typeText) else {
                throw InputError(file: path, offset: offset, detail: "expected \"file NAME seq N type b|h|i\", found \"\(InputError.excerpt(line, limit: 80))\"")
            }
            guard !name.contains("/") else {
                throw InputError(file: path, offset: offset, detail: "a manifest file name may not contain '/': \(InputError.excerpt(name.utf8))")
            }
            // Redis refuses incr files out of sequence ("Found a non-monotonic sequence
            // number") and a second base; a name listed twice would be loaded twice.
            if let first = lineOfName[name] {
                throw InputError(file: path, offset: offset, detail: "line \(lineNumber) lists \(InputError.excerpt(name.utf8)) again (line \(first) did): a manifest names each file once")
            }
            lineOfName[name] = lineNumber
            entries.append(Entry(name: name, sequence: sequence, type: type, offset: offset))
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
    package static func split(_ line: String) -> [String] {
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
