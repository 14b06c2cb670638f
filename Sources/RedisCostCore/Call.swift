/// One call as every reader gives it, whatever the source (an AOF, a MONITOR capture, a live
/// MONITOR stream): its arguments (bytes in the reader's buffer, valid while the reader is
/// on it), the database it ran in, when and by whom, where it was read, and what it ran
/// inside. The analysis stages take it as it is; none of them asks the reader again.
public struct Call {
    /// What the call ran inside.
    public enum Context: Sendable, Equatable {
        case topLevel
        /// Queued between MULTI and EXEC (the EXEC's cost includes it).
        case transaction
        /// Made by a script or function (the EVAL/FCALL's cost includes it).
        case script
    }

    /// Where the call was read: a byte offset in an AOF, a line of a MONITOR capture or of a
    /// live stream (`file` is then the server's address).
    public struct Origin: Sendable, Equatable {
        public var file: String
        public var position: Int
        public init(file: String, position: Int) {
            self.file = file
            self.position = position
        }
    }

    public var argv: Argv
    public var database: Int
    /// When it ran (Unix microseconds), if the input says: a capture's timestamp, an AOF's
    /// latest `#TS:` annotation.
    public var microseconds: Int64?
    /// The client that sent it, as MONITOR names it (`127.0.0.1:50422`, `lua`), if known.
    public var client: String?
    public var origin: Origin
    public var context: Context

    public init(argv: Argv, database: Int, microseconds: Int64? = nil, client: String? = nil, origin: Origin, context: Context = .topLevel) {
        self.argv = argv
        self.database = database
        self.microseconds = microseconds
        self.client = client
        self.origin = origin
        self.context = context
    }

    /// The Unix second it ran in, if known.
    public var second: Int64? { microseconds.map { $0 / 1_000_000 } }
}
