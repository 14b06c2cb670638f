import Foundation
import RedisCostCore
import RedisCostFormats

/// Where a command's keys sit in its arguments, as the server declares it in `COMMAND INFO`
/// (Redis 7+ "key specs"). One spec is a begin-search step and a find-keys step.
public struct KeySpec: Sendable, Equatable {
    public static func == (a: KeySpec, b: KeySpec) -> Bool { a.flags == b.flags && a.begin == b.begin && a.find == b.find }

    public enum BeginSearch: Sendable, Equatable {
        /// The first key is at this argv index (argv[0] is the command name).
        case index(Int)
        /// The first key follows this keyword; search forward from `startFrom`, or
        /// backward from `argc + startFrom` when it is negative.
        case keyword(String, startFrom: Int)
        /// The server cannot say (e.g. SORT's BY/GET/STORE).
        case unknown
    }

    public enum FindKeys: Sendable, Equatable {
        /// Keys from the first to `lastKey` (relative; negative counts from the end, or
        /// with `limit` > 0 means "1/limit of the remaining arguments"), every `step`.
        case range(lastKey: Int, step: Int, limit: Int)
        /// The number of keys is the integer at `first + keyNumIndex`; the keys start at
        /// `first + firstKey`, every `step`.
        case keyNum(keyNumIndex: Int, firstKey: Int, step: Int)
        case unknown
    }

    /// The spec's flags as the server prints them: `RO`, `RW`, `OW`, `RM`, `access`,
    /// `insert`, `delete`, `update`, `not_key`, `incomplete`, `variable_flags`.
    public let flags: [String]
    public let begin: BeginSearch
    public let find: FindKeys

    /// Decided once: specs are consulted for every call of a replay.
    public let isNotKey: Bool
    package let isIncomplete: Bool

    public init(flags: [String], begin: BeginSearch, find: FindKeys) {
        self.flags = flags
        self.begin = begin
        self.find = find
        isNotKey = flags.contains { $0.lowercased() == "not_key" }
        isIncomplete = flags.contains { $0.lowercased() == "incomplete" }
    }
    public var isWrite: Bool { flags.contains { ["RW", "OW", "RM"].contains($0.uppercased()) } }
}

/// Returns the argv indices of a call's keys, following the server's own algorithm
/// (`getKeysUsingKeySpecs` in Redis's db.c) in its "partial" mode: a spec that does
/// not fit the arguments adds no keys instead of failing the whole call.
public func keyPositions(
    specs: [KeySpec], argumentCount argc: Int, isKeyword: (Int, String) -> Bool,
    integerAt: (Int) -> Int?, isEmptyAt: (Int) -> Bool
) -> [Int] {
    var positions: [Int] = []
    var incompleteSpecFoundKeys = false
    for spec in specs where !spec.isNotKey {
        var first = 0
        switch spec.begin {
        case .index(let index):
            first = index
        case .keyword(let keyword, let startFrom):
            let start = startFrom > 0 ? startFrom : argc + startFrom
            let end = startFrom > 0 ? argc - 1 : 1
            var i = start
            while i != end {
                if i >= argc || i < 1 { break }
                if isKeyword(i, keyword) {
                    first = i + 1
                    break
                }
                i += start <= end ? 1 : -1
            }
            if first == 0 { continue }
        case .unknown:
            continue
        }
        let last: Int
        let step: Int
        switch spec.find {
        case .range(let lastKey, let rangeStep, let limit):
            step = rangeStep
            if lastKey >= 0 {
                last = first + lastKey
            } else if limit == 0 {
                last = argc + lastKey
            } else {
                last = first + ((argc - first) / limit + lastKey)
            }
        case .keyNum(let keyNumIndex, let firstKey, let keyStep):
            step = keyStep
            let numberAt = first + keyNumIndex
            // A count beyond the arguments there are names no key (and must not overflow).
            guard numberAt < argc, let count = integerAt(numberAt), count >= 0, count <= argc else { continue }
            first += firstKey
            last = first + count - 1
        case .unknown:
            continue
        }
        guard step > 0, first < argc, last < argc, last >= first else { continue }
        var i = first
        while i <= last {
            positions.append(i)
            i += step
        }
        if spec.isIncomplete { incompleteSpecFoundKeys = true }
    }
    // An "incomplete" spec makes the server fall back to the command's own key finder. The
    // one such built-in command, MIGRATE, passes "" as its single key when it uses KEYS
    // (migrateGetKeys in Redis's db.c): that placeholder is not a key.
    if incompleteSpecFoundKeys {
        positions.removeAll { isEmptyAt($0) }
    }
    return positions
}
