import RedisCostCore
import RedisCostFormats

/// A cost formula from the command table, parsed once when the table loads.
///
/// The language (documented in Data/README.md) is arithmetic over a call's facts:
/// `argc`, `keys`, `size`, `size(i)`, `sizes`, `items`, `items(i)`, `total(i)`, `smallest(i)`,
/// `largest(i)`, `arg(i)`, `num(i, default)`, `len(i)`, `opt("TOKEN", default[, k])`,
/// `has("TOKEN")`, `count("TOKEN"…)`, `find(i, a)`, `dbsize`, `allkeys`, `nested`, `patterns`,
/// `subscribers(i)`, `shardsubscribers(i)`, and the
/// functions `log`, `min`, `max`, `abs`, `cap`, `if`, `range`, `depth`, `atmost`, `orelse`,
/// `unknown`.
public struct Formula: Sendable, Equatable, CustomStringConvertible {
    public let source: String
    package let root: Node

    package indirect enum Node: Sendable, Equatable {
        case number(Double)
        case text(String)
        case variable(Variable)
        case call(Function, [Node])
        case negate(Node)
        case binary(BinaryOperator, Node, Node)
    }

    package enum Variable: String, Sendable, CaseIterable {
        /// Number of argv entries, the command name (and subcommand) included.
        case argc
        /// Number of keys the call names.
        case keys
        /// Size of the first key (elements, or bytes for a string; 0 when missing).
        case size
        /// Sum of the sizes of all keys.
        case sizes
        /// Sum over all keys of their elements, a string counting as one (what DEL frees).
        case items
        /// Keys in the selected database / in all databases.
        case dbsize, allkeys
        /// Total cost of the calls a script or transaction made.
        case nested
        /// Pattern subscriptions of all clients (PUBLISH matches the channel against each).
        case patterns
    }

    package enum Function: String, Sendable, CaseIterable {
        case size, items, total, smallest, largest, arg, num, len, opt, has, count, log, min, max
        case `if`, range, depth, atmost, unknown, abs, cap, find, orelse
        /// Clients subscribed to the channel / shard channel named by argument i.
        case subscribers, shardsubscribers

        package var arity: ClosedRange<Int> {
            switch self {
            case .size, .items, .total, .smallest, .largest, .arg, .len, .has, .log, .atmost, .unknown, .abs, .subscribers, .shardsubscribers: 1...1
            case .opt: 2...3
            case .min, .max, .count: 1...16
            case .if, .range: 3...3
            case .depth, .num, .cap, .find, .orelse: 2...2
            }
        }
    }

    package enum BinaryOperator: String, Sendable {
        case add = "+", subtract = "-", multiply = "*", divide = "/"
        case less = "<", greater = ">", lessOrEqual = "<=", greaterOrEqual = ">=", equal = "==", notEqual = "!="
    }

    public var description: String { source }

    /// A formula that is one number (SET, INCR, SADD: 1): its cost, found once, so that most
    /// calls skip the evaluator.
    package let constant: Cost?

    public init(_ source: String) throws(FormulaSyntaxError) {
        var parser = FormulaParser(source: source)
        self.source = source
        self.root = try parser.parseAll()
        if case .number(let n) = root, n.isFinite { constant = .exact(max(1, n)) } else { constant = nil }
    }

