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

/// Seeded fuzzing, SQLite's habit: the real files under Tests/Fixtures (the runs' AOF
/// directories, snapshots and captures, the AOF fixtures, Redis's RDB test assets) and the
/// DUMP payloads of their keys, mutated, through the whole analysis in this process, where a
/// trap fails the run. Every input gives a result or an `InputError` of one line naming the
/// file and a byte offset. No case needs a timer: every reader consumes bytes as it goes, so
/// a case's time and memory follow its input.
///
/// REDIS_COST_FUZZ_ITERATIONS sets the random cases per target (the default keeps the suite
/// within a minute) and names each case on stderr before it runs, so that a trap's last line
/// is its case; REDIS_COST_FUZZ_SEED sets the seed. A failure names its target and case,
/// which the seed reproduces.
@Suite struct FuzzTests {
    static let seed = ProcessInfo.processInfo.environment["REDIS_COST_FUZZ_SEED"].flatMap { UInt64($0) } ?? 14
    static func iterations(_ ci: Int) -> Int {
        ProcessInfo.processInfo.environment["REDIS_COST_FUZZ_ITERATIONS"].flatMap { Int($0) } ?? ci
    }
    static let table = try! CommandTable.embedded()
    static let runs = ReplayTests.runs.map { runFolder($0) }
    static let assets = ["corrupt_empty_keys", "corrupt_ziplist", "encodings", "hash-ziplist", "hash-zipmap", "list-quicklist",
                         "scriptbackup", "zset-ziplist"].map { redisTestAsset("\($0).rdb") }
        + [fixturesRoot.appendingPathComponent("modules-redis-8.2.3/dump.rdb")]
    static let aofDirectories = runs.map { $0.appendingPathComponent("appendonlydir") }
        + ["aof-redis-8.2.3", "aof-valkey-9.1.2"].map { fixturesRoot.appendingPathComponent("\($0)/appendonlydir") }

    // MARK: - RDB

    @Test("snapshots, mutated: flipped bits, cuts, deleted bytes, impossible lengths")
    func snapshots() throws {
        let sources = try (Self.runs.map { $0.appendingPathComponent("dump.rdb") } + Self.assets).map { try Self.read($0) }
        let folder = try Fuzz.folder("rdb")
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SeededRandom(seed: Self.seed)
        let file = folder.appendingPathComponent("mutated.rdb")
        for round in 0..<Self.iterations(240) {
            let source = sources[round % sources.count]
            let mutations = Mutation.rdb(source, &rng)
            try Fuzz.save(Mutation.apply(mutations, to: source, zeroingChecksum: true), to: file)
            Fuzz.expectCleanOutcome("snapshot \(round % sources.count) \(mutations)", under: folder) { try Fuzz.analyze(file) }
        }
    }

    /// Read in memory, the keys going to a keyspace: each case is a fraction of a millisecond.
    @Test("Redis's RDB test assets cut at every offset and with every single bit flipped")
    func assetsExhaustively() throws {
        for asset in Self.assets {
            let source = try Self.read(asset)
            var cases: [[Mutation]] = (0..<source.count).map { [.truncate(at: $0)] }
            for offset in 0..<source.count { for bit in 0..<8 { cases.append([.flip(at: offset, mask: 1 << bit)]) } }
            for mutations in cases {
                let bytes = Mutation.apply(mutations, to: source, zeroingChecksum: true)
                Fuzz.expectCleanOutcome("\(asset.lastPathComponent) \(mutations)", file: asset.path) {
                    let keyspace = Keyspace()
                    try bytes.withUnsafeBytes { raw in
                        _ = try RDBReader.read(raw, file: asset.path) { (key) throws(InputError) -> Void in
                            _ = keyspace.createUnique(key.name, in: key.database, value: key.value)
                        }
                    }
                }
            }
        }
    }

