import Foundation
import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostAnalysis
import RedisCostReport

/// Module data in RDB files (RDB_TYPE_MODULE_2 values, RDB_OPCODE_MODULE_AUX) against a file
/// Redis 8.2.3 wrote with the Redis Stack modules loaded (Tests/tools/gen_module_rdb.py).
@Suite struct ModuleRDBTests {
    static let folder = fixturesRoot.appendingPathComponent("modules-redis-8.2.3")

    struct Truth: Decodable {
        struct Key: Decodable {
            var type: String
            var size: Int?
            /// A JSON document's compact length (JSON.GET's text).
            var bytes: Int?
        }
        var server: String
        var keys: [String: Key]
    }

    @Test("every key of a Redis Stack snapshot has the type TYPE names and the size the server reports")
    func everyKeyHasItsTypeAndSize() throws {
        let truth = try JSONDecoder().decode(Truth.self, from: Data(contentsOf: Self.folder.appendingPathComponent("truth.json")))
        let analyzer = Analyzer(table: try CommandTable.embedded())
        let result = try analyzer.run(try AOFInput(path: Self.folder.appendingPathComponent("dump.rdb").path))
        let keyspace = analyzer.replayer.keyspace
        var seen: [String: (type: String, size: KeySize, value: KeyValue)] = [:]
        for id in keyspace.keys(in: 0) {
            seen[String(decoding: keyspace.nameBytes(of: id), as: UTF8.self)] = (keyspace[id].value.typeName, keyspace.size(of: id), keyspace[id].value)
        }
        #expect(Set(seen.keys) == Set(truth.keys.keys))
        for (name, key) in truth.keys {
            guard let model = seen[name] else { continue }
            #expect(model.type == key.type, "\(name)")
            if ["hash", "string"].contains(key.type) { continue }
            // Every module type's count is the server's own answer; where the server has
            // none (a JSON scalar root), the size is unknown, never 0.
            #expect(model.size == (key.size.map { .elements($0) } ?? .unknown), "\(name)")
            if case .json(let document) = model.value {
                #expect(document.bytes == key.bytes, "\(name): the JSON document's length")
            } else {
                #expect(key.bytes == nil, "\(name): a document's length, but no document")
            }
        }
        #expect(truth.keys.values.contains { $0.type == "ReJSON-RL" && ($0.bytes ?? 0) > 2048 }, "a document long enough to be LZF-compressed")
        // Every module type of the stack is there, and the file's module aux data (the FT
        // index's definition, the modules' globals) was walked to its end.
        #expect(Set(truth.keys.values.map(\.type)).isSuperset(of: ["ReJSON-RL", "MBbloom--", "MBbloomCF", "TopK-TYPE", "CMSk-TYPE", "TDIS-TYPE", "TSDB-TYPE", "vectorset"]))
        #expect(result.snapshots.first?.checksumVerified == true)
        #expect(result.snapshots.first?.keys == truth.keys.count)
        #expect(result.snapshots.first?.expiredOnLoad == 0)
    }

    @Test("the report says which module types' sizes are read from the value and which are only skipped")
    func reportNamesReadAndSkippedModuleTypes() throws {
        let analyzer = Analyzer(table: try CommandTable.embedded())
        let result = try analyzer.run(try AOFInput(path: Self.folder.appendingPathComponent("dump.rdb").path))
        let types = try #require(AnalysisReport.document(result).snapshots.first?.moduleTypes)
        #expect(types.map(\.type) == ["CMSk-TYPE", "MBbloom--", "MBbloomCF", "ReJSON-RL", "TDIS-TYPE", "TSDB-TYPE", "TopK-TYPE", "vectorset"])
        #expect(types.first { $0.type == "ReJSON-RL" }?.sizeFrom == "JSON.OBJLEN / JSON.ARRLEN")
        #expect(types.first { $0.type == "ReJSON-RL" }?.encodingVersions == "3")
        #expect(AnalysisReport.markdown(result).contains("- Module values: sizes read from the value for `CMSk-TYPE` (CMS.INFO count, encoding version 0)"))
        // A type no reading knows is named as only skipped.
        let line = AnalysisReport.moduleValuesLine([.init(type: "scdtype00", keys: 1, sizeFrom: nil, encodingVersions: nil)])
        #expect(line == "\n- Module values: only skipped, size unknown: `scdtype00`. A value of another encoding version is only skipped, and module aux data always is.\n")
    }

