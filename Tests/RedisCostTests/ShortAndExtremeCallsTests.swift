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

/// Every command of the table, with too few arguments and with extreme numbers in every
/// argument, through the whole analysis (cost, findings, replay): a report, never a trap.
/// A call the server would refuse for its arity is counted as malformed, not costed.
@Suite struct ShortAndExtremeCallsTests {
    static let values = ["k", "0", "-1", "1", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
                         "1e400", "-inf", "nan", "(1", "LIMIT", "COUNT", "FIELDS", "STORE", "$", ">", "+", "-"]

    /// A capture line: `<time> [0 127.0.0.1:1] "a" "b"`.
    static func line(_ n: Int, _ argv: [String]) -> String {
        "1700000000.\(String(format: "%06d", n % 1_000_000)) [0 127.0.0.1:\(1000 + n % 50)] " + argv.map { "\"\($0)\"" }.joined(separator: " ")
    }

    static func calls(_ table: CommandTable) -> [[String]] {
        var out: [[String]] = []
        for entry in table.entries {
            let name = entry.name.split(separator: " ").map(String.init)
            let arity = entry.arity ?? -2
            let needed = abs(arity) - name.count
            for count in 0...max(0, needed + 3) {
                // The first argument is a key name; the others take every value in turn.
                for v in values.indices { out.append(name + (0..<count).map { $0 == 0 ? "k" : values[($0 + v) % values.count] }) }
            }
        }
        return out
    }

    @Test("every command with too few arguments and extreme numbers: a report, the cut calls counted")
    func everyCommandSurvives() throws {
        let table = try CommandTable.embedded()
        let all = Self.calls(table)
        var text = "OK\n"
        for (n, argv) in all.enumerated() { text += Self.line(n, argv) + "\n" }
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("extreme-\(UUID().uuidString).txt").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        for startsEmpty in [true, false] {
            let analyzer = Analyzer(table: table)
            analyzer.findingsEngine = FindingsEngine(table: table)
            let result = try analyzer.run(monitor: path, options: .init(startsEmpty: startsEmpty))
            // Every line is a call or a counted malformed one; none vanished.
            #expect(result.calls + result.malformedLines + result.unknownCommands.values.reduce(0, +) >= all.count - 1)
            #expect(result.malformedLines > 0)
            _ = AnalysisReport.markdown(result)
        }
        // The same calls as an AOF (RESP), through the AOF driver.
        var aof = [UInt8]()
        // SELECT is the AOF's own framing: a damaged one is an input error at its offset.
        for argv in all where argv[0] != "SELECT" {
            aof += Array("*\(argv.count)\r\n".utf8)
            for a in argv { aof += Array("$\(a.utf8.count)\r\n\(a)\r\n".utf8) }
        }
        let aofPath = FileManager.default.temporaryDirectory.appendingPathComponent("extreme-\(UUID().uuidString).aof").path
        try Data(aof).write(to: URL(fileURLWithPath: aofPath))
        defer { try? FileManager.default.removeItem(atPath: aofPath) }
        let analyzer = Analyzer(table: table)
        analyzer.findingsEngine = FindingsEngine(table: table)
        let result = try analyzer.run(try AOFInput(path: aofPath))
        #expect(result.malformedLines > 0)
        _ = AnalysisReport.markdown(result)
    }

    @Test("a cut SET is one malformed call naming where it is; the rest is analysed")
    func cutCallIsCounted() throws {
        let text = "OK\n" + Self.line(1, ["SET", "user:1:name", "v"]) + "\n" + Self.line(2, ["SET", "user:98:name"]) + "\n"
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("cut-\(UUID().uuidString).txt").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let result = try Analyzer(table: try CommandTable.embedded()).run(monitor: path, options: .init(startsEmpty: true))
        #expect(result.calls == 1)
        #expect(result.malformedLines == 1)
        #expect(result.firstMalformed.first?.location.hasSuffix(":3") == true)
        #expect(result.firstMalformed.first?.reason == "SET with 1 arguments (the server takes at least 2)")
    }

    @Test("a score reads as Double(text) reads it, whole numbers by the fast way included")
    func scoresReadAsDoubleReadsThem() {
        let texts = ["0", "00", "-0", "-00", "7", "-7", "007", "123456789012345", "-123456789012345",
                     "1234567890123456", "9999999999999999999", "-", "", "+5", "1.5", "-1.5e3", "1e400",
                     "inf", "-INF", "+inf", "nan", " 1", "1 ", "0x10", "12a"]
        for text in texts {
            let read = Array(text.utf8).withUnsafeBytes { doubleValue($0) }
            let expected: Double? = switch text.lowercased() {
            case "inf", "+inf": .infinity
            case "-inf": -.infinity
            default: Double(text)
            }
            #expect(read?.bitPattern == expected?.bitPattern || (read?.isNaN == true && expected?.isNaN == true), "\(text)")
        }
    }

    @Test("an integer's text length is counted as its text is written, at the ends of Int64 too")
    func decimalLengthIsTheTextsLength() {
        var values: [Int64] = [0, 1, -1, 9, 10, -9, -10, 99, 100, .max, .min, .max - 1, .min + 1]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, -(power - 1), -power]
        }
        var rng = SeededRandom(seed: 11)
        for _ in 0..<10_000 { values.append(Int64(bitPattern: rng.next()) >> Int64(rng.next() % 64)) }
        let wrong = values.filter { decimalLength($0) != String($0).utf8.count }
        #expect(wrong.isEmpty, "\(wrong.prefix(5))")
    }
}
