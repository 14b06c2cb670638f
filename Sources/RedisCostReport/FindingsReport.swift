import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// The part of the report a person acts on: what to fix first, then each finding with its
/// evidence.
package enum FindingsReport {
    /// The few things to fix first: the most severe and costliest findings, one line each.
    package static func fixFirst(_ findings: [Item], limit: Int = 5) -> String {
        var out = "## Fix first\n\n"
        let actionable = findings.filter { $0.severity != .info }
        guard !actionable.isEmpty else {
            out += findings.isEmpty ? "No rule fired: nothing in this input calls for a change.\n" : "Nothing severe; see the notes under Findings.\n"
            return out
        }
        for (n, f) in actionable.prefix(limit).enumerated() {
            out += "\(n + 1). **\(f.title)** (`\(f.rule)`, \(f.severity.rawValue)) — \(Markdown.cell(f.summary)) **Fix:** \(Markdown.cell(f.fix))\n"
        }
        if actionable.count > limit { out += "\n\(actionable.count - limit) more below.\n" }
        return out
    }

    /// Each finding with its evidence, from the values the JSON report is made of (keys,
    /// patterns and notes already redacted there).
    package static func markdown(_ findings: [Item]) -> String {
        guard !findings.isEmpty else { return "" }
        var out = "\n## Findings\n\n"
        for (n, f) in findings.enumerated() {
            out += "### \(n + 1). \(f.title) (`\(f.rule)`, \(f.severity.rawValue))\n\n"
            out += Markdown.cell(f.summary)
            out += f.estimatedMicroseconds > 0 ? " Estimated server time: \(AnalysisReport.duration(f.estimatedMicroseconds)).\n\n" : "\n\n"
            out += "- **Why:** \(Markdown.cell(f.why))\n"
            out += "- **Fix:** \(Markdown.cell(f.fix))\n"
            if let threshold = f.threshold { out += "- Threshold: \(threshold) (`--threshold \(f.rule)=N`)\n" }
            if !f.patterns.isEmpty {
                out += "- Key patterns: " + f.patterns.map { "\(Markdown.code($0.pattern)) × \(grouped($0.count))" }.joined(separator: ", ") + "\n"
            }
            // Facts read from a server (audit) are lines; calls are a table.
            for fact in f.evidence where fact.isServerFact {
                out += "- \(Markdown.cell(fact.note ?? ""))\n"
            }
            let rows = f.evidence.filter { !$0.isServerFact }.map { e -> [String] in
                [e.command, e.keys.prefix(3).map(Markdown.code).joined(separator: " ") + (e.keys.count > 3 ? " …" : ""),
                 zip(e.sizes, e.sizeKinds).prefix(3).map(AnalysisReport.size).joined(separator: ", "), e.cost.map(grouped) ?? "",
                 e.cost.map { $0 > 0 ? AnalysisReport.duration(e.estimatedMicroseconds) : "" } ?? "",
                 e.client.map(Markdown.code) ?? "", AnalysisReport.time(e.time), e.location, e.note ?? ""]
            }
            if !rows.isEmpty {
                out += "\n" + Markdown.table(header: ["Command", "Keys", "Sizes", "Cost", "Est. time", "Client", "Time", "Where", "Note"], rows: rows, alignRight: [3, 4])
            }
            out += "\n"
        }
        return out
    }

    /// A finding in a JSON report (`analyze`, `monitor` and `audit` alike).
    package struct Item: Codable, Sendable, JSONSchemaNamed {
        package static let schemaName = "finding"
        package enum Severity: String, Codable, Sendable, CaseIterable, JSONSchemaEnum {
            case info, warning, critical
        }
        package struct Pattern: Codable, Sendable {
            package var pattern: String
            package var count: Int
        }
        package struct Evidence: Codable, Sendable {
            package var command: String
            package var keys: [String]
            package var sizes: [Int?]
            package var sizeKinds: [KeySizeKind]
            package var cost: Double?
            package var time: Int64?
            package var client: String?
            package var location: String
            package var note: String?
            package var estimatedMicroseconds: Double?
            /// A fact read from a server (audit), not a call.
            package var isServerFact: Bool { command.isEmpty && keys.isEmpty && client == nil }
        }
        package var rule: String
        package var severity: Severity
        package var title: String
        package var summary: String
        package var why: String
        package var fix: String
        package var count: Int
        package var cost: Double
        package var threshold: String?
        package var estimatedMicroseconds: Double
        package var patterns: [Pattern]
        package var evidence: [Evidence]
    }

    package static func items(_ findings: [Finding], options: ReportOptions) -> [Item] {
        findings.map { f in
            Item(rule: f.rule, severity: Item.Severity(rawValue: f.severity.description) ?? .info, title: f.title, summary: f.summary,
                 why: f.why, fix: f.fix, count: f.count, cost: f.cost, threshold: f.threshold, estimatedMicroseconds: f.estimatedMicroseconds,
                 patterns: f.patterns.map { Item.Pattern(pattern: options.pattern($0.pattern), count: $0.count) },
                 evidence: f.evidence.map { e in
                     Item.Evidence(command: e.command, keys: e.keys.map(options.key), sizes: e.sizes.map(\.count),
                                   sizeKinds: e.sizes.map(KeySizeKind.init), cost: e.cost, time: e.time,
                                   client: e.client, location: e.location, note: e.note.map(options.note),
                                   estimatedMicroseconds: e.estimatedMicroseconds)
                 })
        }
    }
}

