import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// The JSON Schema of the reports, made from their types: each report type is decoded once by
/// `SchemaRecorder`, a `Decoder` that notes every field it is asked for and its type, so a field
/// added to a type is in the schema without anyone writing it there.
public enum ReportSchema {
    /// Raised with every change that renames or removes a field or changes its meaning.
    public static let version = 1

    /// The reports, each a `$defs` entry; a report is exactly one of them.
    package static let reports: [(name: String, type: any Decodable.Type)] = [
        ("analysis", AnalysisReport.Document.self), ("audit", AuditReport.Document.self),
        ("auditCluster", AuditReport.ClusterDocument.self), ("explain", ExplainReport.Document.self),
        ("table", [TableReport.Entry].self), ("rules", [RulesReport.Rule].self),
    ]

    /// `Data/report.schema.json`.
    public static func json() -> String {
        let registry = SchemaRegistry()
        var roots: [(String, SchemaShape)] = []
        for (name, type) in reports {
            roots.append((name, registry.shape(of: type, asDefinition: name)))
        }
        var defs = registry.definitions
        // A named report type is in `$defs` already, under its own name.
        for (name, shape) in roots {
            if case .reference(name) = shape { continue }
            defs[name] = shape
        }
        let document = JSONObject([
            ("$schema", .string("https://json-schema.org/draft/2020-12/schema")),
            ("title", .string("redis-cost JSON report")),
            ("description", .string("What `redis-cost … --format json` writes: analyze and monitor (analysis), audit, audit --cluster (auditCluster), explain, table, rules. "
                + "Fields are added, never renamed or removed without a new schemaVersion.")),
            ("oneOf", .array(JSONArray(roots.map { name, _ in SchemaShape.reference(name).node }))),
            ("$defs", .object(JSONObject(defs.map { ($0.key, $0.value.node) }))),
        ])
        return JSONText.render(.object(document))
    }
}

/// `schemaVersion` in every report that is an object: the constant `ReportSchema.version`.
package struct ReportSchemaVersion: Codable, Sendable, JSONSchemaConstant {
    package static var schemaConstant: Int { ReportSchema.version }
    package init() {}
    package init(from decoder: any Decoder) throws {
        let value = try decoder.singleValueContainer().decode(Int.self)
        guard value == Self.schemaConstant else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "schemaVersion \(value), not \(Self.schemaConstant)"))
        }
    }
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Self.schemaConstant)
    }
}

/// A type the schema names in `$defs` (and refers to), instead of writing it out where it is used.
package protocol JSONSchemaNamed { static var schemaName: String { get } }

/// A string enum: the schema lists its values.
package protocol JSONSchemaEnum: CaseIterable, RawRepresentable where RawValue == String {}

/// An integer that is always the same (`schemaVersion`).
package protocol JSONSchemaConstant { static var schemaConstant: Int { get }; init() }

/// A type whose fields the schema explains, for a field whose meaning its name and type do not say.
package protocol JSONSchemaDescribed { static var fieldDescriptions: [String: String] { get } }

/// An object, or this one string in its place (a key spec's `unknown`).
package protocol JSONSchemaOrConstant { static var schemaConstant: String { get } }