    /// DUMP payloads of every key the snapshots and assets hold, cut at every offset of the
    /// value and mutated at random, each with its footer (a zero checksum: not checked).
    @Test("RESTORE payloads: every cut, flipped bits, impossible lengths")
    func restorePayloads() throws {
        let payloads = try (Self.runs.map { $0.appendingPathComponent("dump.rdb") } + Self.assets).flatMap { try Fuzz.dumpPayloads(of: $0) }
        #expect(payloads.count > 100)
        var rng = SeededRandom(seed: Self.seed)
        var decoded = 0
        func check(_ body: [UInt8], footer: ArraySlice<UInt8>, _ label: @autoclosure () -> String) {
            let payload = body + footer.prefix(2) + [UInt8](repeating: 0, count: 8)
            Fuzz.expectCleanOutcome(label(), file: "RESTORE payload") {
                _ = try payload.withUnsafeBytes { try RDBReader.decodePayload($0) }
                decoded += 1
            }
        }
        for (index, payload) in payloads.enumerated() {
            let body = Array(payload.dropLast(10)), footer = payload.suffix(10)
            // Every cut of the small ones, every 7th of the few large ones (lists of thousands).
            for cut in 0...body.count where body.count < 4096 || cut % 7 == 0 || cut == body.count {
                check(Array(body.prefix(cut)), footer: footer, "payload \(index) cut at \(cut)")
            }
            for _ in 0..<max(1, Self.iterations(2000) / payloads.count) {
                let mutations = Mutation.rdb(body, &rng, header: 0)
                check(Mutation.apply(mutations, to: body), footer: footer, "payload \(index) \(mutations)")
            }
        }
        #expect(decoded >= payloads.count)
        // A payload whose checksum is wrong is refused whole.
        var flipped = payloads[0]
        flipped[flipped.count - 1] ^= 1
        #expect(throws: InputError.self) { try flipped.withUnsafeBytes { _ = try RDBReader.decodePayload($0) } }
    }

    // MARK: - AOF

    /// One file of an AOF directory mutated (an RDB base as a snapshot is), with the
    /// mutations that keep every command's argument count: see `Mutation.aof`.
    @Test("AOF directories, one file mutated: flipped bits, cuts, impossible counts, lengths and timestamps")
    func aofDirectories() throws {
        let directories = try Self.aofDirectories.map { directory in
            try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted().map { ($0, try Self.read(directory.appendingPathComponent($0))) }
        }
        let folder = try Fuzz.folder("aof")
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SeededRandom(seed: Self.seed)
        for round in 0..<Self.iterations(120) {
            let files = directories[round % directories.count]
            let segments = files.indices.filter { !files[$0].0.hasSuffix(".manifest") }
            let target = segments[Int(rng.next() % UInt64(segments.count))]
            let (name, source) = files[target]
            let mutations = name.hasSuffix(".rdb") ? Mutation.rdb(source, &rng) : Mutation.aof(source, &rng)
            let directory = folder.appendingPathComponent("case-\(round)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            for (index, (file, bytes)) in files.enumerated() {
                let content = index == target ? Mutation.apply(mutations, to: bytes, zeroingChecksum: name.hasSuffix(".rdb")) : bytes
                try Fuzz.save(content, to: directory.appendingPathComponent(file))
            }
            Fuzz.expectCleanOutcome("\(Self.aofDirectories[round % directories.count].path) \(name) \(mutations)", under: folder) {
                try Fuzz.analyze(directory)
            }
            try FileManager.default.removeItem(at: directory)
        }
    }

    @Test("a small AOF and an AOF with an RDB preamble, cut at every offset")
    func aofCutsEverywhere() throws {
        let incr = try Self.read(Self.runs[0].appendingPathComponent("appendonlydir/appendonly.aof.2.incr.aof"))
        let small = Array(incr.prefix(AOFLayout(incr).commandStarts[40]))
        let folder = try Fuzz.folder("aof-cuts")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("cut.aof")
        for source in [small, try Self.read(redisTestAsset("rdb-preamble.aof"))] {
            let starts = source.starts(with: Array("REDIS".utf8)) ? nil : AOFLayout(source).commandStarts
            for cut in 0...source.count {
                try Fuzz.save(Array(source.prefix(cut)), to: file)
                Fuzz.expectCleanOutcome("cut at \(cut)", under: folder) {
                    let result = try Analyzer(table: Self.table).run(try AOFInput(path: file.path))
                    // A cut between commands leaves none incomplete; any other is reported where its command starts.
                    if let starts {
                        #expect(result.truncatedAt?.offset == (starts.contains(cut) ? nil : starts.last { $0 < cut }), "cut at \(cut)")
                    }
                }
            }
        }
    }

    // MARK: - MONITOR

