import Foundation
import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// Module writes in replay, beside the end-to-end check of AppWorkloadTests (the redis-om and
/// stack-mix fixtures replay to exactly the sizes the server's own O(1) counts gave): the
/// edges a workload rarely shows and hostile arguments.
@Suite struct ModuleReplayTests {
    // MARK: the JSON root scanner

    func top(_ text: String) -> JSONTopLevel? {
        Array(text.utf8).withUnsafeBytes { JSONTopLevel.read($0) }
    }

    @Test("the root's length is what JSON.OBJLEN / JSON.ARRLEN report, whatever is nested in it")
    func rootLength() {
        #expect(top(#"{"a": 1, "b": [1, 2, {"c": "}]"}], "d": {"e": {}}}"#)?.count == 3)
        #expect(top(#"{"a": 1, "b": [1, 2, {"c": "}]"}], "d": {"e": {}}}"#)?.shape == .object)
        #expect(top(#" [1, "two", [3, 4], {"five": 5}, null] "#)?.count == 5)
        #expect(top("[]")?.count == 0)
        #expect(top("{ }")?.count == 0)
        #expect(top(#""a string with \" and ]""#)?.shape == .scalar)
        #expect(top("42")?.shape == .scalar)
        // Escaped quotes inside names and values do not end them.
        #expect(top(#"{"q\"uote": "v\\", "x": "\"}"}"#)?.count == 2)
        // A name with an escape cannot be matched to a path: the names are unknown, the count is not.
        #expect(top(#"{"q\"uote": 1, "x": 2}"#)?.memberHashes == nil)
        #expect(top(#"{"a": 1, "b": 2}"#)?.memberHashes == [elementHash(Array("a".utf8)), elementHash(Array("b".utf8))])
    }

    @Test("text that is not one JSON value gives nil: cut, unbalanced, mismatched, trailing bytes, empty")
    func malformedText() {
        for text in ["", "   ", "{", #"{"a": 1"#, "[1, 2", "[1}", "{]", "[1] x", #"{"a": "open}"#, "[1,,2]", "[,]", "1 2", #""open"#] {
            #expect(top(text) == nil, "\(text)")
        }
    }