/// What the schema says of one value.
package indirect enum SchemaShape {
    package struct Property {
        package var name: String
        package var shape: SchemaShape
        /// Absent when nil (`OmittedWhenNil`) rather than written as null.
        package var required: Bool
        package var description: String? = nil
    }
    case string, integer, number, boolean
    case constant(Int)
    case oneOfStrings([String])
    case array(SchemaShape)
    case object([Property])
    /// `[String: V]`: any key, each value a V.
    case dictionary(SchemaShape)
    case nullable(SchemaShape)
    case reference(String)
    case objectOrString(SchemaShape, String)
    /// Nothing was asked of the decoder (an empty value).
    case anything

    package var node: JSONNode {
        func object(_ members: [(key: String, value: JSONNode)]) -> JSONNode { .object(JSONObject(members)) }
        func type(_ name: String) -> JSONNode { object([("type", .string(name))]) }
        switch self {
        case .string: return type("string")
        case .integer: return type("integer")
        case .number: return type("number")
        case .boolean: return type("boolean")
        case .constant(let value): return object([("type", .string("integer")), ("const", .int(Int64(value)))])
        case .oneOfStrings(let values): return object([("type", .string("string")), ("enum", .array(JSONArray(values.map(JSONNode.string))))])
        case .array(let items): return object([("type", .string("array")), ("items", items.node)])
        case .object(let properties):
            return object([
                ("type", .string("object")),
                ("properties", object(properties.map { property in
                    var node = property.shape.node
                    if let text = property.description, case .object(let members) = node {
                        node = .object(JSONObject(members.members + [("description", .string(text))]))
                    }
                    return (property.name, node)
                })),
                ("required", .array(JSONArray(properties.filter(\.required).map(\.name).sorted().map(JSONNode.string)))),
                ("additionalProperties", .bool(false)),
            ])
        case .dictionary(let values): return object([("type", .string("object")), ("additionalProperties", values.node)])
        case .reference(let name): return object([("$ref", .string("#/$defs/\(name)"))])
        case .objectOrString(let shape, let text): return object([("oneOf", .array(JSONArray([shape.node, object([("const", .string(text))])])))])
        case .anything: return object([])
        case .nullable(let shape):
            // `"type": [T, "null"]` where the shape has one type; otherwise one of it or null.
            guard case .object(let members) = shape.node, let index = members.members.firstIndex(where: { $0.key == "type" }),
                  case .string(let name) = members.members[index].value, !members.members.contains(where: { $0.key == "const" || $0.key == "enum" })
            else { return object([("oneOf", .array(JSONArray([shape.node, type("null")])))]) }
            members.members[index].value = .array(JSONArray([.string(name), .string("null")]))
            return .object(members)
        }
    }
}

/// The named shapes met while recording (`$defs`).
package final class SchemaRegistry {
    package var definitions: [String: SchemaShape] = [:]

    package func shape(of type: any Decodable.Type, asDefinition name: String? = nil) -> SchemaShape {
        func record<T: Decodable>(_ type: T.Type) -> SchemaShape { (try? value(of: type))?.shape ?? .anything }
        return record(type)
    }

    /// A value of `type` decoded from nothing, and what its decoding asked for.
    package func value<T: Decodable>(of type: T.Type) throws -> (value: T, shape: SchemaShape) {
        if let value = Self.primitive(type) { return value }
        if let constant = T.self as? any JSONSchemaConstant.Type {
            return (constant.init() as! T, .constant(constant.schemaConstant))
        }
        if let enumeration = T.self as? any JSONSchemaEnum.Type {
            func cases<E: JSONSchemaEnum>(_ e: E.Type) -> (Any, [String]) { (e.allCases.first!, e.allCases.map(\.rawValue)) }
            let (first, names) = cases(enumeration)
            return (first as! T, .oneOfStrings(names))
        }
        let recorder = SchemaRecorder(registry: self)
        let value = try T(from: recorder)
        var shape = recorder.shape
        if let described = T.self as? any JSONSchemaDescribed.Type, case .object(var properties) = shape {
            for index in properties.indices { properties[index].description = described.fieldDescriptions[properties[index].name] }
            shape = .object(properties)
        }
        if recorder.nullable { shape = .nullable(shape) }
        if let alternative = T.self as? any JSONSchemaOrConstant.Type { shape = .objectOrString(shape, alternative.schemaConstant) }
        if let named = T.self as? any JSONSchemaNamed.Type {
            definitions[named.schemaName] = shape
            return (value, .reference(named.schemaName))
        }
        return (value, shape)
    }

    package static func primitive<T>(_ type: T.Type) -> (value: T, shape: SchemaShape)? {
        switch type {
        case is String.Type: ("" as! T, .string)
        case is Bool.Type: (false as! T, .boolean)
        case is Double.Type: (0.0 as! T, .number)
        case is Float.Type: (Float(0) as! T, .number)
        case is Int.Type: (0 as! T, .integer)
        case is Int64.Type: (Int64(0) as! T, .integer)
        case is Int32.Type: (Int32(0) as! T, .integer)
        case is UInt64.Type: (UInt64(0) as! T, .integer)
        case is Int8.Type: (Int8(0) as! T, .integer)
        case is Int16.Type: (Int16(0) as! T, .integer)
        case is UInt.Type: (UInt(0) as! T, .integer)
        case is UInt8.Type: (UInt8(0) as! T, .integer)
        case is UInt16.Type: (UInt16(0) as! T, .integer)
        case is UInt32.Type: (UInt32(0) as! T, .integer)
        default: nil
        }
    }
}

