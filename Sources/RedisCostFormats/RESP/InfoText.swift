import RedisCostCore
import RedisCostKeyspace

/// The text replies servers give to `INFO` (`# Section` headers, `field:value` lines whose
/// values are often `k=v,k=v` lists) and to `CLIENT LIST` / `CLIENT INFO` (one client per
/// line, `k=v` separated by spaces).

/// `INFO` text as its `field:value` lines, in the server's order.
public func infoLines(_ text: String) -> [(field: String, value: String)] {
    // "\r\n" is one Character in Swift: split on newlines of any kind.
    text.split(whereSeparator: \.isNewline).compactMap { line in
        guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]))
    }
}

/// `INFO` text as `field → value`.
public func parseInfo(_ text: String) -> [String: String] {
    Dictionary(infoLines(text).map { ($0.field, $0.value) }, uniquingKeysWith: { _, last in last })
}

/// An `INFO` value such as `keys=12,expires=0` or `calls=3,usec=40,…` as `key → value`.
public func infoFields(_ value: String) -> [String: String] {
    pairs(value.split(separator: ","))
}

/// One `CLIENT LIST` line (or the `CLIENT INFO` reply) as `key → value`.
public func clientFields(_ line: some StringProtocol) -> [String: String] {
    pairs(line.split(separator: " "))
}

private func pairs(_ items: [some StringProtocol]) -> [String: String] {
    var out: [String: String] = [:]
    for item in items {
        guard let eq = item.firstIndex(of: "=") else { continue }
        out[String(item[..<eq])] = String(item[item.index(after: eq)...])
    }
    return out
}
