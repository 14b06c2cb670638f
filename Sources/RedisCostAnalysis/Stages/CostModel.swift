import RedisCostCore
import RedisCostTable
import RedisCostKeyspace
import RedisCostFormats
import RedisCostReplay

/// Stage 3, cost: a call's elements touched (its table formula over the sizes its keys had
/// just before it ran) and its estimated server time (the time model), made once per call
/// and used everywhere after (totals, tables, findings). Pure: the same input, the same cost.
package struct CostModel {
    /// Per entry, its formula, boxed: evaluated from a class's `let`, it is used where it is
    /// instead of being copied out of an array (its text and tree retained and released) per call.
    private let formulas: [FormulaBox?]
    private final class FormulaBox: Sendable {
        let formula: Formula
        init(_ formula: Formula) { self.formula = formula }
    }
    package let timeModel: TimeModel
    /// Per entry, the time model's coefficients (its own, its class's or the fallback), the
    /// words of its name (`SCRIPT LOAD`: 2, which are not arguments), and whether its N counts
    /// as elements touched (bytes of a script compiled do not): looked up once, not per call.
    package let coefficients: [TimeModel.Coefficients]
    package let nameWords: [Int]
    package let countsElements: [Bool]
    /// Per entry, the curve on its element term for calls larger than the fit saw (empty: none).
    package let sizeCurves: [[TimeModel.SizePoint]]
    /// Per entry, whether its reply carries the elements it walks (`reads: all`), and so bytes
    /// per element when the model prices them (`TimeModel.elementBytes`).
    package let repliesElements: [Bool]
    /// Per entry, whether it writes its keys (adds or replaces): a missing one is created.
    package let createsKeys: [Bool]

    package init(table: CommandTable, timeModel: TimeModel) {
        formulas = table.formulas.map { $0.map(FormulaBox.init) }
        self.timeModel = timeModel
        let classes = table.entries.map { TimeModel.elementClass(ofGroup: $0.group) }
        coefficients = zip(table.entries, classes).map { timeModel.coefficients(command: $0.0.name, elementClass: $0.1) }
        nameWords = table.entries.map { $0.name.contains(" ") ? 2 : 1 }
        countsElements = classes.map(TimeModel.countsElements)
        sizeCurves = zip(table.entries, classes).map { timeModel.sizeCurve(command: $0.0.name, elementClass: $0.1) }
        repliesElements = table.entries.map { timeModel.elementBytes != nil && $0.semantics.repliesElements }
        createsKeys = table.entries.map(\.semantics.createsKeys)
    }

    /// The cost of call `index` as its formula reads `input`; a wrapper's (EXEC, EVAL, FCALL)
    /// includes the calls it ran (`nested`), unknown when one of them is. Its time is its own
    /// features priced by its coefficients — a wrapper's items are the calls it ran — plus the
    /// time of those calls, as INFO commandstats counts a wrapper. `idleFactor` scales its
    /// fixed time for the server's idle time before it (`TimeModel.idle`); `watched`: a
    /// MONITOR client was attached, so a wrapper's calls add the feed inside its clock.
    /// `formulaCost`: the formula's value, when it was evaluated already (where the model is:
    /// `Analyzer.stage`).
    @inline(__always)
    package func cost<Input: FormulaInput>(_ input: Input, index: Int, nested: NestedCalls?, idleFactor: Double = 1, watched: Bool = false,
                                           formulaCost: Cost? = nil) -> CallCost {
        let cost = formulaCost ?? self.formulaCost(input, index: index)
        var call = CallCost(cost: cost)
        guard let value = cost.value else { return call }
        let nestedElements = nested?.elements ?? 0
        let own = max(0, value - nestedElements)
        let replyBytes = repliesElements[index] ? timeModel.replyElementBytes(known: input.keyElementBytes(0)) : nil
        var features = TimeModel.Features.of(input, elements: own, nameWords: nameWords[index], replyElementBytes: replyBytes, createsKeys: createsKeys[index])
        if let nested { features.items = Double(nested.calls) }
        let c = coefficients[index]
        var ownMicroseconds = c.microseconds(features)
        let fixed = c.fixedMicroseconds(features)
        if let first = sizeCurves[index].first {
            let largest = TimeModel.largestKey(input)
            if largest > first.elements {
                // On a key larger than the fit saw, the part that grows with the data (all but
                // the fixed time) grows by the curve's factor.
                let variable = max(0, ownMicroseconds - fixed)
                ownMicroseconds += variable * (TimeModel.sizeFactor(sizeCurves[index], elements: largest) - 1)
            }
        }
        ownMicroseconds = max(0, ownMicroseconds + fixed * (idleFactor - 1))
        if watched, let nested {
            ownMicroseconds += timeModel.watchedPerNestedCall * Double(nested.calls) + timeModel.watchedPerNestedByte * nested.argumentBytes
        }
        call.microseconds = ownMicroseconds + (nested?.microseconds ?? 0)
        // Compiling a script is not a walk over data: it is priced in time only.
        call.ownElements = countsElements[index] ? own : 0
        call.ownMicroseconds = ownMicroseconds
        call.nestedElements = nested?.elements
        call.features = features
        call.entry = index
        return call
    }
}

