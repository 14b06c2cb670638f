import ArgumentParsing
import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

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

    /// What a command is done with just before the process ends: kept, not freed. Freeing a
    /// replay model (every key's record, every collection's identities) takes a while and
    /// gives nothing back to a process about to exit (60M instructions of a 300k-line
    /// capture's analysis). Only this executable keeps anything here: it runs one command.
    nonisolated(unsafe) private static var keptUntilExit: [AnyObject] = []
    static func keepUntilExit(_ object: AnyObject) { keptUntilExit.append(object) }

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
        _ = try? write("\(program): \(KeyText.printable(message))\n", to: 2, name: "standard error")
    }
}

/// Writes a report to stdout (no path, or `-`) or through `path` as a shell's `>` does: a file
/// is created or emptied, a symlink is followed, a FIFO or a device gets the bytes as they are.
/// `inputs` are the files the run reads: the report never goes over one of them, whatever the
/// name it is given by (a symlink, a hard link, /dev/stdout). A write or close that fails (a
/// full disk, EIO) is an error, never a short report.
func emit(_ text: String, to path: String?, inputs: [String] = []) throws {
    guard let path, path != "-" else {
        try refuseInputs(1, name: "standard output", inputs: inputs)
        try write(text, to: 1, name: "standard output")
        return
    }
    // Not O_TRUNC yet: the file may be an input, to be refused whole.
    let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw CLIError(description: "\(path): cannot write: \(String(cString: strerror(errno)))") }
    do {
        try refuseInputs(fd, name: path, inputs: inputs)
        var target = stat()
        // A FIFO or a device has nothing to truncate (`>` does not fail on them either).
        if fstat(fd, &target) == 0, target.st_mode & S_IFMT == S_IFREG, ftruncate(fd, 0) != 0 {
            throw CLIError(description: "\(path): cannot write: \(String(cString: strerror(errno)))")
        }
        try write(text, to: fd, name: path)
    } catch {
        close(fd)
        throw error
    }
    // NFS and some devices report a failed write only here.
    guard close(fd) == 0 else { throw CLIError(description: "\(path): cannot write: \(String(cString: strerror(errno)))") }
}

/// Refuses a destination that is one of the run's input files (same device and inode). Only
/// a regular file holds what writing would destroy: a terminal may be both stdin and stdout.
private func refuseInputs(_ fd: Int32, name: String, inputs: [String]) throws {
    var target = stat()
    guard fstat(fd, &target) == 0, target.st_mode & S_IFMT == S_IFREG else { return }
    for input in inputs {
        var file = stat()
        if stat(input, &file) == 0, file.st_dev == target.st_dev, file.st_ino == target.st_ino {
            throw CLIError(description: "\(name) is the input \(input): write the report elsewhere")
        }
    }
}

/// All of `text`, or an error: write(2) may write less than asked, or be interrupted.
private func write(_ text: String, to fd: Int32, name: String) throws {
    let bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
        if written < 0 {
            if errno == EINTR { continue }
            throw CLIError(description: "\(name): cannot write: \(String(cString: strerror(errno)))")
        }
        offset += written
    }
}

func loadTable() throws -> CommandTable {
    do {
        return try CommandTable.embedded()
    } catch {
        throw CLIError(description: "the embedded command table is broken: \(error)")
    }
}