    /// What a formula reads from the data set, so that a live session samples only what a
    /// call's cost depends on.
    public struct Needs: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let keySizes = Needs(rawValue: 1)
        public static let databaseSize = Needs(rawValue: 2)
        public static let allKeys = Needs(rawValue: 4)
        /// Subscribers of a channel, pattern subscriptions (PUBLISH).
        public static let subscribers = Needs(rawValue: 8)
    }

    public var needs: Needs {
        func walk(_ node: Node) -> Needs {
            switch node {
            case .number, .text: return []
            case .variable(let variable):
                switch variable {
                case .size, .sizes, .items: return .keySizes
                case .dbsize: return .databaseSize
                case .allkeys: return .allKeys
                case .patterns: return .subscribers
                case .argc, .keys, .nested: return []
                }
            case .call(let function, let arguments):
                var needs = arguments.reduce(into: Needs()) { $0.formUnion(walk($1)) }
                switch function {
                case .size, .items, .total, .smallest, .largest, .find: needs.insert(.keySizes)
                case .subscribers, .shardsubscribers: needs.insert(.subscribers)
                default: break
                }
                return needs
            case .negate(let inner): return walk(inner)
            case .binary(_, let a, let b): return walk(a).union(walk(b))
            }
        }
        return walk(root)
    }

    /// Whether it reads more of the model than its keys' sizes: a database's key count, every
    /// key, subscriptions, a list's elements (`find`). The analysis evaluates such a formula
    /// where the model is, when the call runs (RedisCostAnalysis/Pipeline/StagedCall.swift).
    public var readsTheModel: Bool {
        if !needs.isDisjoint(with: [.databaseSize, .allKeys, .subscribers]) { return true }
        return contains { if case .call(.find, _) = $0 { true } else { false } }
    }

    /// Whether it reads the cost of the calls a wrapper ran (`nested`).
    public var readsNested: Bool { contains { $0 == .variable(.nested) } }

    private func contains(_ matches: (Node) -> Bool) -> Bool {
        func walk(_ node: Node) -> Bool {
            if matches(node) { return true }
            switch node {
            case .number, .text, .variable: return false
            case .call(_, let arguments): return arguments.contains(where: walk)
            case .negate(let inner): return walk(inner)
            case .binary(_, let a, let b): return walk(a) || walk(b)
            }
        }
        return walk(root)
    }

    /// What a formula counts subscribers of: channels named by a constant argument index
    /// (`subscribers(1)`; `shard` for `shardsubscribers`) and whether it reads the pattern
    /// subscriptions. A live session asks the server for these (PUBSUB NUMSUB/NUMPAT).
    public struct SubscriptionReads: Sendable, Equatable {
        public var channels: [(argument: Int, shard: Bool)] = []
        public var patterns = false
        public var isEmpty: Bool { channels.isEmpty && !patterns }
        public static func == (a: Self, b: Self) -> Bool {
            a.patterns == b.patterns && a.channels.elementsEqual(b.channels) { $0 == $1 }
        }
    }

    public var subscriptionReads: SubscriptionReads {
        var reads = SubscriptionReads()
        func walk(_ node: Node) {
            switch node {
            case .number, .text: break
            case .variable(let variable): if variable == .patterns { reads.patterns = true }
            case .call(let function, let arguments):
                if function == .subscribers || function == .shardsubscribers, case .number(let n)? = arguments.first,
                   n >= 0, n < 1_000_000, n == n.rounded() {
                    reads.channels.append((Int(n), function == .shardsubscribers))
                }
                arguments.forEach(walk)
            case .negate(let inner): walk(inner)
            case .binary(_, let a, let b): walk(a); walk(b)
            }
        }
        walk(root)
        return reads
    }

    /// Whether the cost includes `nested`: the calls a script or a transaction ran.
    public var countsNestedCalls: Bool {
        func walk(_ node: Node) -> Bool {
            switch node {
            case .number, .text: false
            case .variable(let variable): variable == .nested
            case .call(_, let arguments): arguments.contains(where: walk)
            case .negate(let inner): walk(inner)
            case .binary(_, let a, let b): walk(a) || walk(b)
            }
        }
        return walk(root)
    }

    /// The reason of a formula that is `unknown("…")` at its top, else nil.
    public var unknownReason: String? {
        if case .call(.unknown, let arguments) = root, case .text(let reason)? = arguments.first { return reason }
        return nil
    }
}

public struct FormulaSyntaxError: Error, CustomStringConvertible, Equatable {
    package init(formula: String, offset: Int, expected: String) {
        self.formula = formula
        self.offset = offset
        self.expected = expected
    }
    public var formula: String
    /// Where, in Unicode scalars from the start (characters, for the ASCII formulas are).
    public var offset: Int
    public var expected: String
    public var description: String { "formula \"\(formula)\": at character \(offset + 1): \(expected)" }
}

