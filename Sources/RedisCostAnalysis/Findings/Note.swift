import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// What a finding says about one piece of evidence. What it quotes from the input stays
/// bytes until a report renders it (`ReportOptions.note`): escaped, or hidden under
/// `--redact-keys`. Written as a string: `"after SCAN MATCH \(name: pattern)"`.
public struct Note: Sendable, ExpressibleByStringInterpolation {
    public enum Part: Sendable {
        case text(String)
        /// A name from the input — a key, a pattern a call gave, a channel, a function, a
        /// script's digest: shown as a key is, redacted as a key is.
        case name([UInt8])
        /// Input that is not a name (a script's text): left out under `--redact-keys`.
        case excerpt([UInt8])
    }

    public var parts: [Part]

    /// Text of the tool's own, or read from a server (audit facts).
    public init(_ text: String) { parts = [.text(text)] }
    public init(stringLiteral text: String) { self.init(text) }
    public init(stringInterpolation: StringInterpolation) { parts = stringInterpolation.parts }

    public static func += (note: inout Note, more: Note) { note.parts += more.parts }

    public struct StringInterpolation: StringInterpolationProtocol {
        package var parts: [Part] = []
        public init(literalCapacity: Int, interpolationCount: Int) {}
        public mutating func appendLiteral(_ literal: String) { parts.append(.text(literal)) }
        public mutating func appendInterpolation(_ value: some CustomStringConvertible) { parts.append(.text(value.description)) }
        public mutating func appendInterpolation(name: [UInt8]) { parts.append(.name(name)) }
        public mutating func appendInterpolation(excerpt: [UInt8]) { parts.append(.excerpt(excerpt)) }
    }
}
