import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// Key names as real libraries write them fold to one pattern per kind of key, whatever the
/// separator; words stay.
@Suite struct KeyPatternTests {
    static let cases: [(String, String)] = [
        ("user:1234:sessions", "user:*:sessions"),
        ("job:550e8400-e29b-41d4-a716-446655440000", "job:*"),
        ("cache/deadbeef01/x.json", "cache/*/x.json"),
        ("feed:abc", "feed:abc"),
        // Celery's result keys and group results.
        ("celery-task-meta-0b1c9a0e-7f35-4f1e-9d7b-2f6f1b1f9c11", "celery-task-meta-*"),
        ("celery-taskset-meta-0b1c9a0e-7f35-4f1e-9d7b-2f6f1b1f9c11.j", "celery-taskset-meta-*.j"),
        ("_kombu.binding.celery", "_kombu.binding.celery"),
        ("celery\u{06}\u{16}3", "celery\u{06}\u{16}*"),
        // Dramatiq's message ids (UUIDs) and hex ids.
        ("dramatiq:default.DQ.msgs", "dramatiq:default.DQ.msgs"),
        ("dramatiq:__heartbeats__", "dramatiq:__heartbeats__"),
        ("dramatiq:results:6f1e2a9b0c3d4e5f", "dramatiq:results:*"),
        ("dramatiq:default.msgs_0b1c9a0e7f354f1e9d7b2f6f1b1f9c11", "dramatiq:default.msgs_*"),
        // Epochs and numbers after any separator.
        ("api-window@1700000000", "api-window@*"),
        ("rate_limit_42", "rate_limit_*"),
        ("session|99|cart", "session|*|cart"),
        ("rq:job:3f2a9c1d-aaaa-bbbb-cccc-123456789abc:dependents", "rq:job:*:dependents"),
        ("huey.r.6f1e2a9b-0c3d-4e5f-8a9b-0c1d2e3f4a5b", "huey.r.*"),
        // A UUID not bounded by separators is not a UUID (a word that merely contains hex).
        ("x550e8400-e29b-41d4-a716-446655440000", "x550e8400-e29b-41d4-a716-*"),
        ("v2:beef:cafe", "v2:beef:cafe"),
        ("", ""),
    ]

    @Test(arguments: cases) func folds(_ name: String, _ pattern: String) {
        #expect(String(decoding: KeyPattern.fold(Array(name.utf8)), as: UTF8.self) == pattern)
    }

    /// The rule written plainly, a byte at a time: what the fold must give.
    static func reference(_ name: [UInt8]) -> [UInt8] {
        func isHex(_ b: UInt8) -> Bool { (48...57).contains(b) || (97...102).contains(b | 0x20) }
        func uuid(at i: Int) -> Bool {
            guard name.count - i >= 36 else { return false }
            for k in 0..<36 where [8, 13, 18, 23].contains(k) ? name[i + k] != UInt8(ascii: "-") : !isHex(name[i + k]) { return false }
            return i + 36 == name.count || KeyPattern.separatorBytes.contains(name[i + 36])
        }
        var out: [UInt8] = [], i = 0
        while true {
            if uuid(at: i) {
                out.append(UInt8(ascii: "*"))
                i += 36
            } else {
                var j = i
                while j < name.count, !KeyPattern.separatorBytes.contains(name[j]) { j += 1 }
                let part = name[i..<j], digits = part.filter { (48...57).contains($0) }.count
                let folds = !part.isEmpty && part.allSatisfy(isHex) && (digits == part.count || (part.count >= 8 && digits > 0))
                out += folds ? [UInt8(ascii: "*")] : Array(part)
                i = j
            }
            guard i < name.count else { return out }
            out.append(name[i])
            i += 1
        }
    }

    @Test("the fold gives what the rule written plainly gives, on 50,000 names of ids, UUIDs, words and separators (seeded)")
    func foldsAsTheReference() {
        var rng = SeededRandom(seed: 20261203)
        let pieces: [[UInt8]] = ["user", "42", "00000012345", "deadbeef01", "beef", "550e8400-e29b-41d4-a716-446655440000",
                                 "x", "", "Ab12", "\u{7F}", "é"].map { Array($0.utf8) }
        let separators = KeyPattern.separatorBytes + [UInt8(ascii: "a"), 0x80, 0xFF]
        var out: [UInt8] = []
        for _ in 0..<50_000 {
            var name: [UInt8] = []
            for _ in 0..<Int(rng.next() % 6) {
                name += pieces[Int(rng.next() % UInt64(pieces.count))]
                if rng.next() % 4 != 0 { name.append(separators[Int(rng.next() % UInt64(separators.count))]) }
            }
            name.withUnsafeBytes { KeyPattern.fold($0, into: &out) }
            #expect(out == Self.reference(name), "\(name)")
            if out != Self.reference(name) { break }
        }
        for (name, pattern) in Self.cases { #expect(Self.reference(Array(name.utf8)) == Array(pattern.utf8), "\(name)") }
    }

    /// The bit masks the folding tests bytes with are the separators the type lists, and
    /// nothing else (bytes 128 and up never separate).
    @Test func separatorMasksMatchTheList() {
        for byte in 0...255 {
            let listed = KeyPattern.separatorBytes.contains(UInt8(byte))
            #expect(KeyPattern.isSeparator(UInt8(byte)) == listed, "byte \(byte)")
        }
    }
}