/// A `Decoder` that decodes nothing but records what is asked of it: each key with its type,
/// whether it may be null, arrays' items, and dictionaries (a keyed container whose keys take
/// any string is given one key, whose value becomes `additionalProperties`).
package final class SchemaRecorder: Decoder {
    package let registry: SchemaRegistry
    package var shape: SchemaShape = .anything
    package var nullable = false
    package var codingPath: [any CodingKey] = []
    package var userInfo: [CodingUserInfoKey: Any] { [:] }

    package init(registry: SchemaRegistry) { self.registry = registry }

    package final class ObjectRecord {
        package var properties: [SchemaShape.Property] = []
        package var dictionaryValue: SchemaShape?
    }

    package final class ArrayRecord { var items: SchemaShape = .anything }

    private var objectRecord: ObjectRecord?
    private var arrayRecord: ArrayRecord?

    package func finish() {
        if let record = objectRecord { shape = record.dictionaryValue.map(SchemaShape.dictionary) ?? .object(record.properties) }
        if let record = arrayRecord { shape = .array(record.items) }
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        let record = ObjectRecord()
        objectRecord = record
        shape = .object([])
        return KeyedDecodingContainer(Keyed<Key>(recorder: self, record: record))
    }

    package func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let record = ArrayRecord()
        arrayRecord = record
        shape = .array(.anything)
        return Unkeyed(recorder: self, record: record)
    }

    package func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(recorder: self) }

    package struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
        package let recorder: SchemaRecorder
        package let record: ObjectRecord
        package var codingPath: [any CodingKey] { [] }

        /// One key when any string is a key (a dictionary); none for a type's own coding keys.
        package var allKeys: [Key] { Key(stringValue: "\u{1}any key").map { [$0] } ?? [] }
        package func contains(_ key: Key) -> Bool { true }
        package func decodeNil(forKey key: Key) throws -> Bool { false }

        private func note<T: Decodable>(_ type: T.Type, _ key: Key, nullable: Bool) throws -> T {
            defer { recorder.finish() }
            let (value, shape) = try recorder.registry.value(of: type)
            if key.stringValue == "\u{1}any key" {
                record.dictionaryValue = nullable ? .nullable(shape) : shape
            } else {
                let required = !(nullable && T.self is any OmittedWhenNil.Type)
                record.properties.append(.init(name: key.stringValue, shape: nullable && required ? .nullable(shape) : shape, required: required))
            }
            return value
        }

        package func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T { try note(type, key, nullable: false) }
        package func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? { try note(type, key, nullable: true) }
        package func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try note(type, key, nullable: false) }
        package func decode(_ type: String.Type, forKey key: Key) throws -> String { try note(type, key, nullable: false) }
        package func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try note(type, key, nullable: false) }
        package func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try note(type, key, nullable: false) }
        package func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try note(type, key, nullable: false) }
        package func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try note(type, key, nullable: false) }
        package func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try note(type, key, nullable: false) }
        package func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try note(type, key, nullable: false) }
        package func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try note(type, key, nullable: false) }
        package func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try note(type, key, nullable: false) }
        package func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try note(type, key, nullable: false) }
        package func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try note(type, key, nullable: false) }
        package func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try note(type, key, nullable: false) }
        package func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try note(type, key, nullable: false) }
        package func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try note(type, key, nullable: true) }
        package func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try note(type, key, nullable: true) }

        package func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch(type, .init(codingPath: [key], debugDescription: "report types use no nested containers"))
        }
        package func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([String].self, .init(codingPath: [key], debugDescription: "report types use no nested containers"))
        }
        package func superDecoder() throws -> any Decoder { recorder }
        package func superDecoder(forKey key: Key) throws -> any Decoder { recorder }
    }

    /// An array of one item: its decoding says what every item is.
    package struct Unkeyed: UnkeyedDecodingContainer {
        package let recorder: SchemaRecorder
        package let record: ArrayRecord
        package var codingPath: [any CodingKey] { [] }
        package var count: Int? { 1 }
        package var currentIndex = 0
        package var isAtEnd: Bool { currentIndex > 0 }

        package mutating func decodeNil() throws -> Bool { false }
        package mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decode(type, generic: ()) }
        private mutating func decode<T: Decodable>(_ type: T.Type, generic: Void) throws -> T {
            defer { recorder.finish() }
            currentIndex += 1
            let (value, shape) = try recorder.registry.value(of: type)
            record.items = shape
            return value
        }
        package mutating func decode(_ type: Bool.Type) throws -> Bool { try decode(type as Bool.Type, generic: ()) }
        package mutating func decode(_ type: String.Type) throws -> String { try decode(type as String.Type, generic: ()) }
        package mutating func decode(_ type: Double.Type) throws -> Double { try decode(type as Double.Type, generic: ()) }
        package mutating func decode(_ type: Float.Type) throws -> Float { try decode(type as Float.Type, generic: ()) }
        package mutating func decode(_ type: Int.Type) throws -> Int { try decode(type as Int.Type, generic: ()) }
        package mutating func decode(_ type: Int8.Type) throws -> Int8 { try decode(type as Int8.Type, generic: ()) }
        package mutating func decode(_ type: Int16.Type) throws -> Int16 { try decode(type as Int16.Type, generic: ()) }
        package mutating func decode(_ type: Int32.Type) throws -> Int32 { try decode(type as Int32.Type, generic: ()) }
        package mutating func decode(_ type: Int64.Type) throws -> Int64 { try decode(type as Int64.Type, generic: ()) }
        package mutating func decode(_ type: UInt.Type) throws -> UInt { try decode(type as UInt.Type, generic: ()) }
        package mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(type as UInt8.Type, generic: ()) }
        package mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(type as UInt16.Type, generic: ()) }
        package mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(type as UInt32.Type, generic: ()) }
        package mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(type as UInt64.Type, generic: ()) }
        package mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
            throw DecodingError.typeMismatch(type, .init(codingPath: [], debugDescription: "report types use no nested containers"))
        }
        package mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
            throw DecodingError.typeMismatch([String].self, .init(codingPath: [], debugDescription: "report types use no nested containers"))
        }
        package mutating func superDecoder() throws -> any Decoder { recorder }
    }

    package struct Single: SingleValueDecodingContainer {
        package let recorder: SchemaRecorder
        package var codingPath: [any CodingKey] { [] }

        /// Asked by `Optional`: the value may be null.
        package func decodeNil() -> Bool {
            recorder.nullable = true
            return false
        }
        package func decode<T: Decodable>(_ type: T.Type) throws -> T { try decode(type, generic: ()) }
        private func decode<T: Decodable>(_ type: T.Type, generic: Void) throws -> T {
            let (value, shape) = try recorder.registry.value(of: type)
            recorder.shape = shape
            return value
        }
        package func decode(_ type: Bool.Type) throws -> Bool { try decode(type, generic: ()) }
        package func decode(_ type: String.Type) throws -> String { try decode(type, generic: ()) }
        package func decode(_ type: Double.Type) throws -> Double { try decode(type, generic: ()) }
        package func decode(_ type: Float.Type) throws -> Float { try decode(type, generic: ()) }
        package func decode(_ type: Int.Type) throws -> Int { try decode(type, generic: ()) }
        package func decode(_ type: Int8.Type) throws -> Int8 { try decode(type, generic: ()) }
        package func decode(_ type: Int16.Type) throws -> Int16 { try decode(type, generic: ()) }
        package func decode(_ type: Int32.Type) throws -> Int32 { try decode(type, generic: ()) }
        package func decode(_ type: Int64.Type) throws -> Int64 { try decode(type, generic: ()) }
        package func decode(_ type: UInt.Type) throws -> UInt { try decode(type, generic: ()) }
        package func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(type, generic: ()) }
        package func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(type, generic: ()) }
        package func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(type, generic: ()) }
        package func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(type, generic: ()) }
    }
}
