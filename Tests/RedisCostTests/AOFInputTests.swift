import Foundation
import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// Reading AOF files: manifests, truncated tails, malformed and mutated bytes.
@Suite struct AOFInputTests {
    let sample = packageRoot.appendingPathComponent("Data/samples/aof-redis-7.0.15/appendonlydir")
    var incr: URL { sample.appendingPathComponent("appendonly.aof.2.incr.aof") }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-aof-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// (offset, end) of every command and annotation, read by the reader itself.
    func commandSpans(_ data: Data) throws -> [(start: Int, end: Int)] {
        try data.withUnsafeBytes { raw in
            var reader = AOFCommandReader(bytes: raw, file: "x")
            var argv = Argv()
            var spans: [(Int, Int)] = []
            var start = 0
            while true {
                switch try reader.next(into: &argv) {
                case .end, .truncated: return spans
                case .command, .timestamp: spans.append((start, reader.position))
                }
                start = reader.position
            }
        }
    }

    @Test func manifestsListBaseThenIncrFilesAndIgnoreHistory() throws {
        let text = """
            file appendonly.aof.1.base.rdb seq 1 type h
            file "appendonly aof.2.base.aof" seq 2 type b
            file appendonly.aof.3.incr.aof seq 3 type i startoffset 0 endoffset 1104
            file appendonly.aof.2.incr.aof seq 2 type i

            """
        let manifest = try AOFManifest(text: text, path: "m")
        #expect(manifest.loadOrder.map(\.name) == ["appendonly aof.2.base.aof", "appendonly.aof.2.incr.aof", "appendonly.aof.3.incr.aof"])
        #expect(throws: InputError(file: "m", offset: 0, detail: "expected \"file NAME seq N type b|h|i\", found \"file x seq one type i\"")) {
            _ = try AOFManifest(text: "file x seq one type i\n", path: "m")
        }
        #expect(throws: InputError.self) { _ = try AOFManifest(text: "file ../../etc/passwd seq 1 type b\n", path: "m") }
    }

    @Test func inputsAreDetectedFromThePath() throws {
        #expect(try AOFInput(path: sample.path).segments.map(\.role) == [.base, .incremental])
        #expect(try AOFInput(path: sample.appendingPathComponent("appendonly.aof.manifest").path).segments.count == 2)
        #expect(try AOFInput(path: incr.path).segments.map(\.role) == [.incremental])
        let rdb = redisTestAsset("encodings.rdb").path
        #expect(try AOFInput(path: rdb).segments.map(\.format) == [.rdb])
        #expect(try AOFInput(path: redisTestAsset("rdb-preamble.aof").path).segments.map(\.format) == [.rdb])
        #expect(throws: InputError(file: "/nonexistent", offset: 0, detail: "no such file or directory")) { _ = try AOFInput(path: "/nonexistent") }
        #expect(throws: InputError.self) { _ = try AOFInput(path: packageRoot.appendingPathComponent("Sources").path) }
    }

    @Test("a truncated tail is reported at the incomplete command and the rest is analyzed")
    func truncatedTails() throws {
        let data = try Data(contentsOf: incr)
        let spans = try commandSpans(data)
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        var random = SeededRandom(seed: FuzzTests.seed)
        var cuts = [1, data.count - 1, spans[10].start + 1, spans[10].end - 2, spans[200].start + 3]
        for _ in 0..<30 { cuts.append(1 + Int(random.next() % UInt64(data.count - 1))) }
        for cut in cuts {
            let file = folder.appendingPathComponent("cut.aof")
            try data.prefix(cut).write(to: file)
            let analyzer = Analyzer(table: try CommandTable.embedded())
            let result = try analyzer.run(try AOFInput(path: file.path))
            let complete = spans.filter { $0.end <= cut }
            if complete.last?.end == cut {
                #expect(result.truncatedAt == nil, "cut at \(cut) is a command boundary")
            } else {
                let incomplete = spans.first { $0.end > cut }!
                #expect(result.truncatedAt?.offset == incomplete.start, "cut at \(cut)")
                #expect(result.truncatedAt?.file == file.path)
            }
        }
        // The CLI says so on stderr and still writes the report.
        let file = folder.appendingPathComponent("cut.aof")
        try data.prefix(spans[300].start + 5).write(to: file)
        let cli = try runCLI(["analyze", file.path])
        #expect(cli.status == 0)
        #expect(cli.stderr == "redis-cost: \(file.path): truncated at byte \(spans[300].start) (an incomplete command); the complete part was analyzed\n")
        #expect(cli.stdout.contains("**Truncated:** `cut.aof` ends with an incomplete command at byte \(spans[300].start)"))
    }

    @Test func malformedBytesAreOneLineNamingFileAndOffset() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cases: [(String, String)] = [
            ("*2\r\n$3\r\nDEL\r\n$1\r\nk\r\n+OK\r\n", "at byte 20: expected '*' (a RESP array) or '#' (an annotation), found byte 0x2b"),
            ("*2\r\n$3\r\nDEL\r\n:1\r\n", "at byte 13: expected '$' (a bulk string), found byte 0x3a"),
            ("*1\r\n$3\r\nDELX\r\n", "at byte 11: expected CRLF after a bulk string of 3 bytes"),
            ("*x\r\n", "at byte 1: expected an argument count, found byte 0x78"),
            ("*0\r\n", "at byte 0: a command needs at least one argument"),
            ("*1\r\n$99999999999999999999\r\n", "at byte 5: expected a bulk length"),
        ]
        for (text, message) in cases {
            let file = folder.appendingPathComponent("bad.aof")
            try Data(text.utf8).write(to: file)
            let cli = try runCLI(["analyze", file.path])
            #expect(cli.status == 1)
            #expect(cli.stderr == "redis-cost: \(file.path): \(message)\n")
        }
    }

    @Test("a FIFO, named or listed in a manifest, is a one-line error, never an open that waits for a writer")
    func onlyRegularFilesAreRead() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let fifo = folder.appendingPathComponent("appendonly.aof.1.incr.aof")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(InputKind.detect(fifo.path) == .aofOrRDB)
        #expect(throws: InputError(file: fifo.path, offset: 0, detail: "a FIFO, not a regular file")) { _ = try AOFInput(path: fifo.path) }
        try Data("file appendonly.aof.1.incr.aof seq 1 type i\n".utf8).write(to: folder.appendingPathComponent("appendonly.aof.manifest"))
        #expect(throws: InputError(file: fifo.path, offset: 0, detail: "a FIFO, not a regular file")) { _ = try AOFInput(path: folder.path) }
        #expect(throws: InputError(file: "/dev/zero", offset: 0, detail: "a character device, not a regular file")) { _ = try AOFInput(path: "/dev/zero") }
    }

    @Test("a manifest listing a file twice, a manifest line longer than Redis reads, a long missing name: one short line each")
    func hostileManifests() throws {
        let folder = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        try Data("*1\r\n$4\r\nPING\r\n".utf8).write(to: folder.appendingPathComponent("a.aof"))
        let manifest = folder.appendingPathComponent("appendonly.aof.manifest")
        try Data("file a.aof seq 1 type i\nfile a.aof seq 1 type i\nfile a.aof seq 1 type i\n".utf8).write(to: manifest)
        #expect(throws: InputError(file: manifest.path, offset: 24, detail: "line 2 lists a.aof again (line 1 did): a manifest names each file once")) {
            _ = try AOFInput(path: folder.path)
        }
        try Data(("file " + String(repeating: "x", count: 50 << 20) + " seq 1 type i\n").utf8).write(to: manifest)
        #expect(throws: InputError(file: manifest.path, offset: 0, detail: "line 1 is longer than the 1024 bytes Redis reads of a manifest line")) {
            _ = try AOFInput(path: folder.path)
        }
        let name = String(repeating: "n", count: 1000)
        try Data("file \(name) seq 1 type i\n".utf8).write(to: manifest)
        #expect(throws: InputError(file: manifest.path, offset: 0, detail: "the manifest lists \(name.prefix(200))…, which is missing")) {
            _ = try AOFInput(path: folder.path)
        }
    }
}
