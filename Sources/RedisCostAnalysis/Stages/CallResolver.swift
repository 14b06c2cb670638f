import RedisCostCore
import RedisCostTable
import RedisCostKeyspace
import RedisCostFormats
import RedisCostReplay
#if canImport(Glibc)
import Glibc
#endif

/// Stage 1, resolve: which table entry a call is (its command, or its subcommand for a
/// container such as `CLIENT` or `XGROUP`), whether the server would run it (its arity), and
/// which arguments are its keys. Each spelling of a name is resolved once, then cached by the
/// hash of its bytes.
package struct CallResolver {
    /// A call the table knows and the server would run.
    package struct Resolved {
        package var index: Int
        package var keyPositions: [Int]
        package init(index: Int, keyPositions: [Int]) {
            self.index = index
            self.keyPositions = keyPositions
        }
    }

    package enum Outcome {
        /// The table knows it and the server would run it: `Resolved` holds its entry and keys.
        case resolved
        /// A command the table does not know (a module's, a newer server's).
        case unknownCommand
        /// The wrong number of arguments: the server refuses it before running it.
        case wrongArity(index: Int, reason: String)
    }

    package let table: CommandTable
    /// Table index per spelling of a command name (and subcommand); -1 unknown, -2 a container.
    private var cache = IdentityMap()
    /// The last plain command resolved, by the bytes of its name (a copy: callers reuse their
    /// buffers), and its entry: calls of one command come in runs (a client's pipeline, a
    /// benchmark), and a name equal to the last one skips its hash and the cache.
    private var lastName: [UInt8] = []
    private var lastIndex = -1
    /// Per entry, what resolving one of its calls reads, as plain values decided once (read
    /// from the entry's traits, they retained and released the traits' arrays on every call):
    /// its arity, and the range of `fixedKeyPositions` that are its keys' positions when they
    /// are fixed and the call has at least `minimumArgc` arguments.
    private let arity: [Int?]
    private let minimumArgc: [Int]
    private let fixedKeys: [Range<Int>?]
    private let fixedKeyPositions: [Int]

    package init(table: CommandTable) {
        self.table = table
        arity = table.traits.map(\.arity)
        minimumArgc = table.traits.map(\.minimumArgc)
        var positions: [Int] = []
        fixedKeys = table.traits.map { traits in
            guard traits.hasKeySpecs else { return 0..<0 }
            guard let fixed = traits.fixedKeys else { return nil }
            positions += fixed
            return (positions.count - fixed.count)..<positions.count
        }
        fixedKeyPositions = positions
    }

    /// Which entry `argv` is and, in `resolved`, its key positions (written over in place:
    /// no array per call).
    package mutating func resolve(_ argv: Argv, into resolved: inout Resolved) -> Outcome {
        guard let index = index(of: argv) else { return .unknownCommand }
        guard EntryTraits.accepts(argumentCount: argv.count, arity: arity[index]) else {
            let arity = arity[index] ?? 0
            let takes = arity < 0 ? "at least \(-arity - 1)" : "exactly \(arity - 1)"
            return .wrongArity(index: index, reason: "\(table.entries[index].name) with \(argv.count - 1) arguments (the server takes \(takes))")
        }
        resolved.index = index
        if let fixed = fixedKeys[index], argv.count >= minimumArgc[index] {
            if resolved.keyPositions.count != fixed.count {
                resolved.keyPositions.removeFewKeepingCapacity()
                for i in fixed { resolved.keyPositions.append(fixedKeyPositions[i]) }
            } else {
                for i in fixed { resolved.keyPositions[i - fixed.lowerBound] = fixedKeyPositions[i] }
            }
        } else {
            resolved.keyPositions = table.keyPositions(of: index, in: argv)
        }
        return .resolved
    }

    /// The table index of a call's command, cached per spelling.
    /// One lookup for a plain command; an unknown name is answered from the cache whatever its
    /// arguments (nothing is cached per argument of a command the table does not know).
    @inline(__always)
    package mutating func index(of argv: Argv) -> Int? {
        let name = argv[0]
        if lastIndex >= 0, name.count == lastName.count, name.count > 0,
           lastName.withUnsafeBytes({ memcmp($0.baseAddress!, name.baseAddress!, name.count) == 0 }) {
            return lastIndex
        }
        let nameHash = elementHash(name)
        guard let plain = cache[nameHash] else { return indexSlow(argv, nameHash) }
        if plain >= 0 {
            lastName.removeAll(keepingCapacity: true)
            lastName.append(contentsOf: name)
            lastIndex = plain
            return plain
        }
        if plain == -1 { return nil }
        // A container (CLIENT, XGROUP…): the subcommand decides.
        guard argv.count > 1 else { return indexSlow(argv, nameHash) }
        let cacheKey = nameHash ^ (elementHash(argv[1]) &* 0x9E37_79B9_7F4A_7C15)
        if let cached = cache[cacheKey] { return cached >= 0 ? cached : nil }
        return indexSlow(argv, cacheKey)
    }

    private mutating func indexSlow(_ argv: Argv, _ cacheKey: UInt64) -> Int? {
        let name = String(decoding: argv[0], as: UTF8.self)
        let nameHash = elementHash(argv[0])
        if table.containers.contains(name.uppercased()) {
            // Mark the name as a container (-2) so the next lookup hashes the subcommand too.
            cache[nameHash] = -2
            let sub = argv.count > 1 ? String(decoding: argv[1], as: UTF8.self) : nil
            let index = table.index(forCommand: name, subcommand: sub)
            let key = argv.count > 1 ? nameHash ^ (elementHash(argv[1]) &* 0x9E37_79B9_7F4A_7C15) : nameHash
            if argv.count > 1 { cache[key] = index ?? -1 }
            return index
        }
        let index = table.index(forCommand: name, subcommand: nil)
        cache[cacheKey] = index ?? -1
        return index
    }
}
