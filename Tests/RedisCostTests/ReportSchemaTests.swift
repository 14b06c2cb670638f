import Foundation
import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// Data/report.schema.json is made from the report types, and every kind of JSON report keeps to it.
@Suite struct ReportSchemaTests {
    static let schemaFile = packageRoot.appendingPathComponent("Data/report.schema.json")

    @Test("the committed schema is the one the report types make (REDIS_COST_UPDATE_SCHEMA=1 rewrites it)")
    func schemaIsGeneratedFromTheTypes() throws {
        let generated = ReportSchema.json()
        if ProcessInfo.processInfo.environment["REDIS_COST_UPDATE_SCHEMA"] == "1" {
            try generated.write(to: Self.schemaFile, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOf: Self.schemaFile, encoding: .utf8)
        #expect(committed == generated, "Data/report.schema.json is stale: REDIS_COST_UPDATE_SCHEMA=1 swift test --filter ReportSchemaTests")
        let schema = try JSONValue.parse(generated)
        guard case .object(let root) = schema, case .object(let defs)? = root["$defs"] else {
            Issue.record("the schema has no $defs")
            return
        }
        for kind in ["analysis", "audit", "auditCluster", "explain", "table", "rules", "finding"] { #expect(defs[kind] != nil, "no $defs/\(kind)") }
        // The fields scripts read are there, and every object report carries its version.
        guard case .object(let analysis)? = defs["analysis"], case .object(let properties)? = analysis["properties"] else {
            Issue.record("$defs/analysis has no properties")
            return
        }
        for field in ["schemaVersion", "input", "totals", "commands", "topCalls", "patterns", "clients", "findings", "live", "snapshots", "dataset"] {
            #expect(properties[field] != nil, "analysis lacks \(field)")
        }
        guard case .object(let version)? = properties["schemaVersion"] else {
            Issue.record("analysis has no schemaVersion")
            return
        }
        #expect(version["type"] == .string("integer") && version["const"] == .integer(1))
    }

    @Test("a JSON report of every command keeps to the schema",
          arguments: [
              ["analyze", "runs/redis-7.0.15/appendonlydir"], ["analyze", "runs/redis-8.2.3/dump.rdb"],
              ["analyze", "runs/valkey-9.1.2/monitor.txt"], ["analyze", "runs/redis-7.0.15/monitor.txt", "--baseline", "runs/redis-7.0.15/dump.rdb"],
              ["analyze", "runs/redis-8.2.3/monitor.txt", "--redact-keys"],
              ["explain", "ZADD", "k", "1", "a"], ["explain", "SORT", "k", "BY", "w:*"], ["table"], ["rules"],
          ])
    func reportsValidate(arguments: [String]) throws {
        let resolved = arguments.map { $0.hasPrefix("runs/") ? fixturesRoot.appendingPathComponent($0).path : $0 }
        let run = try runCLI(resolved + ["--format", "json"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.stdout.isEmpty)
        // runCLI validated it; say so once more where the arguments show.
        expectValidReport(run.stdout, arguments.joined(separator: " "))
        if ["analyze", "explain"].contains(arguments[0]) { #expect(run.stdout.contains("\"schemaVersion\" : 1")) }
        // And each reads back into the type it was written from, with the same text when written again.
        switch arguments[0] {
        case "analyze": #expect(JSONText.render(try decodeReport(AnalysisReport.Document.self, run.stdout)) == run.stdout)
        case "explain": #expect(JSONText.render(try decodeReport(ExplainReport.Document.self, run.stdout)) == run.stdout)
        case "table": #expect(JSONText.render(try decodeReport([TableReport.Entry].self, run.stdout)) == run.stdout)
        default: #expect(JSONText.render(try decodeReport([RulesReport.Rule].self, run.stdout)) == run.stdout)
        }
    }

    @Test("a real report with a field renamed, dropped or of another type breaks the schema")
    func brokenReportsFail() throws {
        let run = try runCLI(["analyze", fixturesRoot.appendingPathComponent("runs/redis-7.0.15/monitor.txt").path, "--format", "json"])
        let validator = try #require(reportSchemaValidator)
        #expect(validator.errors(try JSONValue.parse(run.stdout)) == [])
        for (from, to) in [("\"totals\" :", "\"totalz\" :"), ("\"schemaVersion\" : 1", "\"schemaVersion\" : 2"),
                           ("\"line\" :", "\"offset\" : \"x\", \"lines\" :"), ("\"calls\" : ", "\"calls\" : -0.5 + ")] {
            let broken = run.stdout.replacingOccurrences(of: from, with: to)
            #expect(broken != run.stdout)
            let document = try? JSONValue.parse(broken.replacingOccurrences(of: "-0.5 + ", with: "\"many\", \"x\": "))
            #expect(!validator.errors(try #require(document)).isEmpty, "\(from) → \(to) still validates")
        }
    }

    @Test("audit and a short monitor session on a real server keep to the schema")
    func liveReportsValidate() throws {
        let server = try TestServer(.redis7)
        _ = try server.connect().pipeline([["RPUSH", "l"] + (1...50).map(String.init), ["SET", "s", "v"]])
        let audit = try runCLI(["audit", "-p", String(server.port), "--format", "json"])
        #expect(audit.status == 0, "\(audit.stderr)")
        expectValidReport(audit.stdout, "audit")
        #expect(audit.stdout.contains("\"schemaVersion\" : 1"))
        let monitor = try runCLI(["monitor", "-p", String(server.port), "--duration", "300ms", "--format", "json"])
        #expect(monitor.status == 0, "\(monitor.stderr)")
        expectValidReport(monitor.stdout, "monitor")
        #expect(monitor.stdout.contains("\"live\" : {"))
    }

    static let schema = JSONValue.object([
        "$defs": .object(["point": .object([
            "type": .string("object"), "required": .array([.string("x")]), "additionalProperties": .bool(false),
            "properties": .object(["x": .object(["type": .string("integer")]), "label": .object(["type": .array([.string("string"), .string("null")])]),
                                   "kind": .object(["enum": .array([.string("a"), .string("b")])])]),
        ])]),
        "oneOf": .array([
            .object(["$ref": .string("#/$defs/point")]),
            .object(["type": .string("array"), "items": .object(["$ref": .string("#/$defs/point")])]),
            .object(["type": .string("object"), "required": .array([.string("v")]),
                     "properties": .object(["v": .object(["const": .integer(1)])]), "additionalProperties": .object(["type": .string("number")])]),
        ]),
    ])

    @Test("the validator accepts what the schema allows",
          arguments: [#"{"x": 1}"#, #"{"x": 2, "label": null, "kind": "b"}"#, #"{"x": 2.0, "label": "p"}"#, #"[{"x": 1}, {"x": 2}]"#,
                      #"{"v": 1, "w": 2.5}"#, #"[]"#] as [String])
    func validatorAccepts(document: String) throws {
        // `[]` is an array of points and nothing else; `{"x": 1}` a point only.
        #expect(JSONSchemaValidator(schema: Self.schema).errors(try JSONValue.parse(document)) == [])
    }

    @Test("the validator refuses what the schema does not allow",
          arguments: [#"{"x": 1.5}"#, #"{"label": "p"}"#, #"{"x": 1, "y": 2}"#, #"{"x": 1, "label": 3}"#, #"{"x": 1, "kind": "c"}"#,
                      #"[{"x": 1}, {"x": "1"}]"#, #"{"v": 2}"#, #"{"v": 1, "w": "text"}"#, #""text""#, #"null"#, #"{"x": 1, "v": 1, "w": "s"}"#] as [String])
    func validatorRefuses(document: String) throws {
        #expect(!JSONSchemaValidator(schema: Self.schema).errors(try JSONValue.parse(document)).isEmpty)
    }

    @Test("a keyword the validator does not know is an error, not a silent pass")
    func unknownKeyword() throws {
        let schema = JSONValue.object(["type": .string("string"), "pattern": .string("^a")])
        #expect(!JSONSchemaValidator(schema: schema).errors(.string("b")).isEmpty)
    }
}
