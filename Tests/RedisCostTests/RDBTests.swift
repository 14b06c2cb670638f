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

/// The RDB reader against files real servers wrote and Redis's own test assets.
@Suite struct RDBTests {
    static let snapshots = ReplayTests.runs.map { "\($0)/dump.rdb" }
    static let assets = ["encodings", "hash-ziplist", "hash-zipmap", "list-quicklist", "scriptbackup", "zset-ziplist",
                         "corrupt_empty_keys"]

    @Test("a snapshot loads to exactly what the server held", arguments: snapshots)
    func snapshotLoadsExactly(path: String) throws {
        let (state, approximate, result) = try replayState(fixturesRoot.appendingPathComponent("runs/\(path)").path)
        let truth = try loadTruth(fixturesRoot.appendingPathComponent("runs/\(path)").deletingLastPathComponent().appendingPathComponent("final-state.json"))
        #expect(differences(state, truth) == [:])
        #expect(approximate == [])
        #expect(result.snapshots.first?.checksumVerified == true)
    }

    @Test("Redis's test assets (RDB versions 3 to 10, zipmap, ziplist, intset, quicklist) load as Redis 7 loads them", arguments: assets)
    func testAssetLoadsLikeRedis(name: String) throws {
        let (state, _, _) = try replayState(redisTestAsset("\(name).rdb").path)
        let truth = try loadTruth(redisTestAsset("\(name).truth.json"))
        #expect(differences(state, truth) == [:])
    }

    @Test func aCorruptZiplistIsOneLineWithItsOffset() throws {
        let path = redisTestAsset("corrupt_ziplist.rdb").path
        let cli = try runCLI(["analyze", path])
        #expect(cli.status == 1)
        #expect(cli.stderr == "redis-cost: \(path): at byte 488: corrupt ziplist: shorter than its header\n")
    }

    @Test func anAOFWithAnRDBPreambleIsSnapshotThenWorkload() throws {
        let path = redisTestAsset("rdb-preamble.aof").path
        let (state, _, result) = try replayState(path)
        #expect(state["0"]?.count == 3)
        #expect(result.snapshots.first?.keys == 2)
        #expect(result.calls == 1)
        #expect(result.commands.map(\.name) == ["SET"])
    }

    @Test func checksumsAreVerified() throws {
        #expect(Array("123456789".utf8).withUnsafeBytes { CRC64.checksum($0) } == 0xE9C6_D914_C4B8_D9CA)
        var bytes = [UInt8](try Data(contentsOf: runFolder("redis-7.0.15").appendingPathComponent("dump.rdb")))
        bytes[bytes.count - 20] ^= 0x01
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("flipped-\(UUID().uuidString).rdb")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(bytes).write(to: file)
        let cli = try runCLI(["state", file.path])
        #expect(cli.status == 1)
        #expect(cli.stderr.hasPrefix("redis-cost: \(file.path): at byte"))
    }

