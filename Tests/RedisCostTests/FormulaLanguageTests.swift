import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

@Suite struct FormulaLanguageTests {
    func value(_ source: String, argv: [String] = ["CMD"], keys: [Int] = [], sizes: [KeySize] = []) throws -> Cost {
        try Formula(source).evaluate(CallFacts(argv: argv, keyPositions: keys, sizes: sizes))
    }

    @Test func arithmeticAndPrecedence() throws {
        #expect(try value("1 + 2 * 3") == .exact(7))
        #expect(try value("(1 + 2) * 3") == .exact(9))
        #expect(try value("10 - 4 - 3") == .exact(3))
        #expect(try value("-2 + 5") == .exact(3))
        #expect(try value("2 < 3") == .exact(1))
        #expect(try value("7 / 2") == .exact(3.5))
        // Every call costs at least one unit.
        #expect(try value("0") == .exact(1))
    }

    @Test func functions() throws {
        #expect(try value("log(1024)") == .exact(10))
        #expect(try value("log(0)") == .exact(1))
        #expect(try value("min(5, 3, 9) + max(1, 2)") == .exact(5))
        #expect(try value("if(1 > 2, 10, 20)") == .exact(20))
        #expect(try value("range(0, -1, 10)") == .exact(10))
        #expect(try value("range(-3, -1, 10)") == .exact(3))
        #expect(try value("range(5, 2, 10) + 1") == .exact(1))
        #expect(try value("depth(0, 10) + depth(-1, 10) + depth(4, 10)") == .exact(7))
        #expect(try value("cap(-1, 50) + cap(5, 50)") == .exact(55))
        #expect(try value("atmost(5)") == .atMost(5))
        #expect(try value("unknown(\"why not\")") == .unknown(reason: "why not"))
    }

    @Test func argumentsAndOptions() throws {
        let argv = ["XADD", "s", "MAXLEN", "~", "100", "LIMIT", "5", "*", "f", "v"]
        #expect(try value("opt(\"MAXLEN\", 0)", argv: argv, keys: [1]) == .exact(100))
        #expect(try value("opt(\"COUNT\", 7)", argv: argv, keys: [1]) == .exact(7))
        #expect(try value("has(\"limit\") + len(1) + num(9, 3)", argv: argv, keys: [1]) == .exact(5))
        #expect(try value("count(\"f\", \"v\")", argv: argv, keys: [1]) == .exact(2))
        // A key named like a token is not the token.
        #expect(try value("has(\"COUNT\") + 5", argv: ["GET", "COUNT"], keys: [1]) == .exact(5))
    }

    @Test func sizes() throws {
        let keys = [1, 2, 3]
        let sizes: [KeySize] = [.elements(10), .bytes(1000), .missing]
        #expect(try value("sizes", argv: ["C", "a", "b", "c"], keys: keys, sizes: sizes) == .exact(1010))
        #expect(try value("items", argv: ["C", "a", "b", "c"], keys: keys, sizes: sizes) == .exact(11))
        #expect(try value("smallest(1) + largest(2) + total(2) + size(3) + keys", argv: ["C", "a", "b", "c"], keys: keys, sizes: sizes) == .exact(2003))
        #expect(try value("size(2)", argv: ["C", "a", "b"], keys: [1, 2], sizes: [.elements(1), .unknown]) == .unknown(reason: "size of key 2 unknown"))
        #expect(try value("dbsize") == .unknown(reason: "database size unknown"))
    }

    @Test func syntaxErrorsSayWhereAndWhat() {
        #expect(throws: FormulaSyntaxError(formula: "1 +", offset: 3, expected: "expected a number, a name or \"(\"")) { _ = try Formula("1 +") }
        #expect(throws: FormulaSyntaxError(formula: "sizez", offset: 0, expected: "expected a variable (argc, keys, size, sizes, items, dbsize, allkeys, nested, patterns)")) { _ = try Formula("sizez") }
        #expect(throws: FormulaSyntaxError.self) { _ = try Formula("min(") }
        #expect(throws: FormulaSyntaxError.self) { _ = try Formula("opt(COUNT, 1)") }
        #expect(throws: FormulaSyntaxError.self) { _ = try Formula("log(1, 2)") }
        #expect(throws: FormulaSyntaxError.self) { _ = try Formula("\"text\" + 1") }
        #expect(throws: FormulaSyntaxError.self) { _ = try Formula("1 2") }
        // Names, numbers and spaces are ASCII; quoted text is any text.
        #expect(throws: FormulaSyntaxError(formula: "size + é", offset: 7, expected: "expected a number, a name or \"(\"")) { _ = try Formula("size + é") }
        #expect(throws: FormulaSyntaxError(formula: "1 +\u{A0}2", offset: 3, expected: "expected a number, a name or \"(\"")) { _ = try Formula("1 +\u{A0}2") }
        #expect((try? Formula("opt(\"ÉTÉ\", 2)"))?.root == .call(.opt, [.text("ÉTÉ"), .number(2)]))
    }
}