    /// The first lines of each run's capture, mutated with what keeps a line's arguments
    /// (see `Mutation.monitor`), read as a capture of a server that started empty.
    @Test("captures, mutated: flipped bits, cuts, impossible timestamps and databases, unterminated lines")
    func captures() throws {
        let sources = try Self.runs.map { run in
            let lines = try Self.read(run.appendingPathComponent("monitor.txt")).split(separator: 10, omittingEmptySubsequences: false)
            return Array(lines.prefix(300).joined(separator: [10])) + [10]
        }
        let folder = try Fuzz.folder("monitor")
        defer { try? FileManager.default.removeItem(at: folder) }
        var rng = SeededRandom(seed: Self.seed)
        let file = folder.appendingPathComponent("capture.txt")
        for round in 0..<Self.iterations(240) {
            let source = sources[round % sources.count]
            let mutations = Mutation.monitor(source, &rng)
            try Fuzz.save(Mutation.apply(mutations, to: source), to: file)
            Fuzz.expectCleanOutcome("capture \(round % sources.count) \(mutations)", under: folder) { try Fuzz.analyzeCapture(file) }
        }
    }

    @Test("a capture cut at every offset: the lines before the cut, never a shorter call")
    func captureCutsEverywhere() throws {
        let lines = try Self.read(Self.runs[0].appendingPathComponent("monitor.txt")).split(separator: 10)
        let source = Array(lines.prefix(25).joined(separator: [10])) + [10]
        let folder = try Fuzz.folder("monitor-cuts")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("capture.txt")
        for cut in 0...source.count {
            try Fuzz.save(Array(source.prefix(cut)), to: file)
            let result = try Analyzer(table: Self.table).run(monitor: file.path, options: .init(startsEmpty: true))
            let whole = source.prefix(cut).filter { $0 == 10 }.count
            // Whole lines are read (the first, redis-cli's OK, is no call); a cut one is malformed.
            let endsInLine = cut > 0 && source[cut - 1] != 10
            #expect(result.malformedLines == (endsInLine ? 1 : 0), "cut at \(cut)")
            #expect(result.calls == max(0, whole - 1), "cut at \(cut)")
        }
    }

    // MARK: - the inputs testers and the fuzzer found

    @Test("an AOF's #TS: too large for a clock in microseconds is an error; the largest one is read")
    func aofTimestamps() throws {
        let set = "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n"
        try Fuzz.expectError(aof: "#TS:999999999999999999\r\n" + set, at: 4, "expected a #TS: timestamp in Unix seconds, found 999999999999999999, beyond what a clock in microseconds holds")
        let result = try Fuzz.analyze(aof: "#TS:\(latestUnixSecond)\r\n" + set)
        #expect(result.lastTime == latestUnixSecond)
    }

    @Test("33,000 annotation lines are skipped without a call each")
    func manyAnnotations() throws {
        let result = try Fuzz.analyze(aof: String(repeating: "#x\r\n", count: 33_000) + "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n")
        #expect(result.calls == 1)
    }

