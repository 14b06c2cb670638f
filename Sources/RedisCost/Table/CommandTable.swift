import Foundation

/// The command table: every command and subcommand with its documented complexity, key
/// positions and parsed cost formula. Built from `Data/commands.json`, which is embedded in
/// the binary at build time.
public struct CommandTable: Sendable {
    public struct FormulaError: Error, CustomStringConvertible {
        public var command: String
        public var syntax: FormulaSyntaxError
        public var description: String { "\(command): \(syntax)" }
    }

    public let entries: [CommandEntry]
    /// Parsed formulas, parallel to `entries` (`nil` where an entry has none yet).
    public let formulas: [Formula?]
    /// What each formula reads from the data set (parallel to `entries`).
    public let needs: [Formula.Needs]
    let indexByName: [String: Int]
    /// Containers (`CLIENT`, `CONFIG`, …) whose second argument names a subcommand.
    let containers: Set<String>

    /// The table this binary was built with.
    public static func embedded() throws -> CommandTable {
        try CommandTable(entries: CommandTableJSON.decode(embeddedCommandTableJSON, source: "Data/commands.json (embedded)"))
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
        self.indexByName = index
        self.containers = containers
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

extension CommandEntry {
    /// argv indices of this call's keys (text arguments).
    public func keyPositions(in argv: [String]) -> [Int] {
        RedisCost.keyPositions(
            specs: keySpecs, argumentCount: argv.count,
            isKeyword: { argv[$0].caseInsensitiveCompare($1) == .orderedSame },
            integerAt: { Int(argv[$0]) }, isEmptyAt: { argv[$0].isEmpty })
    }

    /// argv indices of this call's keys (bytes).
    public func keyPositions(in argv: Argv) -> [Int] {
        RedisCost.keyPositions(
            specs: keySpecs, argumentCount: argv.count,
            isKeyword: { argv.equalsToken($0, $1) },
            integerAt: { argv.int($0).map(Int.init) }, isEmptyAt: { argv[$0].isEmpty })
    }
}
