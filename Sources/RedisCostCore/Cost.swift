import Foundation

/// The size of one key a call touches, as known before the call.
public enum KeySize: Sendable, Equatable, Hashable {
    /// The key does not exist (size 0).
    case missing
    /// A collection (list, set, sorted set, hash, stream, …) of this many elements.
    case elements(Int)
    /// A string of this many bytes (STRLEN).
    case bytes(Int)
    /// Nobody told us: never treated as zero.
    case unknown

    /// The size as the final-state files and reports give it: elements, or bytes for a string.
    public var count: Int? {
        switch self {
        case .missing: 0
        case .elements(let n), .bytes(let n): n
        case .unknown: nil
        }
    }

    /// Allocations to free or copy: a string is one, however long (DEL, COPY, DUMP).
    public var items: Int? {
        switch self {
        case .missing: 0
        case .elements(let n): n
        case .bytes: 1
        case .unknown: nil
        }
    }
}

/// The estimated cost of one call, in elements touched (the N of the documented complexity).
public enum Cost: Sendable, Equatable, CustomStringConvertible {
    case exact(Double)
    /// The formula could only bound it (e.g. a ZRANGEBYSCORE without LIMIT returns at most N).
    case atMost(Double)
    case unknown(reason: String)

    public var value: Double? {
        switch self {
        case .exact(let v), .atMost(let v): v
        case .unknown: nil
        }
    }

    public var isUpperBound: Bool {
        if case .atMost = self { return true }
        return false
    }

    public var description: String {
        switch self {
        case .exact(let v): formatCost(v)
        case .atMost(let v): "≤ " + formatCost(v)
        case .unknown(let reason): "unknown (\(reason))"
        }
    }
}

package func formatCost(_ value: Double) -> String {
    if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
    return String(format: "%.1f", value)
}