    @Test("SELECT, SWAPDB, MOVE and COPY with huge or negative databases: no database per index, refused as the server refuses them")
    func databaseNumbers() throws {
        func command(_ words: String...) -> String { "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined() }
        var (analyzer, result) = try Fuzz.replay(aof: command("SELECT", "999999999") + command("SET", "k", "v"))
        #expect(result.keysPerDatabase == [999_999_999: 1])
        #expect(analyzer.replayer.keyspace.memoryBytes < 4 << 20)
        (analyzer, result) = try Fuzz.replay(aof: command("SET", "k", "v") + command("SWAPDB", "0", "999999999") + command("SWAPDB", "0", "-1")
            + command("SELECT", "999999999") + command("MOVE", "k", "-1") + command("MOVE", "k", "2147483647")
            + command("COPY", "k", "c", "DB", "-1") + command("COPY", "k", "c", "DB", "2147483646") + command("SWAPDB", "2147483646", "7"))
        #expect(result.keysPerDatabase == [999_999_999: 1, 7: 1])
        #expect(analyzer.replayer.keyspace.totalKeyCount == 2)
        let set = command("SET", "k", "v")
        for bad in ["-1", "2147483647", "x", "99999999999999999999"] {
            try Fuzz.expectError(aof: set + command("SELECT", bad), at: set.utf8.count, "expected SELECT and a database number from 0 to 2147483646")
        }
        let capture = try Fuzz.analyzeCapture(text: """
            1795566245.000001 [999999999 127.0.0.1:1] "SET" "k" "v"
            1795566245.000002 [2147483647 127.0.0.1:1] "SET" "k" "v"
            1795566245.000003 [99999999999 127.0.0.1:1] "SET" "k" "v"

            """)
        #expect(capture.keysPerDatabase == [999_999_999: 1])
        #expect(capture.firstMalformed.map(\.reason) == ["database 2147483647, beyond the last a server may have (2147483646)", "expected a database number"])
    }

    @Test("capture timestamps too large for a clock in microseconds are malformed; a clock jumping back and forth does not overflow")
    func captureTimestamps() throws {
        let result = try Fuzz.analyzeCapture(text: """
            99999999999999.000001 [0 127.0.0.1:1] "SET" "k" "v"
            9223372036854.000000 [0 127.0.0.1:1] "SET" "k" "v"
            9223372036853.999999 [0 127.0.0.1:1] "GET" "k"
            0.000000 [0 127.0.0.1:1] "GET" "k"
            9223372036853.999999 [0 127.0.0.1:1] "GET" "k"
            0.000001 [0 127.0.0.1:1] "GET" "k"
            9223372036853.999999 [0 127.0.0.1:1] "GET" "k"

            """)
        #expect(result.malformedLines == 2)
        #expect(result.firstMalformed.allSatisfy { $0.reason == "a timestamp beyond what a clock in microseconds holds" })
        #expect(result.calls == 5)
        #expect(result.commands.first { $0.name == "GET" }?.observedMicroseconds == 0)
        // The chart of cost over time has buckets of a 30th of the span, not millions of months.
        let bars = AnalysisReport.markdown(result).split(separator: "\n").first { $0.hasPrefix("    bar [") }
        #expect(bars.map { $0.split(separator: ",").count } == 30)
    }

    @Test("a capture's last line cut off is malformed, not a call with fewer arguments; a line cut inside a quoted string too")
    func cutLines() throws {
        let result = try Fuzz.analyzeCapture(text: """
            OK
            1795566245.000001 [0 127.0.0.1:1] "SET" "user:1:name" "Al
            1795566245.000002 [0 127.0.0.1:1] "SET" "user:2:name" "Bo"
            1795566245.000003 [0 127.0.0.1:1] "SET" "user:98:name"
            """)
        #expect(result.calls == 1)
        #expect(result.firstMalformed.map { $0.location.split(separator: ":").last.map(String.init) } == ["2", "4"])
        #expect(result.firstMalformed.map(\.reason) == ["an unterminated argument", "the capture ends inside this line (cut off before its line end)"])
    }

    @Test("a capture line of more arguments than a call may have is malformed, and costs no argv that large")
    func hugeLines() throws {
        let line = "1795566245.000001 [0 127.0.0.1:1] \"DEL\"" + String(repeating: " \"\"", count: MonitorReader.maxArguments)
        let result = try Fuzz.analyzeCapture(text: line + "\n1795566245.000002 [0 127.0.0.1:1] \"DEL\" \"k\"\n")
        #expect(result.calls == 1)
        #expect(result.firstMalformed.map(\.reason) == ["more than \(MonitorReader.maxArguments) arguments"])
    }

    @Test("a file that is no AOF, RDB file or capture says how it starts")
    func unrecognisedFiles() throws {
        try Fuzz.expectError(aof: "hello world, this is not\r\nanything", at: 0,
                             "not an AOF, RDB file or MONITOR capture: it starts with \"hello world, this is not\" (an AOF starts with '*', an RDB file with \"REDIS\" or \"VALKEY\", a capture with \"<seconds>.<microseconds> [\")")
        var damaged = try Self.read(Self.assets[2])
        damaged[1] = UInt8(ascii: "X")
        let folder = try Fuzz.folder("magic")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("damaged.rdb")
        try Data(damaged).write(to: file)
        #expect(InputKind.detect(file.path) == .aofOrRDB)
        let error = #expect(throws: InputError.self) { try Fuzz.analyze(file) }
        #expect(error?.detail.hasPrefix("not an AOF, RDB file or MONITOR capture: it starts with \"RXDIS0004") == true)
    }

    @Test("RDB: a database number no server has, an LZF string claiming far more than its bytes can hold")
    func rdbImpossibleNumbers() throws {
        let folder = try Fuzz.folder("rdb-numbers")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("x.rdb")
        // SELECTDB with a 64-bit length of 2^31 - 1.
        try Data(Array("REDIS0011".utf8) + [0xFE, 0x81, 0, 0, 0, 0, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF] + [UInt8](repeating: 0, count: 8)).write(to: file)
        #expect(throws: InputError(file: file.path, offset: 9, detail: "database 2147483647, beyond the last a server may have (2147483646)")) { try Fuzz.analyze(file) }
        // A string value "k" = LZF of 2 bytes said to be 512 MiB.
        try Data(Array("REDIS0011".utf8) + [0x00, 0x01, UInt8(ascii: "k"), 0xC3, 0x02, 0x80, 0x20, 0, 0, 0, 0x00, 0x61, 0xFF] + [UInt8](repeating: 0, count: 8)).write(to: file)
        #expect(throws: InputError(file: file.path, offset: 12, detail: "corrupt LZF data in a string value")) { try Fuzz.analyze(file) }
    }

    @Test("the rules that look past a command's first argument on SCAN, SORT, SET and GETEX alone")
    func rulesOnCallsWithoutArguments() throws {
        let result = try Fuzz.analyzeCapture(text: """
            1795566245.000001 [0 127.0.0.1:1] "SUBSCRIBE" "__keyevent@0__:expired"
            1795566245.000002 [0 127.0.0.1:1] "SCAN"
            1795566245.000003 [0 127.0.0.1:1] "SORT"
            1795566245.000004 [0 127.0.0.1:1] "GETEX"

            """)
        // A server refuses them for their arity: malformed calls, counted, never handed to a rule.
        #expect(result.calls == 1)
        #expect(result.malformedLines == 3)
    }

    @Test("a snapshot holding a key twice names the second and a 200-byte excerpt of the name")
    func duplicateKeys() throws {
        let name = [UInt8](repeating: UInt8(ascii: "k"), count: 300)
        let entry: [UInt8] = [0x00, 0x41, 0x2C] + name + [0x01, UInt8(ascii: "v")]
        let folder = try Fuzz.folder("duplicate")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("x.rdb")
        try Fuzz.save(Array("REDIS0011".utf8) + entry + entry + [0xFF] + [UInt8](repeating: 0, count: 8), to: file)
        let detail = "duplicate key \"\(String(repeating: "k", count: 200))…\" in database 0"
        #expect(throws: InputError(file: file.path, offset: 9 + entry.count, detail: detail)) { try Fuzz.analyze(file) }
    }

    static func read(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }
}

/// The fuzz targets' shared steps: running an input through the analysis, and judging how it ended.
enum Fuzz {
    static let tracing = ProcessInfo.processInfo.environment["REDIS_COST_FUZZ_ITERATIONS"] != nil

