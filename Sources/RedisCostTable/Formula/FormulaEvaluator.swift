import Foundation
import RedisCostCore
import RedisCostFormats

extension Formula {
    /// The cost of one call. Every call touches at least one element (the key lookup),
    /// so a known cost is never below 1.
    @inline(__always)
    public func evaluate<Input: FormulaInput>(_ input: Input) -> Cost {
        if let constant { return constant }
        return evaluateTree(input)
    }

    private func evaluateTree<Input: FormulaInput>(_ input: Input) -> Cost {
        var evaluator = FormulaEvaluator(input: input)
        do {
            let result = try evaluator.value(root)
            guard result.isFinite else { return .unknown(reason: "the formula gave no finite number") }
            let cost = max(1, result)
            return evaluator.isUpperBound ? .atMost(cost) : .exact(cost)
        } catch {
            return .unknown(reason: error.reason)
        }
    }
}

package struct FormulaUnknown: Error {
    package var reason: String
}

package struct FormulaEvaluator<Input: FormulaInput> {
    package let input: Input
    package var isUpperBound = false

    package mutating func value(_ node: Formula.Node) throws(FormulaUnknown) -> Double {
        switch node {
        case .number(let n): return n
        case .text(let t): throw FormulaUnknown(reason: "text \"\(t)\" used as a number")
        case .negate(let inner): return -(try value(inner))
        case .variable(let variable): return try value(of: variable)
        case .binary(let op, let lhs, let rhs):
            let a = try value(lhs)
            let b = try value(rhs)
            switch op {
            case .add: return a + b
            case .subtract: return a - b
            case .multiply: return a * b
            case .divide:
                guard b != 0 else { throw FormulaUnknown(reason: "division by zero") }
                return a / b
            case .less: return a < b ? 1 : 0
            case .greater: return a > b ? 1 : 0
            case .lessOrEqual: return a <= b ? 1 : 0
            case .greaterOrEqual: return a >= b ? 1 : 0
            case .equal: return a == b ? 1 : 0
            case .notEqual: return a != b ? 1 : 0
            }
        case .call(let function, let arguments):
            return try call(function, arguments)
        }
    }

    package func size(ofKey key: Int) throws(FormulaUnknown) -> Double {
        guard key < input.keyPositions.count else { return 0 }
        guard let n = input.keySize(key).count else {
            throw FormulaUnknown(reason: "size of key \(key + 1) unknown")
        }
        return Double(n)
    }

    package func items(ofKey key: Int) throws(FormulaUnknown) -> Double {
        guard key < input.keyPositions.count else { return 0 }
        guard let n = input.keySize(key).items else {
            throw FormulaUnknown(reason: "size of key \(key + 1) unknown")
        }
        return Double(n)
    }

    package func sizes(from first: Int) throws(FormulaUnknown) -> [Double] {
        var result: [Double] = []
        var key = max(first, 0)
        while key < input.keyPositions.count {
            result.append(try size(ofKey: key))
            key += 1
        }
        return result
    }

    package mutating func value(of variable: Formula.Variable) throws(FormulaUnknown) -> Double {
        switch variable {
        case .argc: return Double(input.argumentCount)
        case .keys: return Double(input.keyPositions.count)
        case .size: return try size(ofKey: 0)
        case .sizes: return try sizes(from: 0).reduce(0, +)
        case .items:
            var total = 0.0
            for key in input.keyPositions.indices { total += try items(ofKey: key) }
            return total
        case .dbsize:
            guard let n = input.databaseSize else { throw FormulaUnknown(reason: "database size unknown") }
            return Double(n)
        case .allkeys:
            guard let n = input.allDatabasesSize else { throw FormulaUnknown(reason: "data set size unknown") }
            return Double(n)
        case .nested:
            switch input.nestedCost {
            case .exact(let v)?: return v
            case .atMost(let v)?:
                isUpperBound = true
                return v
            case .unknown(let reason)?: throw FormulaUnknown(reason: reason)
            case nil: throw FormulaUnknown(reason: "the calls it made are not in this input")
            }
        case .patterns:
            guard let n = input.patternSubscriptions else { throw FormulaUnknown(reason: Self.subscribersUnknown) }
            // A capture does not show clients that disconnect: counts from it are upper bounds.
            isUpperBound = true
            return Double(n)
        }
    }

    package static var subscribersUnknown: String { "subscribers unknown: the input does not show subscriptions made before it began" }

    package func text(_ node: Formula.Node) -> String {
        if case .text(let t) = node { return t }
        return ""
    }

    /// Index of `token` among the non-key arguments after the command name.
    package func position(ofToken token: String) -> Int? {
        let keys = input.keyPositions
        var index = 1
        while index < input.argumentCount {
            if !keys.contains(index), input.argument(at: index, isToken: token) { return index }
            index += 1
        }
        return nil
    }

    package func integer(at index: Int, what: String) throws(FormulaUnknown) -> Double {
        guard index < input.argumentCount else { throw FormulaUnknown(reason: "\(what) is missing") }
        guard let n = input.integerArgument(at: index) else {
            throw FormulaUnknown(reason: "\(what) is not an integer")
        }
        return Double(n)
    }

    /// A formula's value used as an argv or key index: formulas compute indices from the
    /// call's own numbers (`arg(2) + 3`), which input may make huge or not finite.
    package mutating func index(_ node: Formula.Node) throws(FormulaUnknown) -> Int {
        let v = try value(node)
        guard v.isFinite, Swift.abs(v) < 1e15 else { throw FormulaUnknown(reason: "an argument position out of range") }
        return Int(v)
    }

    package mutating func call(_ function: Formula.Function, _ arguments: [Formula.Node]) throws(FormulaUnknown) -> Double {
        switch function {
        case .size: return try size(ofKey: (try index(arguments[0])) - 1)
        case .items: return try items(ofKey: (try index(arguments[0])) - 1)
        case .total: return try sizes(from: (try index(arguments[0])) - 1).reduce(0, +)
        case .smallest: return try sizes(from: (try index(arguments[0])) - 1).min() ?? 0
        case .largest: return try sizes(from: (try index(arguments[0])) - 1).max() ?? 0
        case .arg:
            let index = (try index(arguments[0]))
            return try integer(at: index, what: "argument \(index)")
        case .num:
            let index = (try index(arguments[0]))
            if index < input.argumentCount, let n = input.integerArgument(at: index) { return Double(n) }
            return try value(arguments[1])
        case .len:
            let index = (try index(arguments[0]))
            guard let n = input.argumentLength(at: index) else { throw FormulaUnknown(reason: "argument \(index) is missing") }
            return Double(n)
        case .opt:
            let token = text(arguments[0])
            guard var at = position(ofToken: token) else { return try value(arguments[1]) }
            // `MAXLEN ~ 1000`, `MINID = 0-1`: the modifier is not the value.
            if at + 1 < input.argumentCount, input.argument(at: at + 1, isToken: "~") || input.argument(at: at + 1, isToken: "=") {
                at += 1
            }
            let offset = arguments.count > 2 ? (try index(arguments[2])) : 1
            return try integer(at: at + offset, what: "the value after \(token)")
        case .has: return position(ofToken: text(arguments[0])) == nil ? 0 : 1
        case .count:
            var total = 0
            var index = 1
            let keys = input.keyPositions
            while index < input.argumentCount {
                if !keys.contains(index), arguments.contains(where: { input.argument(at: index, isToken: text($0)) }) { total += 1 }
                index += 1
            }
            return Double(total)
        case .cap:
            // A count where a negative value means "all" (LIMIT offset -1, COUNT -1).
            let x = try value(arguments[0])
            let n = try value(arguments[1])
            return x < 0 ? n : Swift.min(x, n)
        case .log: return max(1, log2(try value(arguments[0])))
        case .abs: return Swift.abs(try value(arguments[0]))
        case .min:
            var result = Double.infinity
            for argument in arguments { result = Swift.min(result, try value(argument)) }
            return result
        case .max:
            var result = -Double.infinity
            for argument in arguments { result = Swift.max(result, try value(argument)) }
            return result
        case .if:
            return try value(arguments[0]) != 0 ? try value(arguments[1]) : try value(arguments[2])
        case .range:
            // Elements in the inclusive index range [start, stop] of n elements, negative
            // indices counted from the end, clipped as LRANGE/ZRANGE/GETRANGE clip them.
            let n = try value(arguments[2])
            var start = try value(arguments[0])
            var stop = try value(arguments[1])
            if start < 0 { start += n }
            if stop < 0 { stop += n }
            start = Swift.max(start, 0)
            if start > stop || start >= n { return 0 }
            stop = Swift.min(stop, n - 1)
            return stop - start + 1
        case .depth:
            // Elements walked to reach `index` from the nearer end of n elements.
            let n = try value(arguments[1])
            var index = try value(arguments[0])
            if index < 0 { index += n }
            if index < 0 || index >= n { return 1 }
            return Swift.min(index, n - 1 - index) + 1
        case .atmost:
            isUpperBound = true
            return try value(arguments[0])
        case .unknown:
            throw FormulaUnknown(reason: text(arguments[0]))
        case .find:
            // Elements walked from the head to an element of list key i (LINSERT's pivot,
            // LPOS's match): known when the replay holds the list's elements in order.
            let key = (try index(arguments[0])) - 1
            let argument = (try index(arguments[1]))
            guard let walked = input.listWalk(key: key, toArgument: argument) else {
                throw FormulaUnknown(reason: "the list's elements are not known")
            }
            return Double(walked)
        case .subscribers, .shardsubscribers:
            let argument = try index(arguments[0])
            guard argument >= 0, argument < input.argumentCount else { throw FormulaUnknown(reason: "the channel is missing") }
            guard let n = input.subscribers(ofChannelAt: argument, shard: function == .shardsubscribers) else {
                throw FormulaUnknown(reason: Self.subscribersUnknown)
            }
            isUpperBound = true
            return Double(n)
        case .orelse:
            // The first value when it is known, else the second (an exact walk, else a bound).
            let saved = isUpperBound
            do {
                return try value(arguments[0])
            } catch {
                isUpperBound = saved
                return try value(arguments[1])
            }
        }
    }
}
