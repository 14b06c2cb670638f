import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Whole-document reads of large JSON documents.
package struct JSONWholeDocumentRule: FindingRule {
    package static let id = "json-whole-document"
    package static let title = "Whole reads of large JSON documents"
    package static let severity = Finding.Severity.warning
    package static let why = "JSON.GET without a path, or with only the root, serializes the whole document on the server's thread: its cost grows with the document's size, however little of it the client uses."
    package static let fix = "Ask for the paths you need (JSON.GET key $.name $.address.city), or split a large document into several keys."
    /// Entries whose semantics say they return a JSON document at paths (`reads: document`).
    package static func watches(_ entry: CommandEntry) -> Bool { entry.semantics.reads == .document }
    package static let threshold: RuleThreshold? = RuleThreshold(10_000, "bytes of the document")
    package static let examples: [RuleExample] = [
        .fires("the whole of a 12 KB document", [.fill("ReJSON-RL", "doc", 1000), ExampleCall("JSON.GET", "doc")]),
        .fires("the root path of a 12 KB document", [.fill("ReJSON-RL", "doc", 1000), ExampleCall("JSON.GET", "doc", "$")]),
        .quiet("one path of a 12 KB document", [.fill("ReJSON-RL", "doc", 1000), ExampleCall("JSON.GET", "doc", "$.f7")]),
        .quiet("the whole of a small document", [.fill("ReJSON-RL", "doc", 10), ExampleCall("JSON.GET", "doc")]),
    ]

    package let limit: Double
    package var found = FindingBuilder()
    package init(threshold: Double) { limit = threshold }

    package mutating func observe(_ call: ObservedCall) {
        guard let bytes = call.documentBytes, Double(bytes) >= limit, readsWholeDocument(call) else { return }
        found.add(call, cost: Double(bytes), note: "\(grouped(bytes)) bytes")
    }

    /// JSON.GET key [INDENT s] [NEWLINE s] [SPACE s] [path …]: whole when no path, or only
    /// root paths, follow the options.
    private func readsWholeDocument(_ call: ObservedCall) -> Bool {
        guard let key = call.positions.first else { return false }
        var i = key + 1
        while i < call.argv.count {
            if call.argv.token(i, "INDENT") || call.argv.token(i, "NEWLINE") || call.argv.token(i, "SPACE") {
                i += 2
                continue
            }
            let path = call.argv[i]
            guard path.elementsEqual("$".utf8) || path.elementsEqual(".".utf8) else { return false }
            i += 1
        }
        return true
    }

    package func findings(in result: AnalysisResult, table: CommandTable) -> [Finding] {
        found.finding(Self.self, summary: "\(counted(found.count, "whole-document read")) of JSON documents of \(grouped(limit)) bytes or more; the largest \(grouped(found.worst)) bytes.",
                      threshold: "\(grouped(limit)) bytes").map { [$0] } ?? []
    }
}