    /// Writes without Foundation's Data.write, which takes milliseconds a file here.
    static func save(_ bytes: [UInt8], to url: URL) throws {
        let fd = open(url.path, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(fd) }
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + done, bytes.count - done) }
            guard n > 0 else { throw CocoaError(.fileWriteUnknown) }
            done += n
        }
    }

    static func folder(_ name: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-fuzz-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// An AOF directory, an AOF or an RDB file through the analysis, its findings and both reports.
    @discardableResult
    static func analyze(_ url: URL) throws -> AnalysisResult {
        let analyzer = Analyzer(table: FuzzTests.table)
        analyzer.findingsEngine = FindingsEngine(table: FuzzTests.table)
        let result = try analyzer.run(try AOFInput(path: url.path))
        _ = AnalysisReport.markdown(result)
        _ = AnalysisReport.json(result)
        return result
    }

    @discardableResult
    static func analyzeCapture(_ url: URL) throws -> AnalysisResult {
        let analyzer = Analyzer(table: FuzzTests.table)
        analyzer.findingsEngine = FindingsEngine(table: FuzzTests.table)
        let result = try analyzer.run(monitor: url.path, options: .init(startsEmpty: true))
        _ = AnalysisReport.markdown(result)
        _ = AnalysisReport.json(result)
        return result
    }

    static func analyzeCapture(text: String) throws -> AnalysisResult {
        let folder = try folder("capture")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("capture.txt")
        try Data(text.utf8).write(to: file)
        return try analyzeCapture(file)
    }

    static func replay(aof text: String) throws -> (Analyzer, AnalysisResult) {
        let folder = try folder("aof")
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("x.aof")
        try Data(text.utf8).write(to: file)
        let analyzer = Analyzer(table: FuzzTests.table)
        return (analyzer, try analyzer.run(try AOFInput(path: file.path)))
    }

    static func analyze(aof text: String) throws -> AnalysisResult { try replay(aof: text).1 }

    static func expectError(aof text: String, at offset: Int, _ detail: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let error = #expect(throws: InputError.self, sourceLocation: sourceLocation) { try replay(aof: text) }
        #expect(error?.offset == offset, sourceLocation: sourceLocation)
        #expect(error?.detail == detail, sourceLocation: sourceLocation)
    }

    /// The outcome every input must have: `body` returns, or throws an InputError of one line
    /// that names a file (under `folder`, or exactly `file`) and an offset within reason.
    static func expectCleanOutcome(_ label: @autoclosure () -> String, under folder: URL? = nil, file: String? = nil, _ body: () throws -> Void) {
        // A long run names each case before it runs: a trap ends the process, and its last line is the case.
        if tracing { FileHandle.standardError.write(Data((label() + "\n").utf8)) }
        do {
            try body()
        } catch let error as InputError {
            let named = file.map { error.file == $0 } ?? folder.map { error.file.hasPrefix($0.path) } ?? true
            #expect(named, "\(label()): \(error)")
            #expect(error.offset >= 0 && !error.description.contains("\n") && error.description.utf8.count < 1024, "\(label()): \(error)")
        } catch {
            Issue.record("\(label()): \(error)")
        }
    }

    /// The DUMP payload of every key of a snapshot whose name the file stores plainly: the
    /// value's type byte and bytes as the file holds them, then the RDB version and a CRC-64,
    /// as DUMP makes them (cluster.c, createDumpPayload).
    static func dumpPayloads(of url: URL) throws -> [[UInt8]] {
        let bytes = try FuzzTests.read(url)
        let digits = bytes.starts(with: Array("VALKEY".utf8)) ? bytes[6..<9] : bytes[5..<9]
        let version = UInt16(String(decoding: digits, as: UTF8.self))!
        var payloads: [[UInt8]] = []
        // The keys before a damage the file holds (corrupt_ziplist.rdb) still make payloads.
        try? bytes.withUnsafeBytes { raw in
            _ = try RDBReader.read(raw, file: url.path) { (key) throws(InputError) -> Void in
                guard let base = raw.baseAddress, let name = key.name.baseAddress, name >= base, name < base + raw.count else { return }
                // The name's length takes the fewest bytes rdbSaveLen needs; the type byte is before it.
                let n = key.name.count
                let start = name - base
                let type = start - (n < 1 << 6 ? 1 : n < 1 << 14 ? 2 : 5) - 1
                var payload = [raw[type]] + Array(raw[(start + n)..<(start + n + key.serializedBytes)]) + [UInt8(version & 0xFF), UInt8(version >> 8)]
                let crc = payload.withUnsafeBytes { CRC64.checksum($0) }
                payload += withUnsafeBytes(of: crc.littleEndian) { Array($0) }
                payloads.append(payload)
            }
        }
        return payloads
    }
}

