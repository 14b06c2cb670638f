import Foundation
import Testing

/// A JSON document, read with `Decodable` for validation.
indirect enum JSONValue: Decodable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let n = try? container.decode(Int64.self) {
            self = .integer(n)
        } else if let n = try? container.decode(Double.self) {
            self = .number(n)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let items = try? container.decode([JSONValue].self) {
            self = .array(items)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    static func parse(_ text: String) throws -> JSONValue { try JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    /// 1 and 1.0 are the same number.
    static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.integer(let x), .integer(let y)): x == y
        case (.integer(let x), .number(let y)), (.number(let y), .integer(let x)): Double(x) == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        default: false
        }
    }

    var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .integer: "integer"
        case .number: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }
}

/// The part of JSON Schema (draft 2020-12) that Data/report.schema.json uses: `type` (one or a
/// list, `null` included), `properties`, `required`, `additionalProperties`, `items`, `const`,
/// `enum`, `oneOf`, and `$ref` to `#/$defs/…`. Any other keyword is an error, so the schema
/// cannot say more than is checked.
struct JSONSchemaValidator: Sendable {
    let root: JSONValue
    static let annotations: Set<String> = ["$schema", "$id", "$defs", "title", "description"]

    init(schema: JSONValue) { root = schema }
    init(schemaText: String) throws { root = try JSONValue.parse(schemaText) }

    /// Every way the document breaks the schema, each with the path to the value; empty if it is valid.
    func errors(_ document: JSONValue) -> [String] { errors(document, root, "$") }

    /// `references`: how many `$ref`s led here without a step into the value (a loop is an error, not a crash).
    func errors(_ value: JSONValue, _ schema: JSONValue, _ path: String, references: Int = 0) -> [String] {
        if case .bool(let allowed) = schema { return allowed ? [] : ["\(path): no value is allowed here"] }
        guard case .object(let keywords) = schema else { return ["\(path): the schema is not an object"] }
        var found: [String] = []
        for (keyword, argument) in keywords.sorted(by: { $0.key < $1.key }) {
            switch (keyword, argument) {
            case _ where Self.annotations.contains(keyword): continue
            case ("$ref", .string(let reference)):
                guard reference.hasPrefix("#/$defs/"), case .object(let root) = root, case .object(let defs)? = root["$defs"],
                      let target = defs[String(reference.dropFirst(8))]
                else { found.append("\(path): unresolved $ref \(reference)"); continue }
                guard references < 32 else { found.append("\(path): $ref \(reference) loops"); continue }
                found += errors(value, target, path, references: references + 1)
            case ("type", .string(let name)):
                if !Self.matches(value, type: name) { found.append("\(path): \(value.typeName), expected \(name)") }
            case ("type", .array(let names)):
                let list = names.compactMap { if case .string(let name) = $0 { name } else { nil } }
                if !list.contains(where: { Self.matches(value, type: $0) }) {
                    found.append("\(path): \(value.typeName), expected one of \(list.joined(separator: ", "))")
                }
            case ("const", let expected):
                if value != expected { found.append("\(path): not the constant \(expected)") }
            case ("enum", .array(let allowed)):
                if !allowed.contains(value) { found.append("\(path): \(value) is none of the allowed values") }
            case ("properties", .object(let properties)):
                guard case .object(let members) = value else { continue }
                for (name, subschema) in properties.sorted(by: { $0.key < $1.key }) {
                    if let member = members[name] { found += errors(member, subschema, "\(path).\(name)") }
                }
            case ("required", .array(let names)):
                guard case .object(let members) = value else { continue }
                for case .string(let name) in names where members[name] == nil { found.append("\(path): lacks the required \(name)") }
            case ("additionalProperties", let subschema):
                guard case .object(let members) = value else { continue }
                var declared: [String: JSONValue] = [:]
                if case .object(let properties)? = keywords["properties"] { declared = properties }
                for (name, member) in members.sorted(by: { $0.key < $1.key }) where declared[name] == nil {
                    if case .bool(false) = subschema {
                        found.append("\(path): \(name) is not in the schema")
                    } else {
                        found += errors(member, subschema, "\(path).\(name)")
                    }
                }
            case ("items", let subschema):
                guard case .array(let items) = value else { continue }
                for (index, item) in items.enumerated() { found += errors(item, subschema, "\(path)[\(index)]") }
            case ("oneOf", .array(let alternatives)):
                let results = alternatives.map { errors(value, $0, path) }
                let passing = results.filter(\.isEmpty).count
                if passing == 0 {
                    // The alternative that came closest says best what is wrong.
                    found += results.min { $0.count < $1.count } ?? ["\(path): oneOf without alternatives"]
                } else if passing > 1 {
                    found.append("\(path): matches \(passing) alternatives of oneOf, not exactly one")
                }
            default:
                found.append("\(path): the validator does not support the schema keyword \(keyword) as given")
            }
        }
        return found
    }

    static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object): true
        case ("integer", .integer), ("number", .integer), ("number", .number): true
        case ("integer", .number(let n)): n == n.rounded()
        default: false
        }
    }
}

/// A JSON report read back into the type it was written from.
func decodeReport<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
}

/// Data/report.schema.json, the schema the reports promise.
let reportSchemaValidator: JSONSchemaValidator? = {
    guard let text = try? String(contentsOf: packageRoot.appendingPathComponent("Data/report.schema.json"), encoding: .utf8) else { return nil }
    return try? JSONSchemaValidator(schemaText: text)
}()

/// The commands whose `--format json` output is a report the schema describes.
let reportCommands: Set<String> = ["analyze", "monitor", "audit", "explain", "table", "rules"]

/// Whether `arguments` ask a report command for JSON.
func asksForJSONReport(_ arguments: [String]) -> Bool {
    guard let command = arguments.first, reportCommands.contains(command) else { return false }
    if arguments.contains("--format=json") { return true }
    return zip(arguments, arguments.dropFirst()).contains { $0 == "--format" && $1 == "json" }
}

/// Records an issue for each way a JSON report breaks Data/report.schema.json.
func expectValidReport(_ text: String, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let validator = reportSchemaValidator else {
        Issue.record("Data/report.schema.json is missing or unreadable", sourceLocation: sourceLocation)
        return
    }
    let document: JSONValue
    do {
        document = try JSONValue.parse(text)
    } catch {
        Issue.record("\(what): not JSON (\(error))", sourceLocation: sourceLocation)
        return
    }
    let found = validator.errors(document)
    if !found.isEmpty {
        Issue.record("\(what) breaks Data/report.schema.json: \(found.prefix(10).joined(separator: "; "))", sourceLocation: sourceLocation)
    }
}
