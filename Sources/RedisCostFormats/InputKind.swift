import RedisCostCore
import RedisCostKeyspace

/// What a path holds, decided from its content: a MONITOR capture, or the AOF/RDB family
/// (an appendonlydir, a manifest, an AOF with or without an RDB preamble, an .rdb), which
/// `AOFInput` tells apart.
public enum InputKind: Sendable, Equatable {
    case monitorCapture
    case aofOrRDB

    /// A capture starts with redis-cli's "OK" or a line "<seconds>.<micro> [". A capture of
    /// an idle server is only "OK", or nothing at all: a capture of 0 calls, not an error
    /// (an empty file named `.aof` is an AOF of 0 commands, as Redis makes for a new incr file).
    public static func detect(_ path: String) -> InputKind {
        // A directory, a missing file, a FIFO or a device: AOFInput says what is wrong with it.
        guard let head = try? MappedFile.head(of: path, count: 64) else { return .aofOrRDB }
        var rest = head[...]
        if rest.starts(with: Array("OK".utf8)) {
            rest = rest.dropFirst(2)
            while let first = rest.first, first == UInt8(ascii: "\r") || first == UInt8(ascii: "\n") { rest = rest.dropFirst() }
            // Only redis-cli's "OK": an idle capture (the head holds the whole file).
            if rest.isEmpty, head.count < 64 { return .monitorCapture }
        } else if head.isEmpty {
            return path.lowercased().hasSuffix(".aof") ? .aofOrRDB : .monitorCapture
        }
        let digits = rest.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard !digits.isEmpty, rest.dropFirst(digits.count).first == UInt8(ascii: ".") else { return .aofOrRDB }
        let line = rest.dropFirst(digits.count).prefix { $0 != UInt8(ascii: "\n") }
        return line.indices.contains { line[$0...].starts(with: Array(" [".utf8)) } ? .monitorCapture : .aofOrRDB
    }
}
