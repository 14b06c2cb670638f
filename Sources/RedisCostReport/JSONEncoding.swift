import RedisCostCore
import RedisCostKeyspace
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive

/// A report value on its way to JSON text: what `ReportEncoder` builds and `JSONText` writes.
/// Objects and arrays are boxes so that a container can keep filling one after handing it on.
package enum JSONNode {
    case null
    case bool(Bool)
    case int(Int64)
    case unsigned(UInt64)
    case number(Double)
    case string(String)
    case object(JSONObject)
    case array(JSONArray)
}

package final class JSONObject {
    package var members: [(key: String, value: JSONNode)] = []
    package init(_ members: [(key: String, value: JSONNode)] = []) { self.members = members }
}

package final class JSONArray {
    package var items: [JSONNode] = []
    package init(_ items: [JSONNode] = []) { self.items = items }
}

/// Marks a type whose `nil` is left out of the JSON instead of written as `null` (every other
/// optional is written as `null`, which scripts test for).
package protocol OmittedWhenNil {}

/// A value written as itself, but left out of its object when `nil` — for the one key whose
/// name depends on the input (a top call's `line` or `offset`) and for sections only some
/// inputs have.
package struct Omittable<Value: Codable & Sendable>: Codable, Sendable, OmittedWhenNil {
    package var value: Value
    package init(_ value: Value) { self.value = value }
    package init(from decoder: any Decoder) throws { value = try decoder.singleValueContainer().decode(Value.self) }
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}

