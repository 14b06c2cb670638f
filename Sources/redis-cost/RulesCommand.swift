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

enum RulesCommand: Subcommand {
    static let spec = CommandSpec(
        name: "rules",
        summary: "List the findings rules: id, severity, threshold, why and the fix.",
        usage: ["rules [--format markdown|json]"],
        discussion: """
            The ids are the JSON report's "rule" field. Thresholds are set per run with
            --threshold RULE=N on analyze and monitor.
            """,
        options: [OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json.")],
        examples: ["redis-cost rules", "redis-cost analyze capture.txt --threshold full-read=5000 --fail-on critical"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        try emit(format == "json" ? RulesReport.json() : RulesReport.markdown(), to: nil)
        return ExitCode.success
    }
}
