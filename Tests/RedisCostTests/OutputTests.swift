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
#if canImport(Glibc)
import Glibc
#endif

/// Where a report goes and what it may hold: `-o` writes through the path as a shell's `>`
/// does and never over an input; text from the input is escaped; a chart stays small.
@Suite struct OutputTests {
    /// A fresh folder for one test's files (never the machine's own /dev entries).
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small capture of three calls.
    static func capture(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("capture.txt").path
        try Data("""
            1700000000.000000 [0 127.0.0.1:5000] "SADD" "s" "a" "b"
            1700000001.000000 [0 127.0.0.1:5000] "SMEMBERS" "s"
            1700000002.000000 [0 127.0.0.1:5000] "DEL" "s"

            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func fileType(_ path: String) -> mode_t {
        var s = stat()
        return lstat(path, &s) == 0 ? s.st_mode & S_IFMT : 0
    }

    @Test("-o follows a symlink and writes the file it points to; the link stays a link")
    func symlink() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = try Self.capture(in: folder)
        let target = folder.appendingPathComponent("target.md").path
        try Data("old text that is longer than nothing\n".utf8).write(to: URL(fileURLWithPath: target))
        let link = folder.appendingPathComponent("link.md").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let run = try runCLI(["analyze", capture, "--baseline", "empty", "-o", link])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.fileType(link) == S_IFLNK)
        let written = try String(contentsOfFile: target, encoding: .utf8)
        #expect(written.hasPrefix("# redis-cost report") && !written.contains("old text"))
    }

    @Test("-o writes into a FIFO that another thread reads")
    func fifo() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = try Self.capture(in: folder)
        let fifo = folder.appendingPathComponent("report.fifo").path
        #expect(mkfifo(fifo, 0o600) == 0)
        final class Received: @unchecked Sendable { var bytes: [UInt8] = [] }
        let received = Received()
        let done = DispatchSemaphore(value: 0)
        let reader = Thread {
            let fd = open(fifo, O_RDONLY)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while fd >= 0 {
                let n = read(fd, &buffer, buffer.count)
                if n <= 0 { break }
                received.bytes += buffer[0..<n]
            }
            close(fd)
            done.signal()
        }
        reader.start()
        let run = try runCLI(["analyze", capture, "--baseline", "empty", "--format", "json", "-o", fifo])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(String(decoding: received.bytes, as: UTF8.self).hasPrefix("{"))
        #expect(Self.fileType(fifo) == S_IFIFO)
    }

    @Test("-o on a character device writes to it as > does: into a null device it succeeds, into a full one it fails in one line",
          .enabled(if: getuid() == 0, "mknod needs root"))
    func characterDevices() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = try Self.capture(in: folder)
        // Linux's memory devices: 1,3 is null, 1,7 is full (every write fails with ENOSPC);
        // glibc's makedev (a macro Swift cannot see) for numbers below 256.
        func makedev(_ major: dev_t, _ minor: dev_t) -> dev_t { major << 8 | minor }
        let null = folder.appendingPathComponent("null").path, full = folder.appendingPathComponent("full").path
        try #require(mknod(null, S_IFCHR | 0o666, makedev(1, 3)) == 0, "mknod: \(String(cString: strerror(errno)))")
        try #require(mknod(full, S_IFCHR | 0o666, makedev(1, 7)) == 0, "mknod: \(String(cString: strerror(errno)))")
        let intoNull = try runCLI(["analyze", capture, "--baseline", "empty", "-o", null])
        #expect(intoNull.status == 0, "\(intoNull.stderr)")
        #expect(Self.fileType(null) == S_IFCHR)
        let intoFull = try runCLI(["analyze", capture, "--baseline", "empty", "-o", full])
        #expect(intoFull.status == 1)
        #expect(intoFull.stderr == "redis-cost: \(full): cannot write: No space left on device\n")
        #expect(Self.fileType(full) == S_IFCHR)
        // stdout is checked too.
        let stdoutFull = try runCLI(["analyze", capture, "--baseline", "empty", "-o", "-"], stdout: full)
        #expect(stdoutFull.status == 1)
        #expect(stdoutFull.stderr == "redis-cost: standard output: cannot write: No space left on device\n")
    }

    @Test("-o refuses the input itself, by any name, and leaves it whole")
    func refusesTheInput() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = try Self.capture(in: folder)
        let before = try Data(contentsOf: URL(fileURLWithPath: capture))
        let link = folder.appendingPathComponent("alias.txt").path, hardLink = folder.appendingPathComponent("same.txt").path
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: capture)
        try FileManager.default.linkItem(atPath: capture, toPath: hardLink)
        for output in [capture, link, hardLink] {
            let run = try runCLI(["analyze", capture, "--baseline", "empty", "-o", output])
            #expect(run.status == 1)
            #expect(run.stderr == "redis-cost: \(output) is the input \(capture): write the report elsewhere\n")
            let state = try runCLI(["state", capture, "--baseline", "empty", "-o", output])
            #expect(state.status == 1)
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: capture)) == before)
        // A file of a multi-part AOF is an input too.
        let aof = folder.appendingPathComponent("appendonlydir")
        try FileManager.default.createDirectory(at: aof, withIntermediateDirectories: true)
        try Data("file appendonly.aof.1.incr.aof seq 1 type i\n".utf8).write(to: aof.appendingPathComponent("appendonly.aof.manifest"))
        try Data("*1\r\n$4\r\nPING\r\n".utf8).write(to: aof.appendingPathComponent("appendonly.aof.1.incr.aof"))
        #expect(try runCLI(["analyze", aof.path]).status == 0)
        for name in ["appendonly.aof.manifest", "appendonly.aof.1.incr.aof"] {
            let run = try runCLI(["analyze", aof.path, "-o", aof.appendingPathComponent(name).path])
            #expect(run.status == 1 && run.stderr.contains("is the input"), "\(name): \(run.stderr)")
        }
        // And so is a baseline.
        let baseline = aof.appendingPathComponent("appendonly.aof.1.incr.aof").path
        let overBaseline = try runCLI(["analyze", capture, "--baseline", baseline, "-o", baseline])
        #expect(overBaseline.status == 1 && overBaseline.stderr.contains("is the input"), "\(overBaseline.stderr)")
        #expect(try Data(contentsOf: aof.appendingPathComponent("appendonly.aof.1.incr.aof")) == Data("*1\r\n$4\r\nPING\r\n".utf8))
    }

    @Test("-o - is standard output, and no file named '-' is made")
    func dashIsStdout() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let capture = try Self.capture(in: folder)
        let run = try runCLI(["analyze", capture, "--baseline", "empty", "-o", "-"], directory: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.hasPrefix("# redis-cost report"))
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("-").path))
    }

    @Test("control bytes, C1 characters and bytes that are not UTF-8 in command names, keys and clients reach no report raw")
    func controlBytesAreEscaped() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("capture.txt").path
        // A command named ESC[2J NUL EVIL, a key with ESC, C1 CSI (C2 9B) and an invalid byte, a client with an ESC.
        var bytes = Array(#"1700000000.000000 [0 127.0.0.1:5000] "\x1b[2J\x00EVIL" "k""#.utf8) + [10]
        bytes += Array(#"1700000001.000000 [0 127.0.0.1:5000"#.utf8) + [0x1B] + Array(#"] "SADD" "key\x1b[31m\xc2\x9b\xffred" "m""#.utf8) + [10]
        bytes += Array(#"1700000002.000000 [0 127.0.0.1:5000] "SMEMBERS" "key\x1b[31m\xc2\x9b\xffred""#.utf8) + [10]
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        for format in ["markdown", "json"] {
            let run = try runCLI(["analyze", path, "--baseline", "empty", "--format", format])
            #expect(run.status == 0, "\(run.stderr)")
            let out = Array(run.stdout.utf8)
            #expect(!out.contains(0x1B) && !out.contains(0) && !zip(out, out.dropFirst()).contains { $0 == 0xC2 && $1 < 0xA0 }, "\(format)")
            #expect(run.stdout.contains(#"\x1b[2J\x00EVIL"#) || run.stdout.contains(#"\\x1b[2J\\x00EVIL"#), "\(format)")
            #expect(run.stdout.contains(#"key\x1b[31m\xc2\x9b\xffred"#) || run.stdout.contains(#"key\\x1b[31m\\xc2\\x9b\\xffred"#), "\(format)")
        }
        // Errors on stderr quote paths: escaped too.
        let missing = try runCLI(["analyze", folder.appendingPathComponent("no\u{1B}[2Jsuch").path])
        #expect(missing.status == 1)
        #expect(!missing.stderr.utf8.contains(0x1B) && missing.stderr.contains(#"no\x1b[2Jsuch"#), "\(missing.stderr)")
    }

    @Test("two timestamps years apart make a chart of about 30 bars, not millions (a 110-byte AOF, a capture)")
    func farApartTimestamps() throws {
        let folder = try Self.folder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let aof = folder.appendingPathComponent("far.aof").path
        let text = "#TS:1\r\n*3\r\n$3\r\nSET\r\n$1\r\na\r\n$1\r\n1\r\n#TS:9000000000000\r\n*3\r\n$4\r\nSADD\r\n$1\r\ns\r\n$12\r\nabcdefghijkl\r\n"
        try Data(text.utf8).write(to: URL(fileURLWithPath: aof))
        #expect(text.utf8.count <= 110)
        let capture = folder.appendingPathComponent("far.txt").path
        try Data("""
            1.000000 [0 127.0.0.1:5000] "SET" "a" "1"
            999999999999.000000 [0 127.0.0.1:5000] "SADD" "s" "m"

            """.utf8).write(to: URL(fileURLWithPath: capture))
        for input in [[aof], [capture, "--baseline", "empty"]] {
            for format in ["markdown", "json"] {
                let run = try runCLI(["analyze"] + input + ["--format", format])
                #expect(run.status == 0, "\(run.stderr)")
                #expect(run.stdout.utf8.count < 20_000, "\(input) \(format): \(run.stdout.utf8.count) bytes")
            }
            let markdown = try runCLI(["analyze"] + input).stdout
            let bars = try #require(markdown.split(separator: "\n").first { $0.hasPrefix("    bar [") })
            #expect((2...32).contains(bars.split(separator: ",").count), "\(bars)")
        }
    }
}
