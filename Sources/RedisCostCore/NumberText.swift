import Foundation

/// `12,345`: counts in findings and reports.
public func grouped(_ value: Double) -> String {
    guard value.isFinite else { return "–" }
    if abs(value) >= 1e15 { return String(format: "%.3g", value) }
    let rounded = Int64(value.rounded())
    var digits = String(abs(rounded))
    var out = ""
    while digits.count > 3 {
        out = "," + digits.suffix(3) + out
        digits.removeLast(3)
    }
    return (rounded < 0 ? "-" : "") + digits + out
}

public func grouped(_ value: Int) -> String { grouped(Double(value)) }

/// `1 call`, `3 calls`.
package func counted(_ n: Int, _ noun: String, plural: String? = nil) -> String {
    "\(grouped(n)) " + (n == 1 ? noun : plural ?? noun + "s")
}
