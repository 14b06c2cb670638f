import Foundation
import Testing
@testable import RedisCost
#if canImport(Glibc)
import Glibc
#endif

/// What a report may hold: text from the input is escaped; a chart stays small.
@Suite struct OutputTests {
    /// A fresh folder for one test's files (never the machine's own /dev entries).
    static func folder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-output-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
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
            9000000000000.000000 [0 127.0.0.1:5000] "SADD" "s" "m"

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
