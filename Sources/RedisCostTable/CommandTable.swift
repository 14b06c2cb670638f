import Foundation
import RedisCostCore
import RedisCostFormats

/// The command table: every command and subcommand with its documented complexity, key
/// positions and parsed cost formula. Built from `Data/commands.json`, which is embedded in
/// the binary at build time.
public struct CommandTable: Sendable {
    public struct FormulaError: Error, CustomStringConvertible {
        public var command: String
        public var syntax: FormulaSyntaxError
        public var description: String { "\(command): \(syntax)" }
    }

    /// Two commands measure the same type and their replies cannot be told apart (only
    /// `perPath` replies say, by nil, that a command does not measure this key).
    public struct MeasureConflict: Error, CustomStringConvertible {
        public var type: String
        public var commands: [String]
        public var description: String {
            "\(commands.joined(separator: ", ")) all measure \(type): several commands may measure one type only with \"reply\": \"perPath\""
        }
    }

    public let entries: [CommandEntry]
    /// Parsed formulas, parallel to `entries` (`nil` where an entry has none yet).
    public let formulas: [Formula?]
    /// What each formula reads from the data set (parallel to `entries`).
    public let needs: [Formula.Needs]
    /// Which channels' subscribers each formula counts (parallel to `entries`).
    public let subscriptionReads: [Formula.SubscriptionReads]
    /// Entries that run a script: the scripting group's commands whose cost is the calls they
    /// made (`nested`), EVAL… and FCALL…, not SCRIPT LOAD (parallel to `entries`).
    public let runsScript: [Bool]
    /// What every call of an entry needs, decided once (parallel to `entries`).
    package let traits: [EntryTraits]
    package let indexByName: [String: Int]
    /// Containers (`CLIENT`, `CONFIG`, …) whose second argument names a subcommand.
    package let containers: Set<String>
    /// The entries whose `semantics.measures` reads the size of a key of a type, by the type's
    /// name as `TYPE` answers it, in table order: one entry (`STRLEN` for `string`), or
    /// several `perPath` ones sent together (`JSON.ARRLEN`, `JSON.OBJLEN` for `ReJSON-RL`).
    public let measuringEntries: [String: [Int]]

    /// The containers of the table this binary was built with, for code that names commands
    /// without holding a table (a connection counting what it sent).
    public static let embeddedContainers: Set<String> = (try? embedded())?.containers ?? []

    /// The table this binary was built with, decoded once per process: `analyze` asks for it
    /// twice (the findings engine and the analysis) and a connection for its containers, and
    /// each decoding cost about 150M instructions.
    private static let embeddedTable = Result { () throws -> CommandTable in
        try CommandTable(entries: CommandTableJSON.decode(embeddedCommandTableJSON, source: "Data/commands.json (embedded)"))
    }

    /// The table this binary was built with.
    public static func embedded() throws -> CommandTable {
        try embeddedTable.get()
    }

    public init(entries: [CommandEntry]) throws {
        self.entries = entries
        var formulas: [Formula?] = []
        var index: [String: Int] = [:]
        var containers: Set<String> = []
        for (i, entry) in entries.enumerated() {
            index[entry.name] = i
            if let container = entry.container { containers.insert(container) }
            if let source = entry.formula {
                do {
                    formulas.append(try Formula(source))
                } catch {
                    throw FormulaError(command: entry.name, syntax: error)
                }
            } else {
                formulas.append(nil)
            }
        }
        self.formulas = formulas
        self.needs = formulas.map { $0?.needs ?? [] }
        self.subscriptionReads = formulas.map { $0?.subscriptionReads ?? .init() }
        self.runsScript = zip(entries, formulas).map { entry, formula in
            entry.group == "scripting" && formula?.countsNestedCalls == true
        }
        self.traits = entries.map(EntryTraits.init)
        self.indexByName = index
        self.containers = containers
        var measuring: [String: [Int]] = [:]
        for (i, entry) in entries.enumerated() {
            if let measure = entry.semantics.measures { measuring[measure.type, default: []].append(i) }
        }
        for (type, indices) in measuring where indices.count > 1
            && indices.contains(where: { entries[$0].semantics.measures?.reply != .perPath }) {
            throw MeasureConflict(type: type, commands: indices.map { entries[$0].name })
        }
        self.measuringEntries = measuring
    }

    public func entry(named name: String) -> CommandEntry? {
        indexByName[name.uppercased()].map { entries[$0] }
    }

    public func formula(named name: String) -> Formula? {
        indexByName[name.uppercased()].flatMap { formulas[$0] }
    }

    /// The entry a call runs: `CLIENT LIST` for `client list`, `GET` for `get k`.
    public func index(forCommand command: String, subcommand: String?) -> Int? {
        let upper = command.uppercased()
        if containers.contains(upper), let sub = subcommand, let i = indexByName[upper + " " + sub.uppercased()] {
            return i
        }
        return indexByName[upper]
    }

