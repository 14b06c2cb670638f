import RedisCostCore

/// What a report's size number counts. The number alone (`0`, `12`, null) cannot tell a key
/// that does not exist from an empty one, or a string's bytes from a collection's elements;
/// the markdown says which (`0 (no key)`, `12 B`), and reads it from here.
package enum KeySizeKind: String, Codable, Sendable, CaseIterable, JSONSchemaEnum {
    case elements, bytes, missing, unknown

    package init(_ size: KeySize) {
        switch size {
        case .missing: self = .missing
        case .elements: self = .elements
        case .bytes: self = .bytes
        case .unknown: self = .unknown
        }
    }
}

extension Cost {
    /// Why the cost is unknown, for the reports' `unknownCostReason`; nil when it is known.
    package var unknownReason: String? {
        if case .unknown(let reason) = self { return reason }
        return nil
    }
}
