import ArgumentParsing
import Foundation
import RedisCost

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
        let rules = FindingsEngine.ruleTypes
        if format == "json" {
            let list = rules.map { rule -> [String: Any] in
                ["rule": rule.id, "title": rule.title, "severity": rule.severity.description, "why": rule.why, "fix": rule.fix,
                 "threshold": rule.threshold.map { ["default": $0.value, "unit": $0.unit] as [String: Any] } ?? NSNull()]
            }
            let data = try JSONSerialization.data(withJSONObject: list, options: [.prettyPrinted, .sortedKeys])
            try emit(String(decoding: data, as: UTF8.self) + "\n", to: nil)
            return ExitCode.success
        }
        var out = "| Rule | Severity | Threshold | What | Fix |\n| --- | --- | --- | --- | --- |\n"
        for rule in rules {
            let threshold = rule.threshold.map { "\(grouped($0.value)) \($0.unit)" } ?? ""
            out += "| `\(rule.id)` | \(rule.severity) | \(threshold) | \(rule.title) | \(rule.fix.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        try emit(out, to: nil)
        return ExitCode.success
    }
}