/// Encodes report values into `JSONNode`s: a small `Encoder` of our own, as Foundation's
/// `JSONEncoder` writes `nil` by leaving the key out and formats numbers its own way.
package final class ReportEncoder: Encoder {
    package var codingPath: [any CodingKey] = []
    package var userInfo: [CodingUserInfoKey: Any] { [:] }
    package var node: JSONNode = .null

    package static func node<T: Encodable>(_ value: T) throws -> JSONNode {
        if let primitive = primitiveNode(value) { return primitive }
        let encoder = ReportEncoder()
        try value.encode(to: encoder)
        return encoder.node
    }

    /// Strings and numbers reached through a generic (an array's elements) without an encoder each.
    @inline(__always)
    package static func primitiveNode<T>(_ value: T) -> JSONNode? {
        switch value {
        case let v as String: .string(v)
        case let v as Int: .int(Int64(v))
        case let v as Double: .number(v)
        case let v as Bool: .bool(v)
        case let v as Int64: .int(v)
        default: nil
        }
    }

    package func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .object(let object) = node { return KeyedEncodingContainer(ObjectContainer(object: object)) }
        let object = JSONObject()
        node = .object(object)
        return KeyedEncodingContainer(ObjectContainer(object: object))
    }

    package func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .array(let array) = node { return ArrayContainer(array: array) }
        let array = JSONArray()
        node = .array(array)
        return ArrayContainer(array: array)
    }

    package func singleValueContainer() -> any SingleValueEncodingContainer { ValueContainer(encoder: self) }

    package struct ObjectContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
        package let object: JSONObject
        package var codingPath: [any CodingKey] { [] }

        private func put(_ node: JSONNode, _ key: Key) { object.members.append((key.stringValue, node)) }

        package mutating func encodeNil(forKey key: Key) throws { put(.null, key) }
        package mutating func encode(_ value: Bool, forKey key: Key) throws { put(.bool(value), key) }
        package mutating func encode(_ value: String, forKey key: Key) throws { put(.string(value), key) }
        package mutating func encode(_ value: Double, forKey key: Key) throws { put(.number(value), key) }
        package mutating func encode(_ value: Float, forKey key: Key) throws { put(.number(Double(value)), key) }
        package mutating func encode(_ value: Int, forKey key: Key) throws { put(.int(Int64(value)), key) }
        package mutating func encode(_ value: Int8, forKey key: Key) throws { put(.int(Int64(value)), key) }
        package mutating func encode(_ value: Int16, forKey key: Key) throws { put(.int(Int64(value)), key) }
        package mutating func encode(_ value: Int32, forKey key: Key) throws { put(.int(Int64(value)), key) }
        package mutating func encode(_ value: Int64, forKey key: Key) throws { put(.int(value), key) }
        package mutating func encode(_ value: UInt, forKey key: Key) throws { put(.unsigned(UInt64(value)), key) }
        package mutating func encode(_ value: UInt8, forKey key: Key) throws { put(.unsigned(UInt64(value)), key) }
        package mutating func encode(_ value: UInt16, forKey key: Key) throws { put(.unsigned(UInt64(value)), key) }
        package mutating func encode(_ value: UInt32, forKey key: Key) throws { put(.unsigned(UInt64(value)), key) }
        package mutating func encode(_ value: UInt64, forKey key: Key) throws { put(.unsigned(value), key) }
        package mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws { put(try ReportEncoder.node(value), key) }

        // `nil` is written as `null`, not left out: scripts test a field for null.
        package mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { put(value.map(JSONNode.bool) ?? .null, key) }
        package mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { put(value.map(JSONNode.string) ?? .null, key) }
        package mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { put(value.map(JSONNode.number) ?? .null, key) }
        package mutating func encodeIfPresent(_ value: Float?, forKey key: Key) throws { put(value.map { .number(Double($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { put(value.map { .int(Int64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: Int8?, forKey key: Key) throws { put(value.map { .int(Int64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: Int16?, forKey key: Key) throws { put(value.map { .int(Int64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: Int32?, forKey key: Key) throws { put(value.map { .int(Int64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: Int64?, forKey key: Key) throws { put(value.map(JSONNode.int) ?? .null, key) }
        package mutating func encodeIfPresent(_ value: UInt?, forKey key: Key) throws { put(value.map { .unsigned(UInt64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: UInt8?, forKey key: Key) throws { put(value.map { .unsigned(UInt64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: UInt16?, forKey key: Key) throws { put(value.map { .unsigned(UInt64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: UInt32?, forKey key: Key) throws { put(value.map { .unsigned(UInt64($0)) } ?? .null, key) }
        package mutating func encodeIfPresent(_ value: UInt64?, forKey key: Key) throws { put(value.map(JSONNode.unsigned) ?? .null, key) }
        package mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            guard let value else {
                if !(T.self is any OmittedWhenNil.Type) { put(.null, key) }
                return
            }
            put(try ReportEncoder.node(value), key)
        }

        package mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let nested = JSONObject()
            put(.object(nested), key)
            return KeyedEncodingContainer(ObjectContainer<NestedKey>(object: nested))
        }

        package mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let nested = JSONArray()
            put(.array(nested), key)
            return ArrayContainer(array: nested)
        }

        package mutating func superEncoder() -> any Encoder { superEncoder(named: "super") }
        package mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(named: key.stringValue) }
        private func superEncoder(named name: String) -> any Encoder {
            let encoder = ReportEncoder()
            let nested = JSONObject()
            encoder.node = .object(nested)
            object.members.append((name, .object(nested)))
            return encoder
        }
    }

    package struct ArrayContainer: UnkeyedEncodingContainer {
        package let array: JSONArray
        package var codingPath: [any CodingKey] { [] }
        package var count: Int { array.items.count }

        package mutating func encodeNil() throws { array.items.append(.null) }
        package mutating func encode(_ value: Bool) throws { array.items.append(.bool(value)) }
        package mutating func encode(_ value: String) throws { array.items.append(.string(value)) }
        package mutating func encode(_ value: Double) throws { array.items.append(.number(value)) }
        package mutating func encode(_ value: Float) throws { array.items.append(.number(Double(value))) }
        package mutating func encode(_ value: Int) throws { array.items.append(.int(Int64(value))) }
        package mutating func encode(_ value: Int8) throws { array.items.append(.int(Int64(value))) }
        package mutating func encode(_ value: Int16) throws { array.items.append(.int(Int64(value))) }
        package mutating func encode(_ value: Int32) throws { array.items.append(.int(Int64(value))) }
        package mutating func encode(_ value: Int64) throws { array.items.append(.int(Int64(value))) }
        package mutating func encode(_ value: UInt) throws { array.items.append(.unsigned(UInt64(value))) }
        package mutating func encode(_ value: UInt8) throws { array.items.append(.unsigned(UInt64(value))) }
        package mutating func encode(_ value: UInt16) throws { array.items.append(.unsigned(UInt64(value))) }
        package mutating func encode(_ value: UInt32) throws { array.items.append(.unsigned(UInt64(value))) }
        package mutating func encode(_ value: UInt64) throws { array.items.append(.unsigned(UInt64(value))) }
        package mutating func encode<T: Encodable>(_ value: T) throws { array.items.append(try ReportEncoder.node(value)) }

        package mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let nested = JSONObject()
            array.items.append(.object(nested))
            return KeyedEncodingContainer(ObjectContainer<NestedKey>(object: nested))
        }

        package mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let nested = JSONArray()
            array.items.append(.array(nested))
            return ArrayContainer(array: nested)
        }

        package mutating func superEncoder() -> any Encoder {
            let encoder = ReportEncoder()
            let nested = JSONObject()
            encoder.node = .object(nested)
            array.items.append(.object(nested))
            return encoder
        }
    }

    package struct ValueContainer: SingleValueEncodingContainer {
        package let encoder: ReportEncoder
        package var codingPath: [any CodingKey] { [] }

        package mutating func encodeNil() throws { encoder.node = .null }
        package mutating func encode(_ value: Bool) throws { encoder.node = .bool(value) }
        package mutating func encode(_ value: String) throws { encoder.node = .string(value) }
        package mutating func encode(_ value: Double) throws { encoder.node = .number(value) }
        package mutating func encode(_ value: Float) throws { encoder.node = .number(Double(value)) }
        package mutating func encode(_ value: Int) throws { encoder.node = .int(Int64(value)) }
        package mutating func encode(_ value: Int8) throws { encoder.node = .int(Int64(value)) }
        package mutating func encode(_ value: Int16) throws { encoder.node = .int(Int64(value)) }
        package mutating func encode(_ value: Int32) throws { encoder.node = .int(Int64(value)) }
        package mutating func encode(_ value: Int64) throws { encoder.node = .int(value) }
        package mutating func encode(_ value: UInt) throws { encoder.node = .unsigned(UInt64(value)) }
        package mutating func encode(_ value: UInt8) throws { encoder.node = .unsigned(UInt64(value)) }
        package mutating func encode(_ value: UInt16) throws { encoder.node = .unsigned(UInt64(value)) }
        package mutating func encode(_ value: UInt32) throws { encoder.node = .unsigned(UInt64(value)) }
        package mutating func encode(_ value: UInt64) throws { encoder.node = .unsigned(value) }
        package mutating func encode<T: Encodable>(_ value: T) throws { encoder.node = try ReportEncoder.node(value) }
    }
}