/// One change to a file's bytes, at an offset of the original file; its description
/// reproduces it.
enum Mutation: CustomStringConvertible {
    case flip(at: Int, mask: UInt8)
    case truncate(at: Int)
    case insert(at: Int, [UInt8])
    case replace(Range<Int>, [UInt8])

    var offset: Int {
        switch self {
        case .flip(let at, _), .truncate(let at), .insert(let at, _): at
        case .replace(let range, _): range.lowerBound
        }
    }

    var description: String {
        func shown(_ bytes: [UInt8]) -> String { KeyText.display(Array(bytes.prefix(40))) + (bytes.count > 40 ? "…(\(bytes.count) bytes)" : "") }
        switch self {
        case .flip(let at, let mask): return "flip(\(at), 0x\(String(mask, radix: 16)))"
        case .truncate(let at): return "truncate(\(at))"
        case .insert(let at, let bytes): return "insert(\(at), \"\(shown(bytes))\")"
        case .replace(let range, let bytes): return "replace(\(range), \"\(shown(bytes))\")"
        }
    }

    /// Applies the mutations from the last offset to the first, so each offset is still the
    /// original file's; an RDB file's checksum can be zeroed (not checked), so that the
    /// decoders, not the checksum, meet the damage.
    static func apply(_ mutations: [Mutation], to source: [UInt8], zeroingChecksum: Bool = false) -> [UInt8] {
        var bytes = source
        if zeroingChecksum, bytes.count >= 17, hasChecksum(bytes) {
            for k in 1...8 { bytes[bytes.count - k] = 0 }
        }
        for mutation in mutations.sorted(by: { $0.offset > $1.offset }) {
            switch mutation {
            case .flip(let at, let mask): if at < bytes.count { bytes[at] ^= mask }
            case .truncate(let at): bytes.removeSubrange(min(at, bytes.count)...)
            case .insert(let at, let new): bytes.insert(contentsOf: new, at: min(at, bytes.count))
            case .replace(let range, let new): bytes.replaceSubrange(range.clamped(to: 0..<bytes.count), with: new)
            }
        }
        return bytes
    }

