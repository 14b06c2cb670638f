import Foundation
import Testing
import RedisCostCore
import RedisCostTable

/// The JSON parser and `Decoder` that read the command table and the time model's files.
@Suite struct JSONTreeTests {
    @Test("values of every kind, escapes, surrogate pairs and numbers as written")
    func parses() throws {
        let tree = try JSONTree.parse(#" {"a": [1, -2.5e3, 0, true, false, null], "b": "q\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "": {}} "#)
        #expect(tree == .object([
            .init(key: "a", value: .array([.number("1"), .number("-2.5e3"), .number("0"), .bool(true), .bool(false), .null])),
            .init(key: "b", value: .string("q\"\\/\u{08}\u{0C}\n\r\té😀")),
            .init(key: "", value: .object([])),
        ]))
        #expect(try JSONTree.parse("\"é\"") == .string("é"))
        #expect(try JSONTree.parse("[]") == .array([]))
    }

    @Test("what is not JSON is an error at its byte: the text after, a bad escape or number, a lone surrogate, bytes not UTF-8, nesting beyond the limit")
    func refuses() {
        let cases: [(String, Int, String)] = [
            ("{\"a\": 1} x", 9, "text after the JSON value"),
            ("{\"a\" 1}", 5, "':' after a member name"),
            ("[1 2]", 3, "',' or ']' after an element"),
            ("{\"a\": 1,}", 8, "a member name in quotes"),
            ("\"abc", 4, "a closing quote"),
            ("\"a\\x\"", 4, "an escape (\\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)"),
            ("\"\\ud800x\"", 7, "a low surrogate after a high one"),
            ("\"\\udc00\"", 7, "a Unicode scalar, not a lone surrogate"),
            ("\"a\nb\"", 2, "a control character escaped in a string"),
            ("012", 0, "a number"),
            ("1.", 2, "digits after a decimal point"),
            ("1e+", 3, "digits in an exponent"),
            ("tru", 0, "a value"),
            ("", 0, "a value, found the end of the text"),
        ]
        for (text, offset, detail) in cases {
            #expect(throws: JSONTree.SyntaxError(offset: offset, detail: detail), "\(text)") { try JSONTree.parse(text) }
        }
        #expect(throws: JSONTree.SyntaxError(offset: 1, detail: "a string that is not valid UTF-8")) {
            try [UInt8(ascii: "\""), 0xC3, 0x28, UInt8(ascii: "\"")].withUnsafeBytes { try JSONTree.parse($0) }
        }
        let deep = String(repeating: "[", count: JSONTree.depthLimit + 1) + String(repeating: "]", count: JSONTree.depthLimit + 1)
        #expect(throws: JSONTree.SyntaxError(offset: JSONTree.depthLimit, detail: "values nested more than \(JSONTree.depthLimit) deep")) { try JSONTree.parse(deep) }
        let limit = String(repeating: "[", count: JSONTree.depthLimit) + String(repeating: "]", count: JSONTree.depthLimit)
        #expect((try? JSONTree.parse(limit)) != nil)
    }

    struct Sample: Decodable, Equatable {
        var name: String
        var count: Int
        var ratio: Double?
        var tags: [String]
        var limits: [String: Int]?
        var nested: [Sample]?
        var flag: Bool?
    }

    @Test("decodes as JSONDecoder does: optional and missing members, arrays, dictionaries, nesting; a mismatch names its path")
    func decodes() throws {
        let text = #"{"name": "a", "count": 3, "ratio": null, "tags": ["x"], "limits": {"k": 1}, "nested": [{"name": "b", "count": -1, "tags": [], "flag": true}]}"#
        let decoded = try JSONTree.parse(text).decode(Sample.self)
        #expect(decoded == (try JSONDecoder().decode(Sample.self, from: Data(text.utf8))))
        #expect(decoded.nested?.first?.flag == true && decoded.ratio == nil && decoded.limits == ["k": 1])

        func path(_ text: String) -> String {
            do {
                _ = try JSONTree.parse(text).decode(Sample.self)
                return "decoded"
            } catch let error as DecodingError {
                return CommandTableJSON.describe(error)
            } catch {
                return "\(error)"
            }
        }
        #expect(path(#"{"name": "a", "count": "3", "tags": []}"#) == "at .count: Expected a number but found a string instead.")
        #expect(path(#"{"name": "a", "count": 3, "tags": [], "nested": [{"name": "b", "count": 1, "tags": [2]}]}"#)
                == "at .nested[0].tags[0]: Expected a string but found a number instead.")
        #expect(path(#"{"name": "a", "tags": []}"#) == "No value associated with key \"count\".")
        #expect(path(#"{"name": "a", "count": 1.5, "tags": []}"#) == "at .count: Number 1.5 is not representable in Int.")
        #expect(path(#"{"name": "a", "count": 99999999999999999999, "tags": []}"#) == "at .count: Number 99999999999999999999 is not representable in Int.")
    }

    @Test("damaged JSON (seeded byte flips, cuts and insertions into table entries) is an error or a value, never a crash")
    func damaged() throws {
        // Two whole entries of the table, in a document of their own.
        let start = try #require(embeddedCommandTableJSON.range(of: "{\"name\": \"ZRANGE\""))
        let end = try #require(embeddedCommandTableJSON.range(of: "{\"name\": \"ZRANGEBYSCORE\"", range: start.upperBound..<embeddedCommandTableJSON.endIndex))
        let entries = embeddedCommandTableJSON[start.lowerBound..<end.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: ", \n"))
        let document = Array("{\"commands\": [\(entries)]}".utf8)
        let whole = try document.withUnsafeBytes { try JSONTree.parse($0) }.decode(CommandTableJSON.File.self)
        #expect(whole.commands.map(\.name) == ["ZRANGE", "ZRANGEBYLEX"])
        var rng = SeededRandom(seed: FuzzTests.seed)
        let bytes: [UInt8] = Array("{}[]\",:\\/\"0123456789-+.eEtrufalsn \nuD8".utf8) + [0x00, 0x1F, 0x7F, 0x80, 0xC3, 0xED, 0xFF]
        var parsed = 0, decoded = 0, refused = 0
        for _ in 0..<3000 {
            var text = document
            for _ in 0...(rng.next() % 4) {
                let at = Int(rng.next() % UInt64(text.count))
                switch rng.next() % 3 {
                case 0: text[at] = bytes[Int(rng.next() % UInt64(bytes.count))]
                case 1: text.removeSubrange(at..<min(text.count, at + Int(rng.next() % 40)))
                default: text.insert(bytes[Int(rng.next() % UInt64(bytes.count))], at: at)
                }
                if text.isEmpty { text = [0x20] }
            }
            // A cut document may still close: the decoding of what it holds must not trap either.
            if let tree = try? text.withUnsafeBytes({ try JSONTree.parse($0) }) {
                parsed += 1
                if (try? tree.decode(CommandTableJSON.File.self)) != nil { decoded += 1 }
            } else {
                refused += 1
            }
        }
        // Every path was taken: refused as not JSON, JSON that is no table, a table still.
        #expect(refused > 0 && parsed > decoded && decoded > 0, "\(refused) \(parsed) \(decoded)")
    }

    @Test("the command table decoded by the tree is the table JSONDecoder decodes")
    func commandTable() throws {
        let tree = try JSONTree.parse(embeddedCommandTableJSON).decode(CommandTableJSON.File.self)
        let foundation = try JSONDecoder().decode(CommandTableJSON.File.self, from: Data(embeddedCommandTableJSON.utf8))
        #expect(tree.commands.count == foundation.commands.count && tree.commands.count > 400)
        let entries = { (file: CommandTableJSON.File) throws -> [CommandEntry] in
            try file.commands.enumerated().map { try CommandTableJSON.entry(from: $1, where: "commands[\($0)]") }
        }
        #expect(try entries(tree) == entries(foundation))
    }
}