/// Recursive descent over the formula's Unicode scalars; precedence: comparison < + - < * / <
/// unary. Names, numbers and spaces are ASCII: classifying a scalar is a comparison, not a
/// lookup of Unicode properties (which made most of the table's 575 formulas' parse).
package struct FormulaParser {
    package let source: String
    package let characters: [Unicode.Scalar]
    package var position = 0

    package init(source: String) {
        self.source = source
        self.characters = Array(source.unicodeScalars)
    }

    private static func isSpace(_ c: Unicode.Scalar) -> Bool { c == " " || c == "\t" || c == "\n" || c == "\r" }
    private static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value &- 48 < 10 }
    private static func isLetter(_ c: Unicode.Scalar) -> Bool { (c.value | 0x20) &- 97 < 26 }

    package mutating func parseAll() throws(FormulaSyntaxError) -> Formula.Node {
        let node = try parseComparison()
        skipSpaces()
        if position < characters.count { throw error("an operator or the end of the formula") }
        if containsStrayText(node) {
            position = 0
            throw error("quoted text only as the token of opt, has, count or unknown")
        }
        return node
    }

    /// Text is legal only where `checkTextArguments` placed it: directly inside a call.
    package func containsStrayText(_ node: Formula.Node, insideCall: Bool = false) -> Bool {
        switch node {
        case .text: !insideCall
        case .number, .variable: false
        case .negate(let inner): containsStrayText(inner)
        case .binary(_, let a, let b): containsStrayText(a) || containsStrayText(b)
        case .call(_, let arguments): arguments.contains { containsStrayText($0, insideCall: true) }
        }
    }

    package func error(_ expected: String) -> FormulaSyntaxError {
        FormulaSyntaxError(formula: source, offset: position, expected: "expected \(expected)")
    }

    package mutating func skipSpaces() {
        while position < characters.count, Self.isSpace(characters[position]) { position += 1 }
    }

    /// Compared in place: the table's 575 formulas are parsed at every start, and copying
    /// both sides into arrays made this most of the table's load.
    package mutating func accept(_ text: String) -> Bool {
        skipSpaces()
        var end = position
        for c in text.unicodeScalars {
            guard end < characters.count, characters[end] == c else { return false }
            end += 1
        }
        position = end
        return true
    }

    package mutating func parseComparison() throws(FormulaSyntaxError) -> Formula.Node {
        let left = try parseSum()
        // Most formulas have no comparison: one look at the next character instead of six tries.
        skipSpaces()
        guard position < characters.count, "<>=!".unicodeScalars.contains(characters[position]) else { return left }
        for op in [Formula.BinaryOperator.lessOrEqual, .greaterOrEqual, .equal, .notEqual, .less, .greater]
        where accept(op.rawValue) {
            return .binary(op, left, try parseSum())
        }
        return left
    }

    package mutating func parseSum() throws(FormulaSyntaxError) -> Formula.Node {
        var node = try parseProduct()
        while true {
            if accept("+") { node = .binary(.add, node, try parseProduct()) }
            else if accept("-") { node = .binary(.subtract, node, try parseProduct()) }
            else { return node }
        }
    }

    package mutating func parseProduct() throws(FormulaSyntaxError) -> Formula.Node {
        var node = try parseUnary()
        while true {
            if accept("*") { node = .binary(.multiply, node, try parseUnary()) }
            else if accept("/") { node = .binary(.divide, node, try parseUnary()) }
            else { return node }
        }
    }

    package mutating func parseUnary() throws(FormulaSyntaxError) -> Formula.Node {
        if accept("-") { return .negate(try parseUnary()) }
        return try parsePrimary()
    }

    package mutating func parsePrimary() throws(FormulaSyntaxError) -> Formula.Node {
        skipSpaces()
        guard position < characters.count else { throw error("a number, a name or \"(\"") }
        let c = characters[position]
        if accept("(") {
            let inner = try parseComparison()
            guard accept(")") else { throw error("\")\"") }
            return inner
        }
        if c == "\"" { return .text(try parseText()) }
        if Self.isDigit(c) {
            let start = position
            while position < characters.count, Self.isDigit(characters[position]) || characters[position] == "." {
                position += 1
            }
            guard let value = Double(String(String.UnicodeScalarView(characters[start..<position]))) else {
                position = start
                throw error("a number")
            }
            return .number(value)
        }
        if Self.isLetter(c) {
            let start = position
            while position < characters.count, Self.isLetter(characters[position]) || Self.isDigit(characters[position]) {
                position += 1
            }
            let name = String(String.UnicodeScalarView(characters[start..<position]))
            if accept("(") {
                guard let function = Formula.Function(rawValue: name) else {
                    position = start
                    throw error("a function (\(Formula.Function.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                var arguments: [Formula.Node] = []
                if !accept(")") {
                    repeat { arguments.append(try parseComparison()) } while accept(",")
                    guard accept(")") else { throw error("\",\" or \")\"") }
                }
                guard function.arity.contains(arguments.count) else {
                    position = start
                    throw error("\(function.rawValue) to take \(function.arity.lowerBound == function.arity.upperBound ? "\(function.arity.lowerBound)" : "\(function.arity.lowerBound) to \(function.arity.upperBound)") arguments, not \(arguments.count)")
                }
                try checkTextArguments(function, arguments, at: start)
                return .call(function, arguments)
            }
            guard let variable = Formula.Variable(rawValue: name) else {
                position = start
                throw error("a variable (\(Formula.Variable.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            return .variable(variable)
        }
        throw error("a number, a name or \"(\"")
    }

    package mutating func parseText() throws(FormulaSyntaxError) -> String {
        position += 1
        var text = String.UnicodeScalarView()
        while position < characters.count, characters[position] != "\"" {
            text.append(characters[position])
            position += 1
        }
        guard position < characters.count else { throw error("a closing quote") }
        position += 1
        return String(text)
    }

    /// `opt`, `has` and `unknown` take a quoted text first, `count` only texts; nothing else takes text.
    package func checkTextArguments(_ function: Formula.Function, _ arguments: [Formula.Node], at start: Int) throws(FormulaSyntaxError) {
        let wantsText = [.opt, .has, .unknown, .count].contains(function)
        for (index, argument) in arguments.enumerated() {
            let isText: Bool
            if case .text = argument { isText = true } else { isText = false }
            let textHere = wantsText && (index == 0 || function == .count)
            if isText != textHere {
                var copy = self
                copy.position = start
                throw copy.error(textHere
                    ? "\(function.rawValue)'s first argument to be a quoted text"
                    : "a number, not a quoted text, as argument \(index + 1) of \(function.rawValue)")
            }
        }
    }
}