/// Mermaid charts, which GitHub renders from a fenced `mermaid` block.
package enum Charts {
    /// A whole number for a chart, whatever its size (a cost past Int64.max trapped here).
    package static func chartNumber(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        return abs(value) < 1e15 ? String(Int64(value.rounded())) : String(format: "%.0f", value)
    }

    /// Cost share of the costliest commands, the rest as "other".
    package static func costShare(_ commands: [AnalysisReport.Command]) -> String {
        // Each call's elements once: a wrapper's slice is its own part, not the calls it ran.
        let known = commands.filter { $0.elementsInTotals > 0 }.sorted { $0.elementsInTotals > $1.elementsInTotals }
        guard known.count >= 2 else { return "" }
        var slices = known.prefix(7).map { ($0.name, $0.elementsInTotals) }
        let rest = known.dropFirst(7).reduce(0) { $0 + $1.elementsInTotals }
        if rest > 0 { slices.append(("other", rest)) }
        var out = "\n## Cost share by command\n\n```mermaid\npie showData\n    title Elements touched, by command\n"
        for (name, cost) in slices { out += "    \"\(name.replacingOccurrences(of: "\"", with: "'"))\" : \(chartNumber(cost))\n" }
        return out + "```\n"
    }

    /// Elements touched per time bucket (`AnalysisReport.CostOverTime`), as bars.
    package static func costOverTime(_ series: AnalysisReport.CostOverTime?) -> String {
        guard let series, series.cost.count >= 2 else { return "" }
        let bucket = series.bucketSeconds, start = series.start, bars = series.cost
        let span = UInt64(bitPattern: series.last &- series.first)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = bucket >= 86400 ? (span >= 365 * 86400 ? "yyyy-MM-dd" : "MM-dd") : bucket >= 60 ? "HH:mm" : "HH:mm:ss"
        let labels = bars.indices.map { "\"" + formatter.string(from: Date(timeIntervalSince1970: Double(start) + Double($0) * Double(bucket))) + "\"" }
        let unit = bucket == 1 ? "second" : bucket < 60 ? "\(bucket) s" : bucket < 3600 ? "\(bucket / 60) min" : bucket < 86400 ? "\(bucket / 3600) h" : "\(bucket / 86400) d"
        var out = "\n## Cost over time\n\n```mermaid\nxychart-beta\n    title \"Elements touched per \(unit) (UTC)\"\n"
        out += "    x-axis [\(labels.joined(separator: ", "))]\n    y-axis \"elements\"\n"
        out += "    bar [\(bars.map(chartNumber).joined(separator: ", "))]\n```\n"
        return out
    }
}
