import ArgumentParsing
import Foundation
import RedisCost

enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
    /// `--fail-on`: a finding at or above the level fired (the report was written).
    static let findings: Int32 = 3
}

/// An error to print as one line and exit with.
struct CLIError: Error, CustomStringConvertible {
    var description: String
    var code: Int32 = ExitCode.failure
}

protocol Subcommand: Sendable {
    static var spec: CommandSpec { get }
    static func run(_ arguments: ParsedArguments) throws -> Int32
}

enum CLI {
    static let program = "redis-cost"

    static let subcommands: [(name: String, type: any Subcommand.Type)] = [
        ("analyze", AnalyzeCommand.self),
        ("state", StateCommand.self),
        ("monitor", MonitorCommand.self),
        ("rules", RulesCommand.self),
        ("calibrate", CalibrateCommand.self),
        ("audit", AuditCommand.self),
        ("table", TableCommand.self),
        ("table refresh", TableRefreshCommand.self),
        ("explain", ExplainCommand.self),
    ]

    static var overview: String {
        var out = """
            redis-cost: find the Redis and Valkey calls that are expensive because of the data they touch.

            Usage: \(program) <command> [options]

            Commands:

            """
        for (name, type) in subcommands {
            out += "  " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + type.spec.summary + "\n"
        }
        out += "\nRun '\(program) <command> --help' for a command's options and examples.\n"
        return out
    }

    static func run(_ arguments: [String]) -> Int32 {
        guard let first = arguments.first, first != "--help", first != "help" else {
            print(overview, terminator: "")
            return arguments.isEmpty ? ExitCode.usage : ExitCode.success
        }
        if first == "--version" {
            print("redis-cost 0.1.0")
            return ExitCode.success
        }
        // The longest matching name wins: `table refresh` before `table`.
        let match = subcommands
            .filter { entry in
                let words = entry.name.split(separator: " ").map(String.init)
                return arguments.count >= words.count && Array(arguments.prefix(words.count)) == words
            }
            .max { $0.name.count < $1.name.count }
        guard let (name, type) = match else {
            printError("unknown command \"\(first)\"; run '\(program) --help' for the list")
            return ExitCode.usage
        }
        let rest = Array(arguments.dropFirst(name.split(separator: " ").count))
        do {
            let parsed = try type.spec.parse(rest)
            if parsed.wantsHelp {
                print(type.spec.help(program: program), terminator: "")
                return ExitCode.success
            }
            return try type.run(parsed)
        } catch let error as UsageError {
            printError("\(error.message) (see '\(program) \(name) --help')")
            return ExitCode.usage
        } catch let error as CLIError {
            printError(error.description)
            return error.code
        } catch {
            printError("\(error)")
            return ExitCode.failure
        }
    }

    /// One line on stderr. Messages quote paths, names and what servers said: their control
    /// characters are escaped, so nothing in an input can drive the terminal.
    static func printError(_ message: String) {
        FileHandle.standardError.write(Data("\(program): \(KeyText.printable(message))\n".utf8))
    }
}

/// Writes a report to stdout or to `-o FILE`.
func emit(_ text: String, to path: String?) throws {
    guard let path else {
        FileHandle.standardOutput.write(Data(text.utf8))
        return
    }
    do {
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    } catch {
        throw CLIError(description: "\(path): cannot write: \(error.localizedDescription)")
    }
}

func loadTable() throws -> CommandTable {
    do {
        return try CommandTable.embedded()
    } catch {
        throw CLIError(description: "the embedded command table is broken: \(error)")
    }
}
