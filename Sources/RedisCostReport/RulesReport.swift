import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// `redis-cost rules`: every findings rule with its id, severity, threshold and fix.
public enum RulesReport {
    /// The markdown table reads the same values as the JSON.
    public static func markdown() -> String {
        Markdown.table(header: ["Rule", "Severity", "Threshold", "What", "Fix"], rows: rules().map { rule in
            ["`\(rule.rule)`", rule.severity.rawValue, rule.threshold.map { "\(grouped($0.default)) \($0.unit)" } ?? "", rule.title, rule.fix]
        })
    }

    public struct Rule: Codable, Sendable, JSONSchemaNamed {
        package static let schemaName = "rule"
        package struct Threshold: Codable, Sendable {
            package var `default`: Double
            package var unit: String
        }
        package var rule: String
        package var title: String
        package var severity: FindingsReport.Item.Severity
        package var why: String
        package var fix: String
        package var threshold: Threshold?
    }

    public static func rules() -> [Rule] {
        FindingsEngine.ruleTypes.map { rule in
            Rule(rule: rule.id, title: rule.title, severity: FindingsReport.Item.Severity(rawValue: rule.severity.description) ?? .info,
                 why: rule.why, fix: rule.fix, threshold: rule.threshold.map { Rule.Threshold(default: $0.value, unit: $0.unit) })
        }
    }

    public static func json() -> String { JSONText.render(rules()) }
}