extension CostModel {
    /// Elements touched: the entry's formula over `input`.
    @inline(__always)
    package func formulaCost<Input: FormulaInput>(_ input: Input, index: Int) -> Cost {
        formulas[index]?.formula.evaluate(input) ?? .unknown(reason: "no formula")
    }
}

/// One call's cost and its estimated server time. A wrapper's are inclusive of what it ran,
/// as INFO commandstats counts it; `ownElements`/`ownMicroseconds` are its own part, which
/// totals, patterns, clients and the timeline add (its calls are counted there already).
package struct CallCost {
    package var cost: Cost
    package var microseconds: Double?
    package var ownElements: Double?
    package var ownMicroseconds: Double?
    /// What the calls it ran added up to (a wrapper), else nil.
    package var nestedElements: Double?
    /// Its own features (a wrapper's without its calls') and its table entry, when its cost is
    /// known: what `monitor --fit-model` sets beside the server's measured time.
    package var features: TimeModel.Features?
    package var entry = -1
    // A wrapper's calls (`NestedCalls.inner`) are not kept here: a cost holds no array, so the
    // calls that copy one retain nothing (`Analyzer.account` hands a wrapper's to the aggregation).

    package init(cost: Cost, microseconds: Double? = nil, ownElements: Double? = nil, ownMicroseconds: Double? = nil, nestedElements: Double? = nil) {
        self.cost = cost
        self.microseconds = microseconds
        self.ownElements = ownElements
        self.ownMicroseconds = ownMicroseconds
        self.nestedElements = nestedElements
    }
}

/// What the calls a wrapper ran (MULTI…EXEC, a script's calls) added up to, each costed and
/// estimated once when it ran.
package struct NestedCalls {
    package var elements = 0.0
    package var microseconds = 0.0
    /// How many calls it ran (the wrapper's items in the time model).
    package var calls = 0
    /// Bytes of the arguments of the calls it ran (what a monitor's feed formats).
    package var argumentBytes = 0.0
    /// Each call it ran with a known cost: its table entry and features, so a fit can take the
    /// calls' time out of the wrapper's (commandstats counts a wrapper inclusively).
    package var inner: [(entry: Int, features: TimeModel.Features)] = []
    package var unknown = false
    package var upperBound = false
    /// Why the wrapper's cost is unknown when one of its calls' is.
    package let unknownReason: String

    package init(unknownReason: String) { self.unknownReason = unknownReason }

    /// `argumentBytes`: its arguments' bytes, name included, when a monitor's feed formats them.
    package mutating func add(_ call: CallCost, argumentBytes: Int = 0) {
        calls += 1
        self.argumentBytes += Double(argumentBytes)
        if let v = call.cost.value, let us = call.microseconds {
            elements += v
            microseconds += us
            if let f = call.features { inner.append((call.entry, f)) }
        } else {
            unknown = true
        }
        if call.cost.isUpperBound { upperBound = true }
    }

    package var cost: Cost { unknown ? .unknown(reason: unknownReason) : upperBound ? .atMost(elements) : .exact(elements) }
}

/// Where each call stands after the server's idle time, from a capture's timestamps (one
/// clock per node): the gap since the call before; calls less than
/// `TimeModel.burstMicroseconds` after it (a pipeline, a transaction's queue) and the calls a
/// wrapper runs (a transaction's at EXEC, a script's, whatever the gaps its feed shows) belong
/// to its burst — following the first with the burst's idle time, or repeated when their
/// command already ran in it. Unknown for the first call of a capture.
package struct IdleClock {
    private var last: Int64?
    private var burstIdle: Double?
    /// The table entries run in the current burst (a few; a long burst of one command stays one).
    private var burstEntries: [Int] = []

    package init() {}

    /// `inWrapper`: the call ran inside a transaction or a script. The server runs those back
    /// to back, but its MONITOR feed spaces them by their own time (tens of µs apart), which
    /// would read as short idle gaps.
    package mutating func position(at time: Int64, entry: Int, inWrapper: Bool = false) -> TimeModel.BurstPosition? {
        defer { if last.map({ time > $0 }) ?? true { last = time } }
        guard let last else { burstEntries = [entry]; return nil }
        // A timestamp before the last (a clock stepped back) is taken as part of the burst.
        let (gap, overflow) = time.subtractingReportingOverflow(last)
        guard !overflow, gap >= TimeModel.burstMicroseconds, !inWrapper else {
            if burstEntries.contains(entry) { return .repeated }
            if burstEntries.count < 64 { burstEntries.append(entry) }
            return burstIdle.map { .following(idle: $0) }
        }
        burstIdle = Double(gap)
        burstEntries = [entry]
        return .first(idle: Double(gap))
    }
}
