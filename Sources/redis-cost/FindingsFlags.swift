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

/// The flags of every command that reports findings: thresholds, a target version, key
/// redaction and the exit code for CI pipelines.
enum FindingsFlags {
    static let options: [OptionSpec] = [
        OptionSpec(["--threshold"], value: "RULE=N", help: "Set a rule's threshold, e.g. full-read=5000 (repeatable; 'redis-cost rules' lists them).", repeatable: true),
        OptionSpec(["--target-version"], value: "VERSION", help: "List the commands a server of this version (e.g. 6.2) does not have."),
        OptionSpec(["--fail-on"], value: "LEVEL", help: "Exit with 3 when a finding of this severity or worse fires: warning or critical."),
        redactKeys,
        OptionSpec(["--constants"], value: "FILE", help: "Time constants from 'redis-cost calibrate -o FILE' (default: measured on Redis 7.0.15)."),
    ]

    /// Shared by every command that prints key names.
    static let redactKeys = OptionSpec(["--redact-keys"], help: "Print no key name, key pattern, channel or script of the input: names become their shape (separators and *) with stable hashes.")

    /// Files these flags read, which a report must not overwrite.
    static func inputs(_ parsed: ParsedArguments) -> [String] {
        parsed.string("--constants").map { [$0] } ?? []
    }

    static func timeModel(_ parsed: ParsedArguments) throws -> TimeModel {
        guard let path = parsed.string("--constants") else { return .defaults }
        do {
            return try TimeModel(file: path)
        } catch {
            throw CLIError(description: error.description)
        }
    }

    static func engine(_ parsed: ParsedArguments, table: CommandTable) throws -> FindingsEngine {
        var options = FindingsEngine.Options()
        for setting in parsed.strings("--threshold") {
            let parts = setting.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, let type = FindingsEngine.rule(parts[0]), type.threshold != nil else {
                let known = FindingsEngine.ruleTypes.filter { $0.threshold != nil }.map { $0.id }.joined(separator: ", ")
                throw UsageError(command: parsed.command, message: "--threshold takes RULE=N with RULE one of \(known), not \"\(setting)\"")
            }
            guard let value = Double(parts[1]), value >= 0 else {
                throw UsageError(command: parsed.command, message: "--threshold \(parts[0]) needs a number, not \"\(parts[1])\"")
            }
            options.thresholds[type.id] = value
        }
        if let version = parsed.string("--target-version") {
            guard version.split(separator: ".").allSatisfy({ Int($0) != nil }), !version.isEmpty else {
                throw UsageError(command: parsed.command, message: "--target-version takes a version such as 6.2 or 7.0.15, not \"\(version)\"")
            }
            options.targetVersion = version
        }
        return FindingsEngine(table: table, options: options)
    }

    static func reportOptions(_ parsed: ParsedArguments) -> ReportOptions {
        ReportOptions(redactKeys: parsed.has("--redact-keys"))
    }

    /// Checks --fail-on before any work is done.
    static func failLevel(_ parsed: ParsedArguments) throws -> Finding.Severity? {
        try parsed.choice("--fail-on", of: ["warning", "critical"]).flatMap(Finding.Severity.init(name:))
    }

    /// 3 when a finding reached the --fail-on level, else `otherwise`.
    static func exitCode(_ findings: [Finding], failOn: Finding.Severity?, otherwise: Int32) -> Int32 {
        if let level = failOn, findings.contains(where: { $0.severity >= level }) {
            CLI.printError("findings at or above \(level): " + findings.filter { $0.severity >= level }.map(\.rule).joined(separator: ", "))
            return ExitCode.findings
        }
        return otherwise
    }
}