    @Test("RESTORE payloads from DUMP on a real server decode to the server's sizes", arguments: TestServer.Kind.allCases)
    func dumpPayloadsDecode(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let c = try server.connect()
        let table = try CommandTable.embedded()
        var setup: [[String]] = [
            ["SADD", "ints", "1", "2", "300000"], ["SADD", "words", "a", "b", "c"], ["SADD", "big"] + (0..<600).map { "m\($0)" },
            ["HSET", "h", "f1", "v", "f2", "v"], ["HSET", "bighash"] + (0..<600).flatMap { ["f\($0)", String(repeating: "x", count: 80)] },
            ["ZADD", "z", "1", "a", "2.5", "b"], ["ZADD", "bigz"] + (0..<300).flatMap { [String($0), "m\($0)"] },
            ["RPUSH", "l", "1", "two", "3"], ["RPUSH", "bigl"] + (0..<3000).map { "element-\($0)" },
            ["SET", "s", String(repeating: "compressible ", count: 100)], ["SET", "n", "12345"],
        ]
        setup += (0..<20).map { ["XADD", "st", "*", "k", String($0)] }
        setup.append(["XDEL", "st", "0-1"])
        // Consumer groups with pending entries and consumers are part of a stream's payload.
        setup += [["XGROUP", "CREATE", "st", "g1", "0"], ["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "5", "STREAMS", "st", ">"],
                  ["XGROUP", "CREATE", "st", "g2", "$"]]
        var keys = ["ints", "words", "big", "h", "bighash", "z", "bigz", "l", "bigl", "s", "n", "st"]
        if kind != .redis7 {
            // Hash field TTLs: a small hash (listpack with TTLs) and a large one (with metadata).
            setup += [["HSET", "ttlsmall", "a", "1", "b", "2", "c", "3"], ["HEXPIRE", "ttlsmall", "3600", "FIELDS", "1", "a"],
                      ["HSET", "ttlbig"] + (0..<700).flatMap { ["f\($0)", "v"] }, ["HPEXPIRE", "ttlbig", "7200000", "FIELDS", "2", "f1", "f2"]]
            keys += ["ttlsmall", "ttlbig"]
        }
        _ = try c.pipeline(setup)
        for key in keys {
            guard case .bulk(let payload) = try c.require(["DUMP", key]) else { Issue.record("no DUMP of \(key)"); continue }
            let value = try payload.withUnsafeBytes { try RDBReader.decodePayload($0) }
            let sampled = try c.sample(keys: [Array(key.utf8)], table: table)[0]
            #expect(value.typeName == sampled.type, "\(kind) \(key)")
            #expect(value.size == sampled.size, "\(kind) \(key)")
        }
    }

    @Test("a snapshot a live server SAVEs loads to what the server holds", arguments: TestServer.Kind.allCases)
    func liveSaveLoadsExactly(kind: TestServer.Kind) throws {
        let server = try TestServer(kind)
        let c = try server.connect()
        var setup: [[String]] = [
            ["SADD", "ints", "1", "2", "300000"], ["SADD", "words", "a", "b"], ["SADD", "big"] + (0..<600).map { "m\($0)" },
            ["HSET", "h", "f", "v"], ["ZADD", "z", "1", "a"], ["ZADD", "bigz"] + (0..<300).flatMap { [String($0), "m\($0)"] },
            ["RPUSH", "bigl"] + (0..<3000).map { "e\($0)" }, ["SET", "s", String(repeating: "lzf ", count: 200)],
            ["SET", "ttl", "v", "EX", "1000"], ["XADD", "st", "*", "a", "1"], ["XGROUP", "CREATE", "st", "g", "$"],
            ["SELECT", "3"], ["SET", "in-db-3", "x"], ["SELECT", "0"],
        ]
        if kind != .redis7 {
            setup += [["HSET", "ttlsmall", "a", "1", "b", "2"], ["HEXPIRE", "ttlsmall", "3600", "FIELDS", "1", "a"],
                      ["HSET", "ttlbig"] + (0..<700).flatMap { ["f\($0)", "v"] }, ["HEXPIRE", "ttlbig", "3600", "FIELDS", "1", "f1"]]
        }
        _ = try c.pipeline(setup)
        _ = try c.require(["SAVE"])
        let (state, approximate, result) = try replayState(server.directory.appendingPathComponent("dump.rdb").path)
        #expect(differences(state, try serverState(server)) == [:])
        #expect(approximate == [])
        #expect(result.snapshots.first?.magic == (kind == .valkey9 ? "VALKEY080" : kind == .redis8 ? "REDIS0012" : "REDIS0010"))
    }

    // MARK: opcodes of Redis Enterprise and RDB 13, in minimal hand-made files

    /// A version-`version` file of `body` (opcodes and keys), then EOF and a checksum of 0
    /// (not checked), read to its keys: (name, type, size) or the error's offset and text.
    static func readHandMade(_ body: [UInt8], version: String = "0012") -> Result<[(String, String, KeySize)], InputError> {
        let bytes = Array("REDIS\(version)".utf8) + body + [0xFF] + [UInt8](repeating: 0, count: 8)
        return bytes.withUnsafeBytes { raw in
            var keys: [(String, String, KeySize)] = []
            do throws(InputError) {
                _ = try RDBReader.read(raw, file: "hand-made.rdb") { key in
                    keys.append((String(decoding: key.name, as: UTF8.self), key.value.typeName, key.value.size))
                }
                return .success(keys)
            } catch { return .failure(error) }
        }
    }

    /// One string key "k" = "v".
    static let stringKey: [UInt8] = [0x00, 0x01, UInt8(ascii: "k"), 0x01, UInt8(ascii: "v")]

    @Test("Redis Enterprise's RAM LRU (107) and slot number (121) opcodes are skipped with their one length, as librdb does")
    func enterpriseOpcodesAreSkipped() throws {
        // librdb's redis_ent_opcode_ram_lru.rdb has 0x6B then a 14-bit length (0x40 0x43).
        let keys = try Self.readHandMade([0x6B, 0x40, 0x43] + Self.stringKey + [0x79, 0x80, 0x00, 0x00, 0x3F, 0xFF] + Self.stringKey.dropLast(2) + [0x01, UInt8(ascii: "w")]).get()
        #expect(keys.map(\.0) == ["k", "k"])
    }

    @Test("RDB 13's key metadata (243) before a key is skipped: class count, 4-byte class spec, module items to EOF")
    func keyMetadataIsSkipped() throws {
        let meta: [UInt8] = [0xF3, 0x02,
                             0x4B, 0x4D, 0x54, 0x31, 0x02, 0x05, 0x05, 0x03, 0x61, 0x62, 0x63, 0x00,  // UINT 5, STRING "abc", EOF
                             0x4B, 0x4D, 0x54, 0x32, 0x04] + [UInt8](repeating: 0, count: 8) + [0x00]  // DOUBLE 0, EOF
        let keys = try Self.readHandMade(meta + Self.stringKey, version: "0013").get()
        #expect(keys.map(\.0) == ["k"])
        #expect(keys.first?.2 == .bytes(1))
    }

    @Test("an RDB 13 stream (type 26) ends with its IDMP producers, which are skipped")
    func streamWithIdempotentProducersIsRead() throws {
        // No listpacks, 0 entries, last ID 5-0, first/max-deleted IDs and entries added, no
        // groups; IDMP: duration 100, 10 entries at most, one producer "p" with one entry "i"
        // at 5-0; 1 IID added, 0 duplicates.
        let stream: [UInt8] = [0x1A, 0x02, UInt8(ascii: "s"), UInt8(ascii: "t"),
                               0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00,
                               0x40, 0x64, 0x0A, 0x01, 0x01, UInt8(ascii: "p"), 0x01, 0x01, UInt8(ascii: "i"), 0x05, 0x00,
                               0x01, 0x00]
        let keys = try Self.readHandMade(stream + Self.stringKey, version: "0013").get()
        #expect(keys.map(\.0) == ["st", "k"])
        #expect(keys.first?.1 == "stream")
        #expect(keys.first?.2 == .elements(0))
    }

    @Test("an opcode no reader knows is one line naming it and its offset, before any key name is read")
    func unknownOpcodeIsNamed() {
        guard case .failure(let error) = Self.readHandMade(Self.stringKey + [0x64, 0x01, UInt8(ascii: "k")]) else {
            Issue.record("read")
            return
        }
        #expect(error.offset == 9 + Self.stringKey.count)
        #expect(error.detail == "unknown opcode 0x64 (100): neither a value type nor an opcode this build reads")
    }

    @Test("a file newer than RDB 13 is named as newer, before anything else is read")
    func rdb19IsNewer() {
        guard case .failure(let error) = Self.readHandMade(Self.stringKey, version: "0019") else {
            Issue.record("read")
            return
        }
        #expect(error.offset == 5)
        #expect(error.detail == "RDB version 19 is newer than the newest this build reads, 13")
    }

    @Test("truncations of the hand-made files fail with an offset and never trap")
    func handMadeTruncationsFail() {
        let body: [UInt8] = [0x6B, 0x40, 0x43, 0xF3, 0x01, 0x4B, 0x4D, 0x54, 0x31, 0x02, 0x05, 0x00] + Self.stringKey
        for cut in 0..<body.count {
            guard case .failure(let error) = Self.readHandMade(Array(body[0..<cut]), version: "0013") else { continue }
            #expect(error.offset >= 9)
        }
    }
}

