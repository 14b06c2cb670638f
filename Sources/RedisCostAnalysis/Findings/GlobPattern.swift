import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// Redis's glob matching (`stringmatchlen` in util.c) on bytes: `*`, `?`, `[abc]`, `[^a-z]`,
/// and `\` to escape, as SCAN MATCH and KEYS apply it.
package enum GlobPattern {
    package static func matches(_ pattern: UnsafeRawBufferPointer, _ text: UnsafeRawBufferPointer) -> Bool {
        matches(pattern[...], text[...])
    }

    private static func matches(_ pattern: Slice<UnsafeRawBufferPointer>, _ text: Slice<UnsafeRawBufferPointer>) -> Bool {
        var p = pattern.startIndex, t = text.startIndex
        while p < pattern.endIndex {
            switch pattern[p] {
            case UInt8(ascii: "*"):
                while p + 1 < pattern.endIndex, pattern[p + 1] == UInt8(ascii: "*") { p += 1 }
                if p + 1 == pattern.endIndex { return true }
                for start in t...text.endIndex where matches(pattern[(p + 1)...], text[start...]) { return true }
                return false
            case UInt8(ascii: "?"):
                guard t < text.endIndex else { return false }
                t += 1
            case UInt8(ascii: "["):
                guard t < text.endIndex else { return false }
                p += 1
                let negate = p < pattern.endIndex && pattern[p] == UInt8(ascii: "^")
                if negate { p += 1 }
                var matched = false
                while p < pattern.endIndex, pattern[p] != UInt8(ascii: "]") {
                    if pattern[p] == UInt8(ascii: "\\"), p + 1 < pattern.endIndex {
                        p += 1
                        if pattern[p] == text[t] { matched = true }
                    } else if p + 2 < pattern.endIndex, pattern[p + 1] == UInt8(ascii: "-"), pattern[p + 2] != UInt8(ascii: "]") {
                        let (low, high) = (min(pattern[p], pattern[p + 2]), max(pattern[p], pattern[p + 2]))
                        if text[t] >= low && text[t] <= high { matched = true }
                        p += 2
                    } else if pattern[p] == text[t] {
                        matched = true
                    }
                    p += 1
                }
                if negate { matched.toggle() }
                guard matched else { return false }
                t += 1
            case UInt8(ascii: "\\") where p + 1 < pattern.endIndex:
                p += 1
                guard t < text.endIndex, pattern[p] == text[t] else { return false }
                t += 1
            default:
                guard t < text.endIndex, pattern[p] == text[t] else { return false }
                t += 1
            }
            p += 1
        }
        return t == text.endIndex
    }
}
