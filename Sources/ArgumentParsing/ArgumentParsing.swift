/// A small command-line parser: declared options, `--name value`, `--name=value`, short
/// options, `--` to end options, typed accessors, and help text generated from the declaration.
public struct OptionSpec: Sendable {
    /// All spellings, e.g. `["-u", "--url"]`; the last one is the canonical name.
    public var names: [String]
    /// Nil for a flag; otherwise the placeholder shown in help (`URL`).
    public var valueName: String?
    public var help: String
    public var repeatable: Bool

    public init(_ names: [String], value: String? = nil, help: String, repeatable: Bool = false) {
        self.names = names
        self.valueName = value
        self.help = help
        self.repeatable = repeatable
    }

    public var canonical: String { names.last! }
}

public struct CommandSpec: Sendable {
    public var name: String
    public var summary: String
    /// Usage lines without the program name, e.g. `table [COMMAND…] [--format F]`.
    public var usage: [String]
    public var discussion: String
    public var options: [OptionSpec]
    public var positionalRange: ClosedRange<Int>
    public var examples: [String]

    public init(name: String, summary: String, usage: [String], discussion: String = "",
                options: [OptionSpec], positionals: ClosedRange<Int> = 0...0, examples: [String] = []) {
        self.name = name
        self.summary = summary
        self.usage = usage
        self.discussion = discussion
        self.options = options
        self.positionalRange = positionals
        self.examples = examples
    }

    public func help(program: String) -> String {
        var out = "\(summary)\n\nUsage:\n"
        for line in usage { out += "  \(program) \(line)\n" }
        if !discussion.isEmpty { out += "\n\(discussion)\n" }
        if !options.isEmpty {
            out += "\nOptions:\n"
            let labels = options.map { option in
                option.names.joined(separator: ", ") + (option.valueName.map { " \($0)" } ?? "")
            }
            let width = min((labels.map(\.count).max() ?? 0) + 2, 30)
            for (label, option) in zip(labels, options) {
                let pad = label.count < width ? String(repeating: " ", count: width - label.count) : "\n" + String(repeating: " ", count: width + 2)
                out += "  \(label)\(pad)\(option.help)\n"
            }
            out += "  --help" + String(repeating: " ", count: max(width - 6, 1)) + "Show this help.\n"
        }
        if !examples.isEmpty {
            out += "\nExamples:\n"
            for example in examples { out += "  \(example)\n" }
        }
        return out
    }
}

public struct UsageError: Error, CustomStringConvertible, Equatable {
    public var command: String
    public var message: String
    public init(command: String, message: String) {
        self.command = command
        self.message = message
    }
    public var description: String { message }
}

public struct ParsedArguments: Sendable {
    public let command: String
    public var values: [String: [String]] = [:]
    public var flags: Set<String> = []
    public var positionals: [String] = []
    public var wantsHelp = false

    public func has(_ name: String) -> Bool { flags.contains(name) }
    public func string(_ name: String) -> String? { values[name]?.last }
    public func strings(_ name: String) -> [String] { values[name] ?? [] }

    public func integer(_ name: String, in range: ClosedRange<Int> = Int.min...Int.max) throws(UsageError) -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            let bounds = range == Int.min...Int.max ? "" : " from \(range.lowerBound) to \(range.upperBound)"
            throw UsageError(command: command, message: "\(name) takes a whole number\(bounds), not \"\(text)\"")
        }
        return value
    }

    /// A duration: `30` or `30s`, `500ms`, `5m`, `1h`, in seconds; more than zero and at most
    /// a year (a longer one is a typo, and would not survive conversion to a clock's integers).
    public func seconds(_ name: String) throws(UsageError) -> Double? {
        guard let text = string(name) else { return nil }
        let units: [(suffix: String, scale: Double)] = [("ms", 0.001), ("s", 1), ("m", 60), ("h", 3600), ("", 1)]
        for unit in units where text.hasSuffix(unit.suffix) {
            if let number = Double(text.dropLast(unit.suffix.count)), number > 0, number * unit.scale <= Self.longestDuration {
                return number * unit.scale
            }
        }
        throw UsageError(command: command, message: "\(name) takes a duration such as 30s, 500ms, 5m or 1h, up to 8760h, not \"\(text)\"")
    }

    static let longestDuration = 8760.0 * 3600

    public func choice(_ name: String, of choices: [String]) throws(UsageError) -> String? {
        guard let text = string(name) else { return nil }
        guard choices.contains(text) else {
            throw UsageError(command: command, message: "\(name) takes one of \(choices.joined(separator: ", ")), not \"\(text)\"")
        }
        return text
    }
}

extension CommandSpec {
    public func parse(_ arguments: [String]) throws(UsageError) -> ParsedArguments {
        var parsed = ParsedArguments(command: name)
        var byName: [String: OptionSpec] = [:]
        for option in options { for spelling in option.names { byName[spelling] = option } }
        var index = 0
        var onlyPositionals = false
        while index < arguments.count {
            let argument = arguments[index]
            index += 1
            if onlyPositionals || !argument.hasPrefix("-") || argument == "-" || isNumber(argument) {
                parsed.positionals.append(argument)
                continue
            }
            if argument == "--" {
                onlyPositionals = true
                continue
            }
            if argument == "--help" {
                parsed.wantsHelp = true
                continue
            }
            var spelling = argument
            var inlineValue: String?
            if argument.hasPrefix("--"), let equals = argument.firstIndex(of: "=") {
                spelling = String(argument[..<equals])
                inlineValue = String(argument[argument.index(after: equals)...])
            }
            guard let option = byName[spelling] else {
                let suggestion = options.flatMap(\.names).filter { $0.hasPrefix("--") }
                    .min { editDistance($0, spelling) < editDistance($1, spelling) }
                    .flatMap { editDistance($0, spelling) <= 2 ? $0 : nil }
                throw UsageError(command: name, message: "unknown option \(spelling)" + (suggestion.map { " (did you mean \($0)?)" } ?? ""))
            }
            if option.valueName == nil {
                if inlineValue != nil { throw UsageError(command: name, message: "\(spelling) takes no value") }
                parsed.flags.insert(option.canonical)
                continue
            }
            let value: String
            if let inlineValue {
                value = inlineValue
            } else {
                guard index < arguments.count else {
                    throw UsageError(command: name, message: "\(spelling) needs a value (\(option.valueName!))")
                }
                value = arguments[index]
                index += 1
            }
            if !option.repeatable, parsed.values[option.canonical] != nil {
                throw UsageError(command: name, message: "\(spelling) was given twice")
            }
            parsed.values[option.canonical, default: []].append(value)
        }
        if !parsed.wantsHelp {
            if parsed.positionals.count < positionalRange.lowerBound {
                throw UsageError(command: name, message: "missing argument; usage: \(usage.first ?? name)")
            }
            if parsed.positionals.count > positionalRange.upperBound {
                throw UsageError(command: name, message: "unexpected argument \"\(parsed.positionals[positionalRange.upperBound])\"")
            }
        }
        return parsed
    }

    private func isNumber(_ text: String) -> Bool { Double(text) != nil }
}

/// Levenshtein distance, for "did you mean" suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a), b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
        var current = [i + 1]
        for (j, y) in b.enumerated() {
            current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
        }
        previous = current
    }
    return previous[b.count]
}
