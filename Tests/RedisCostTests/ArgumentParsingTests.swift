import ArgumentParsing
import Testing

@Suite struct ArgumentParsingTests {
    let spec = CommandSpec(
        name: "demo", summary: "A demo.", usage: ["demo FILE [-o FILE]"],
        options: [
            OptionSpec(["-o", "--output"], value: "FILE", help: "Where to write."),
            OptionSpec(["-h", "--host"], value: "HOST", help: "Host."),
            OptionSpec(["--json"], help: "JSON."),
            OptionSpec(["--tag"], value: "T", help: "Tags.", repeatable: true),
            OptionSpec(["--top"], value: "N", help: "How many."),
        ],
        positionals: 1...3)

    @Test func optionsInEveryForm() throws {
        let parsed = try spec.parse(["in.aof", "-o", "out.md", "--host=db1", "--json", "--tag", "a", "--tag=b", "--", "-weird"])
        #expect(parsed.positionals == ["in.aof", "-weird"])
        #expect(parsed.string("--output") == "out.md")
        #expect(parsed.string("--host") == "db1")
        #expect(parsed.has("--json"))
        #expect(parsed.strings("--tag") == ["a", "b"])
        #expect(parsed.wantsHelp == false)
    }

    @Test func negativeNumbersArePositionals() throws {
        #expect(try spec.parse(["LRANGE", "0", "-1"]).positionals == ["LRANGE", "0", "-1"])
    }

    @Test func helpIsNotHost() throws {
        #expect(try spec.parse(["--help"]).wantsHelp)
        #expect(try spec.parse(["x", "-h", "10.0.0.1"]).string("--host") == "10.0.0.1")
        let help = spec.help(program: "redis-cost")
        #expect(help.contains("redis-cost demo FILE [-o FILE]"))
        #expect(help.contains("-o, --output FILE"))
        #expect(help.contains("--help"))
    }

    @Test func usageErrors() {
        #expect(throws: UsageError(command: "demo", message: "unknown option --outptu (did you mean --output?)")) { _ = try spec.parse(["x", "--outptu", "f"]) }
        #expect(throws: UsageError(command: "demo", message: "--output needs a value (FILE)")) { _ = try spec.parse(["x", "--output"]) }
        #expect(throws: UsageError(command: "demo", message: "--json takes no value")) { _ = try spec.parse(["x", "--json=1"]) }
        #expect(throws: UsageError(command: "demo", message: "-o was given twice")) { _ = try spec.parse(["x", "-o", "a", "-o", "b"]) }
        #expect(throws: UsageError(command: "demo", message: "missing argument; usage: demo FILE [-o FILE]")) { _ = try spec.parse([]) }
        #expect(throws: UsageError(command: "demo", message: "unexpected argument \"d\"")) { _ = try spec.parse(["a", "b", "c", "d"]) }
        #expect(throws: UsageError(command: "demo", message: "--top takes a whole number from 1 to 1000, not \"lots\"")) {
            _ = try spec.parse(["x", "--top", "lots"]).integer("--top", in: 1...1000)
        }
    }

    @Test func durations() throws {
        func seconds(_ text: String) throws -> Double? { try spec.parse(["x", "--top", text]).seconds("--top") }
        #expect(try seconds("30") == 30)
        #expect(try seconds("30s") == 30)
        #expect(try seconds("500ms") == 0.5)
        #expect(try seconds("5m") == 300)
        #expect(try seconds("1.5h") == 5400)
        #expect(try spec.parse(["x"]).seconds("--top") == nil)
        #expect(throws: UsageError(command: "demo", message: "--top takes a duration such as 30s, 500ms, 5m or 1h, up to 8760h, not \"0s\"")) { _ = try seconds("0s") }
        #expect(throws: UsageError(command: "demo", message: "--top takes a duration such as 30s, 500ms, 5m or 1h, up to 8760h, not \"soon\"")) { _ = try seconds("soon") }
        // Beyond a year, infinite or not a number: a usage error, never a trap downstream.
        #expect(try seconds("8760h") == 8760 * 3600)
        for text in ["99999999999h", "1e19", "1e400s", "inf", "nan", "-5s"] {
            #expect(throws: UsageError.self, "\(text)") { _ = try seconds(text) }
        }
    }
}