    @Test("a nesting deeper than any stack is read without recursion")
    func deepNesting() {
        let depth = 200_000
        let text = "[" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth) + ", 1]"
        #expect(top(text)?.count == 2)
        #expect(top(String(repeating: "[", count: depth)) == nil)
    }

    // MARK: writes

    /// Runs `calls` as one client's MONITOR capture on an empty data set.
    func replay(_ calls: [[String]]) throws -> Analyzer {
        func quoted(_ s: String) -> String {
            "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        let lines = calls.enumerated().map { i, argv in
            "1700000000.\(String(format: "%06d", i + 1)) [0 127.0.0.1:5000] " + argv.map(quoted).joined(separator: " ")
        }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("module-replay-\(UUID().uuidString).txt")
        try (lines.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        let analyzer = Analyzer(table: try CommandTable.embedded())
        _ = try analyzer.run(monitor: url.path, options: .init(startsEmpty: true))
        return analyzer
    }

    func size(_ analyzer: Analyzer, _ key: String) -> (type: String, size: KeySize, approximate: Bool)? {
        Array(key.utf8).withUnsafeBytes { name in
            analyzer.replayer.lookup(name).map { id in
                let record = analyzer.replayer.keyspace[id]
                return (record.value.typeName, record.value.size, record.approximate)
            }
        }
    }

    @Test("a JSON document's root length follows member and array writes at the root, not below it")
    func jsonWrites() throws {
        let a = try replay([
            ["JSON.SET", "doc", "$", #"{"a": 1, "b": {"c": [1]}}"#],
            ["JSON.SET", "doc", "$.n", "1"],             // a new member
            ["JSON.SET", "doc", "$.a", "2"],             // an existing one
            ["JSON.SET", "doc", "$.b.d", "3"],           // below the root
            ["JSON.SET", "doc", "$['q']", "4", "XX"],    // XX of a missing member: nothing
            ["JSON.DEL", "doc", ".a"],                   // legacy path of a member
            ["JSON.ARRAPPEND", "doc", "$.b.c", "2"],     // an array below the root
            ["JSON.SET", "arr", ".", "[1, 2, 3]"],
            ["JSON.ARRAPPEND", "arr", "$", "4", "5"],
            ["JSON.ARRINSERT", "arr", "$", "0", "0"],
            ["JSON.ARRINSERT", "arr", "$", "99", "0"],   // beyond the end: refused
            ["JSON.ARRPOP", "arr"],
            ["JSON.ARRTRIM", "arr", "$", "1", "-2"],
            ["JSON.DEL", "arr", "$[0]"],
            ["JSON.SET", "gone", "$", "{}"],
            ["JSON.DEL", "gone"],
            ["JSON.SET", "nested", "$.x", "1"],          // a new key takes only the root
        ])
        #expect(size(a, "doc")?.size == .elements(2))   // b, n
        #expect(size(a, "doc")?.approximate == false)
        // 3 → append 2 → insert 1 → (refused) → pop → 5 → trim 1…-2 → 3 → delete [0] → 2
        #expect(size(a, "arr")?.size == .elements(2))
        #expect(size(a, "gone") == nil)
        #expect(size(a, "nested") == nil)
    }

    @Test("a write whose effect the call does not tell makes the key approximate, never a guess")
    func jsonApproximate() throws {
        let a = try replay([
            ["JSON.SET", "doc", "$", #"{"a": 1}"#],
            ["JSON.MERGE", "doc", "$", #"{"b": 2, "a": null}"#],
            ["JSON.SET", "w", "$", "[1, 2]"],
            ["JSON.DEL", "w", "$[*]"],
        ])
        #expect(size(a, "doc")?.approximate == true)
        #expect(size(a, "w")?.approximate == true)
    }

    @Test("filters count distinct items (BF.CARD) or inserts less deletes (CF.INFO); sketches their totals")
    func probabilisticWrites() throws {
        let a = try replay([
            ["BF.ADD", "bf", "x"], ["BF.ADD", "bf", "x"], ["BF.MADD", "bf", "y", "z", "x"],
            ["BF.INSERT", "bf2", "NOCREATE", "ITEMS", "a"],  // NOCREATE on a missing filter: nothing
            ["CF.ADD", "cf", "x"], ["CF.ADD", "cf", "x"], ["CF.ADDNX", "cf", "x"], ["CF.ADDNX", "cf", "y"], ["CF.DEL", "cf", "y"],
            ["TOPK.RESERVE", "tk", "7"], ["TOPK.ADD", "tk", "a", "b"],
            ["CMS.INITBYDIM", "cms", "10", "2"], ["CMS.INCRBY", "cms", "a", "3", "b", "4"],
            ["CMS.INITBYDIM", "cms2", "10", "2"], ["CMS.INCRBY", "cms2", "a", "5"],
            ["CMS.INITBYDIM", "sum", "10", "2"], ["CMS.MERGE", "sum", "2", "cms", "cms2", "WEIGHTS", "1", "2"],
            ["TDIGEST.CREATE", "td"], ["TDIGEST.ADD", "td", "1", "2", "3"],
            ["TDIGEST.CREATE", "td2"], ["TDIGEST.ADD", "td2", "4"],
            ["TDIGEST.MERGE", "tdm", "2", "td", "td2"],
            ["TS.CREATE", "ts"], ["TS.ADD", "ts", "1", "1"], ["TS.MADD", "ts", "2", "1", "ts", "3", "1"], ["TS.INCRBY", "ts", "1"],
            ["TS.ADD", "kept", "1", "1", "RETENTION", "1000"],
            ["COPY", "bf", "bf:copy"], ["COPY", "ts", "ts:copy"], ["JSON.SET", "doc", "$", "[1]"], ["COPY", "doc", "doc:copy"],
        ])
        #expect(size(a, "bf:copy") == nil, "the server refuses to copy a Bloom filter")
        #expect(size(a, "ts:copy") == nil)
        #expect(size(a, "doc:copy")?.size == .elements(1), "JSON documents copy")
        #expect(size(a, "bf")?.size == .elements(3))
        #expect(size(a, "bf2") == nil)
        #expect(size(a, "cf")?.size == .elements(2))
        #expect(size(a, "tk")?.size == .elements(7))
        #expect(size(a, "cms")?.size == .elements(7))
        #expect(size(a, "sum")?.size == .elements(17))
        #expect(size(a, "tdm")?.size == .elements(4))
        #expect(size(a, "ts")?.size == .elements(4))
        #expect(size(a, "kept")?.approximate == true, "a retention drops samples the calls do not show")
        for key in ["bf", "cf", "tk", "cms", "sum", "tdm", "ts"] { #expect(size(a, key)?.approximate == false, "\(key)") }
    }

    @Test("hostile counts leave a sketch unknown instead of trapping")
    func hostileNumbers() throws {
        let a = try replay([
            ["CMS.INITBYDIM", "cms", "10", "2"],
            ["CMS.INCRBY", "cms", "a", "9223372036854775807"],
            ["TOPK.RESERVE", "tk", "99999999999999999999"],
            ["CMS.MERGE", "m", "9223372036854775807", "cms"],
            ["TDIGEST.MERGE", "td", "-1", "x"],
        ])
        #expect(size(a, "cms")?.size == .elements(0))
        #expect(size(a, "tk") == nil)
        #expect(size(a, "m") == nil)
        #expect(size(a, "td") == nil)
    }

    @Test("a search index is no key: FT calls name no keys, and keys of the data set stay theirs")
    func searchIndexIsNoKey() throws {
        let table = try CommandTable.embedded()
        for name in ["FT.SEARCH", "FT.CREATE", "FT.INFO", "FT._CREATEIFNX", "FT.CURSOR READ"] {
            let entry = try #require(table.entry(named: name))
            #expect(entry.semantics.index != nil, "\(name)")
            #expect(entry.keyPositions(in: [name, "idx", "*"]) == [], "\(name)")
        }
        #expect(try #require(table.entry(named: "FT.SUGADD")).keyPositions(in: ["FT.SUGADD", "sug", "hello", "1"]) == [1])
    }
}
