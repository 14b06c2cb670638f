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
    public var description: String { "\(Self.shown(file)): at byte \(offset): \(detail)" }

    /// At most `limit` bytes of a name or of a file's content, for a message: control bytes
    /// escaped so that it stays one line, "…" where it is cut (a manifest once echoed a
    /// 50 MB file name whole).
    package static func excerpt(_ bytes: some Collection<UInt8>, limit: Int = 200) -> String {
        KeyText.display(Array(bytes.prefix(limit))) + (bytes.count > limit ? "…" : "")
    }

    /// A path as given, unless it holds a control byte or is longer than any path the
    /// system opens (PATH_MAX): then an excerpt, so the message stays one short line.
    package static func shown(_ path: String) -> String {
        path.utf8.count <= 4096 && !path.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) ? path : excerpt(path.utf8)
    }
}