    /// RDB files of version 5 and later end with a CRC-64 of what comes before.
    static func hasChecksum(_ bytes: [UInt8]) -> Bool {
        if bytes.starts(with: Array("VALKEY".utf8)) { return true }
        guard bytes.starts(with: Array("REDIS".utf8)), let version = Int(String(decoding: bytes[5..<9], as: UTF8.self)) else { return false }
        return version >= 5
    }

    /// Lengths no value has: the 32-bit and 64-bit length encodings with every bit set, a
    /// 64-bit one of 2^63 - 1, and an LZF string of 2 bytes said to be 512 MiB.
    static let impossibleLengths: [[UInt8]] = [[0x80] + [UInt8](repeating: 0xFF, count: 8), [0x81] + [UInt8](repeating: 0xFF, count: 8),
                                               [0x81, 0x7F] + [UInt8](repeating: 0xFF, count: 7), [0x80, 0xFF, 0xFF, 0xFF, 0xFF],
                                               [0xC3, 0x02, 0x80, 0x20, 0, 0, 0, 0, 0x61]]

    /// An RDB file's or a payload's mutations: 1 to 3 of flipped bits, a cut, deleted bytes,
    /// an impossible length inserted or written over; after the header (`header` bytes).
    static func rdb(_ source: [UInt8], _ rng: inout SeededRandom, header: Int = 9) -> [Mutation] {
        let span = max(source.count - header, 1)
        return (0..<(1 + Int(rng.next() % 3))).map { _ in
            let at = header + Int(rng.next() % UInt64(span))
            switch rng.next() % 5 {
            case 0, 1: return .flip(at: at, mask: UInt8(truncatingIfNeeded: rng.next() | 1))
            case 2: return .truncate(at: at)
            case 3: return .replace(at..<(at + 1 + Int(rng.next() % 32)), [])
            default:
                let length = impossibleLengths[Int(rng.next() % UInt64(impossibleLengths.count))]
                return rng.next() % 2 == 0 ? .insert(at: at, length) : .replace(at..<(at + length.count), length)
            }
        }
    }

    /// Lines an AOF may not hold, inserted where a command starts.
    static let hostileAOFLines = ["*-5\r\n", "*0\r\n", "*9223372036854775807\r\n", "*999999999999999999\r\n$3\r\nSET\r\n",
                                  "$9223372036854775807\r\n", "#TS:999999999999999999\r\n", "#TS:9223372036854\r\n", "#TS:-1\r\n",
                                  "#TS:\r\n", "#" + String(repeating: "x", count: 5000) + "\r\n", "+OK\r\n", "\r\n"].map { Array($0.utf8) }
    /// Bulk headers no argument has, written over one.
    static let hostileBulkHeaders = ["$9223372036854775807\r\n", "$-1\r\n", "$999999999999999999\r\n", "$18446744073709551616\r\n", "$1e400\r\n"]
        .map { Array($0.utf8) }