    @Test("a module id holds the type's nine characters and its encoding version")
    func moduleIDsDecode() {
        // The id of the "impossible length": Redis's own test module type.
        #expect(ModuleTypeID(12_810_328_381_974_695_937) == ModuleTypeID(name: "scdtype00", encodingVersion: 1))
        #expect(ModuleTypeID(5_035_677_737_576_115_203) == ModuleTypeID(name: "ReJSON-RL", encodingVersion: 3))
        #expect(ModuleTypeID(5_557_655_216_273_166_344) == ModuleTypeID(name: "TSDB-TYPE", encodingVersion: 8))
        #expect(ModuleTypeID(0x7EDF_E29D_D7B1_D000) == ModuleTypeID(name: "ft_index0", encodingVersion: 0))
        #expect(ModuleTypeID(UInt64.max) == ModuleTypeID(name: "_________", encodingVersion: 1023))
    }

    @Test("a newer RDB version is named as such")
    func newerVersionIsNamed() throws {
        var bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("dump.rdb")))
        bytes.replaceSubrange(5..<9, with: Array("0019".utf8))
        let error = bytes.withUnsafeBytes { raw -> InputError? in
            do throws(InputError) {
                _ = try RDBReader.read(raw, file: "dump.rdb") { _ in }
                return nil
            } catch { return error }
        }
        #expect(error?.offset == 5)
        #expect(error?.detail == "RDB version 19 is newer than the newest this build reads, 13")
    }

    @Test("keys that expired before the file was written are dropped on load, as the server drops them")
    func keysExpiredBeforeCtimeAreDropped() throws {
        // The fixture's plain:expiring expires an hour after its ctime; moving ctime two hours
        // later makes it a key the server would drop. The checksum is zeroed (not checked).
        var bytes = [UInt8](try Data(contentsOf: Self.folder.appendingPathComponent("dump.rdb")))
        let ctime = Array("ctime".utf8)
        let at = try #require(bytes.indices.first { bytes[$0...].starts(with: ctime) })
        // After the name: the value, an RDB integer (0xC2 and 4 little-endian bytes).
        #expect(bytes[at + 5] == 0xC2)
        let seconds = bytes[(at + 6)..<(at + 10)].reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } + 7200
        bytes.replaceSubrange((at + 6)..<(at + 10), with: withUnsafeBytes(of: seconds.littleEndian, Array.init))
        bytes.replaceSubrange((bytes.count - 8)..., with: [UInt8](repeating: 0, count: 8))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("expired-\(UUID().uuidString).rdb")
        defer { try? FileManager.default.removeItem(at: file) }
        try Data(bytes).write(to: file)
        let analyzer = Analyzer(table: try CommandTable.embedded())
        let result = try analyzer.run(try AOFInput(path: file.path))
        #expect(result.snapshots.first?.expiredOnLoad == 1)
        #expect(analyzer.replayer.keyspace.find(Array("plain:expiring".utf8), in: 0) == nil)
    }

    @Test("a JSON document's top-level member count is what JSON.OBJLEN or JSON.ARRLEN says", arguments: [
        ("{}", 0), ("[]", 0), (" { \"a\" : 1 } ", 1), ("[1,2,3]", 3), ("{\"a\":[1,2,{\"b\":[3,4]}],\"c\":\"d\"}", 2),
        ("[\"a,b\",\"[\",\"}\",\"\\\"\",\"\\\\\"]", 5), ("[[],{},[[]]]", 3), ("[null,true,-1.5e3]", 3),
    ])
    func jsonMemberCount(text: String, count: Int) {
        #expect(Array(text.utf8).withUnsafeBytes { JSONTopLevel.memberCount($0) } == count, "\(text)")
    }

    @Test("a scalar root or malformed JSON has no member count", arguments: [
        "", "1", "\"[1,2]\"", "null", "[1,2", "[1,2]]", "[1,2]x", "{\"a\":1}}", "[1,]", "[,1]", "[1,,2]", "[\"abc]", "[}", "{]",
        "[\"a\nb\"]", String(repeating: "[", count: 100_000),
    ])
    func jsonMalformedHasNoCount(text: String) {
        #expect(Array(text.utf8).withUnsafeBytes { JSONTopLevel.memberCount($0) } == nil, "\(text.prefix(20))")
    }

    @Test("random bytes never trap the JSON scanner")
    func jsonScannerSurvivesNoise() {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let alphabet = Array("[]{}\",:\\ a1".utf8) + [0x00, 0xFF, 0x0A]
        for _ in 0..<2_000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int(state % 40) {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                bytes.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            if let n = bytes.withUnsafeBytes({ JSONTopLevel.memberCount($0) }) { #expect(n >= 0 && n <= bytes.count) }
        }
    }
}
