import Foundation

/// Serialises report objects with sorted keys, so JSON output is stable and diffable.
enum JSONText {
    static func render(_ object: Any) -> String {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]) else {
            return "{}"
        }
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// `nil` → JSON null.
    static func orNull(_ value: Any?) -> Any { value ?? NSNull() }
}