    /// An AOF's mutations, which keep every command's argument count (a command with fewer
    /// arguments than it needs is a replay matter, fuzzed apart): bits flipped anywhere but in
    /// `*N` lines, a cut, a hostile line inserted where a command starts, a bulk header
    /// written over with an impossible one.
    static func aof(_ source: [UInt8], _ rng: inout SeededRandom) -> [Mutation] {
        let layout = AOFLayout(source)
        return (0..<(1 + Int(rng.next() % 3))).map { _ in
            switch rng.next() % 5 {
            case 0, 1:
                var at = Int(rng.next() % UInt64(source.count))
                while layout.inCountLine[at] { at = (at + 1) % source.count }
                return .flip(at: at, mask: 1 << (rng.next() % 8))
            case 2: return .truncate(at: Int(rng.next() % UInt64(source.count)))
            case 3:
                let at = layout.commandStarts[Int(rng.next() % UInt64(layout.commandStarts.count))]
                return .insert(at: at, hostileAOFLines[Int(rng.next() % UInt64(hostileAOFLines.count))])
            default:
                let line = layout.bulkLines[Int(rng.next() % UInt64(layout.bulkLines.count))]
                return .replace(line, hostileBulkHeaders[Int(rng.next() % UInt64(hostileBulkHeaders.count))])
            }
        }
    }

    /// Lines a capture may not hold, inserted where a line starts.
    static let hostileCaptureLines = [
        "99999999999999.000001 [0 127.0.0.1:1] \"GET\" \"k\"", "9223372036853.999999 [0 127.0.0.1:1] \"GET\" \"k\"",
        "0.000000 [0 127.0.0.1:1] \"GET\" \"k\"", "1796194785.000000 [999999999 127.0.0.1:1] \"SET\" \"k\" \"v\"",
        "1796194785.000000 [2147483647 127.0.0.1:1] \"GET\" \"k\"", "1796194785.000000 [-1 127.0.0.1:1] \"GET\" \"k\"",
        "1796194785.000000 [0 127.0.0.1:1] \"SET\" \"k\" \"unterminated", "1796194785.000000 [0 127.0.0.1:1] \"GET\" \"k\\x\"",
        "1796194785.000000 [0 127.0.0.1:1]", "1796194785.000000 [0 127.0.0.1:1] \"\"", "garbage", "+OK",
    ].map { Array(($0 + "\n").utf8) }

    /// A capture's mutations, which keep every line's arguments (a flipped quote or space
    /// makes a line malformed, never one with an argument fewer): bits flipped anywhere, a cut,
    /// a hostile line inserted where a line starts.
    static func monitor(_ source: [UInt8], _ rng: inout SeededRandom) -> [Mutation] {
        let lineStarts = [0] + source.indices.filter { source[$0] == 10 }.map { $0 + 1 }
        return (0..<(1 + Int(rng.next() % 3))).map { _ in
            switch rng.next() % 4 {
            case 0, 1: return .flip(at: Int(rng.next() % UInt64(source.count)), mask: 1 << (rng.next() % 8))
            case 2: return .truncate(at: Int(rng.next() % UInt64(source.count)))
            default:
                let at = lineStarts[Int(rng.next() % UInt64(lineStarts.count))]
                return .insert(at: at, hostileCaptureLines[Int(rng.next() % UInt64(hostileCaptureLines.count))])
            }
        }
    }
}

/// Where a valid AOF's commands start and where its `*N` and `$N` lines are, read apart
/// from the reader under test.
struct AOFLayout {
    var commandStarts: [Int] = []
    var bulkLines: [Range<Int>] = []
    var inCountLine: [Bool]

    init(_ b: [UInt8]) {
        inCountLine = [Bool](repeating: false, count: b.count)
        func lineEnd(_ from: Int) -> Int {
            var j = from
            while !(b[j] == 13 && b[j + 1] == 10) { j += 1 }
            return j + 2
        }
        func number(_ line: Range<Int>) -> Int { Int(String(decoding: b[(line.lowerBound + 1)..<(line.upperBound - 2)], as: UTF8.self))! }
        var i = 0
        while i < b.count {
            commandStarts.append(i)
            let end = lineEnd(i)
            if b[i] == UInt8(ascii: "#") { i = end; continue }
            for k in i..<end { inCountLine[k] = true }
            let argc = number(i..<end)
            i = end
            for _ in 0..<argc {
                let header = i..<lineEnd(i)
                bulkLines.append(header)
                i = header.upperBound + number(header) + 2
            }
        }
        commandStarts.append(b.count)
    }
}

/// A small deterministic generator (SplitMix64): a seed reproduces every case.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
