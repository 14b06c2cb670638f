import Foundation
import RedisCostCore
import RedisCostKeyspace

/// What `analyze PATH` was given, detected from the path and the bytes, not from flags.
public struct AOFInput: Sendable {
    public enum Role: String, Sendable {
        /// The snapshot a rewrite produced: it sets sizes, its commands are not workload.
        case base
        /// Writes after the rewrite: the workload.
        case incremental
    }

    public enum Format: String, Sendable {
        case aof
        /// An RDB file, or an AOF that starts with an RDB preamble.
        case rdb
        /// A MONITOR capture (`redis-cli monitor` text, or a live session's stream).
        case monitor
    }

    public struct Segment: Sendable {
        public var path: String
        public var role: Role
        public var format: Format
        /// The cluster node (input) the file is from, when several nodes are analysed together.
        public var node = 0
    }

    public var description: String
    public var segments: [Segment]
    /// The manifest of a multi-part AOF.
    public var manifest: String?
    /// Every file the input is read from.
    public var files: [String] { (manifest.map { [$0] } ?? []) + segments.map(\.path) }

    /// Detects a Redis 7+ `appendonlydir/` (or its manifest), a single `.aof` (with or
    /// without an RDB preamble), or an `.rdb` file.
    public init(path: String) throws(InputError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw InputError(file: path, offset: 0, detail: "no such file or directory")
        }
        if isDirectory.boolValue {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            let manifests = names.filter { $0.hasSuffix(".manifest") }.sorted()
            guard manifests.count == 1 else {
                throw InputError(file: path, offset: 0, detail: manifests.isEmpty
                    ? "a directory without an AOF manifest (expected an appendonlydir/ with *.manifest)"
                    : "more than one manifest: \(manifests.joined(separator: ", "))")
            }
            let manifest = (path as NSString).appendingPathComponent(manifests[0])
            self.manifest = manifest
            (description, segments) = try Self.fromManifest(manifest)
        } else if path.hasSuffix(".manifest") {
            manifest = path
            (description, segments) = try Self.fromManifest(path)
        } else {
            let format = try Self.format(of: path)
            // An .rdb file is a snapshot; any other file is a legacy AOF, whose RDB preamble
            // (if any) is the snapshot its rewrite wrote and whose commands are the workload.
            let snapshotOnly = format == .rdb && path.lowercased().hasSuffix(".rdb")
            description = snapshotOnly ? "RDB file \(path)" : format == .rdb ? "AOF file with an RDB preamble \(path)" : "AOF file \(path)"
            segments = [Segment(path: path, role: snapshotOnly ? .base : .incremental, format: format)]
        }
    }

    package static func fromManifest(_ path: String) throws(InputError) -> (String, [Segment]) {
        let file: MappedFile
        do {
            file = try MappedFile(path: path)
        } catch {
            throw InputError(file: path, offset: 0, detail: "cannot read the manifest: \(error.detail)")
        }
        let manifest = try AOFManifest(bytes: file.bytes, path: path)
        let directory = (path as NSString).deletingLastPathComponent
        var segments: [Segment] = []
        for entry in manifest.loadOrder {
            let file = (directory as NSString).appendingPathComponent(entry.name)
            guard FileManager.default.fileExists(atPath: file) else {
                throw InputError(file: path, offset: entry.offset, detail: "the manifest lists \(InputError.excerpt(entry.name.utf8)), which is missing")
            }
            segments.append(Segment(path: file, role: entry.type == .base ? .base : .incremental, format: try Self.format(of: file)))
        }
        return ("multi-part AOF \(directory) (\(segments.count) files)", segments)
    }

    /// RDB files start with "REDIS" and a four-digit version, Valkey 9's with "VALKEY".
    package static func format(of path: String) throws(InputError) -> Format {
        let head: [UInt8]
        do {
            head = try MappedFile.head(of: path, count: 9)
        } catch {
            throw InputError(file: path, offset: 0, detail: error.detail)
        }
        if head.starts(with: Array("REDIS".utf8)) || head.starts(with: Array("VALKEY".utf8)) { return .rdb }
        return .aof
    }
}
