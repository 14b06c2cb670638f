import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost rules`: every findings rule with its id, severity, threshold and fix.
public enum RulesReport {
    package static func threshold(_ rule: any FindingRule.Type) -> String {
        rule.threshold.map { "\(grouped($0.value)) \($0.unit)" } ?? ""
    }

    public static func markdown() -> String {
        Markdown.table(header: ["Rule", "Severity", "Threshold", "What", "Fix"], rows: FindingsEngine.ruleTypes.map { rule in
            ["`\(rule.id)`", rule.severity.description, threshold(rule), rule.title, rule.fix]
        })
    }

    public static func json() -> String {
        JSONText.render(FindingsEngine.ruleTypes.map { rule -> [String: Any] in
            ["rule": rule.id, "title": rule.title, "severity": rule.severity.description, "why": rule.why, "fix": rule.fix,
             "threshold": rule.threshold.map { ["default": $0.value, "unit": $0.unit] as [String: Any] } ?? NSNull()]
        })
    }
}
