import Foundation
import Testing
@testable import RedisCost
#if canImport(Glibc)
import Glibc
#endif

/// What a report may hold: text from the input is escaped.
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
}