    public func entry(forArguments argv: [String]) -> CommandEntry? {
        guard let first = argv.first else { return nil }
        return index(forCommand: first, subcommand: argv.count > 1 ? argv[1] : nil).map { entries[$0] }
    }

    /// Entries with no formula yet: a person has to write these.
    public var entriesWithoutFormula: [CommandEntry] { entries.filter { $0.formula == nil } }

    /// Entries whose formula says the cost cannot be known, with the reason.
    public var unknownFormulas: [(name: String, reason: String)] {
        zip(entries, formulas).compactMap { entry, formula in
            formula?.unknownReason.map { (entry.name, $0) }
        }
    }
}

/// The facts about an entry that a replay consults on every call, decided once.
package struct EntryTraits: Sendable {
    /// Whether a call of `n` arguments (the name included) has the arity the server takes.
    @inlinable package static func accepts(argumentCount n: Int, arity: Int?) -> Bool {
        guard let arity else { return true }
        return arity >= 0 ? n == arity : n >= -arity
    }

    package let isWrite: Bool
    /// Flagged `readonly`: counted as a read in the per-key and per-pattern tables (MULTI,
    /// PUBLISH, EVALSHA are neither reads nor writes of data).
    package let isRead: Bool
    /// `COMMAND INFO` arity: N > 0 exactly N arguments (the name included), -N at least N.
    /// The server refuses other calls before running them, so they never reach an AOF or a
    /// MONITOR stream: one in the input is a cut or damaged call.
    package let arity: Int?
    package let hasKeySpecs: Bool
    /// Most commands name their keys at fixed indices (`GET key`, `LMOVE src dst …`): the
    /// positions, valid whenever the call has at least `minimumArgc` arguments.
    package let fixedKeys: [Int]?
    package let minimumArgc: Int

    package init(_ entry: CommandEntry) {
        isWrite = entry.isWrite
        isRead = entry.hasFlag("readonly")
        arity = entry.arity
        hasKeySpecs = !entry.keySpecs.isEmpty && entry.semantics.index == nil
        var positions: [Int] = []
        var fixed = true
        for spec in entry.keySpecs where !spec.isNotKey {
            guard case .index(let first) = spec.begin, case .range(let lastKey, let step, let limit) = spec.find,
                  lastKey >= 0, step > 0, limit == 0 else {
                fixed = false
                break
            }
            positions += Array(stride(from: first, through: first + lastKey, by: step))
        }
        fixedKeys = fixed ? positions : nil
        minimumArgc = (positions.max() ?? 0) + 1
    }
}

extension CommandTable {
    /// The entry and key positions of a call given as its arguments (a SLOWLOG entry), or nil
    /// when the table does not know the command.
    public func resolve(_ arguments: [[UInt8]]) -> (index: Int, keyPositions: [Int])? {
        guard let first = arguments.first else { return nil }
        let sub = arguments.count > 1 ? String(decoding: arguments[1], as: UTF8.self) : nil
        guard let index = index(forCommand: String(decoding: first, as: UTF8.self), subcommand: sub) else { return nil }
        return (index, Argv.with(arguments) { keyPositions(of: index, in: $0) })
    }

    /// argv indices of a call's keys, by the entry's fixed positions when it has them.
    @inline(__always)
    package func keyPositions(of index: Int, in argv: Argv) -> [Int] {
        // Field by field: a copy of the whole traits would retain and release its arrays.
        guard traits[index].hasKeySpecs else { return [] }
        if argv.count >= traits[index].minimumArgc, let fixed = traits[index].fixedKeys { return fixed }
        return entries[index].keyPositions(in: argv)
    }
}

extension CommandEntry {
    /// argv indices of this call's keys (text arguments).
    public func keyPositions(in argv: [String]) -> [Int] {
        // A search index's name is declared as the key for cluster routing; it is no key.
        guard semantics.index == nil else { return [] }
        return RedisCostTable.keyPositions(
            specs: keySpecs, argumentCount: argv.count,
            isKeyword: { argv[$0].caseInsensitiveCompare($1) == .orderedSame },
            integerAt: { Int(argv[$0]) }, isEmptyAt: { argv[$0].isEmpty })
    }

    /// argv indices of this call's keys (bytes).
    public func keyPositions(in argv: Argv) -> [Int] {
        guard semantics.index == nil else { return [] }
        return RedisCostTable.keyPositions(
            specs: keySpecs, argumentCount: argv.count,
            isKeyword: { argv.equalsToken($0, $1) },
            integerAt: { argv.int($0).map(Int.init) }, isEmptyAt: { argv[$0].isEmpty })
    }
}
