import Foundation
import RedisCostCore
import RedisCostFormats

/// Turns a call into estimated microseconds of server time, as INFO commandstats counts it
/// (the time inside the command's `call()`). Each call yields a few features —
/// `TimeModel.Features`: 1 per call, the elements its formula counts (with the log terms of
/// the sizes its keys have during the call), its items (arguments after the command name; for
/// a wrapper, the calls it ran) and its bytes (of its arguments and of the string values its
/// keys hold, which a read copies into the reply) — and the model prices them with
/// coefficients per command, falling back to its class's (from the table's command group),
/// then to the class defaults. `redis-cost calibrate` fits the coefficients on a live server
/// (`LeastSquaresFit` over probes of each command at several sizes).
public struct TimeModel: Sendable, Equatable {
    /// The classes elements are costed by, from the table's command groups. (`script`, bytes
    /// compiled, keeps its default: measuring it would leave a script per size in the user's
    /// script cache.)
    public static let classes = ["hash", "set", "zset", "list", "stream", "string", "keyspace"]

    /// µs per feature of a call.
    public struct Coefficients: Codable, Sendable, Equatable {
        public var perCall: Double
        public var perElement: Double
        /// Per argument after the command name (an element written, a field asked for); for a
        /// wrapper, per call it ran.
        public var perItem: Double
        /// Per byte of its arguments and of the strings its keys hold.
        public var perByte: Double
        /// Per key a write creates (a new stream's tree, a hash's table and object): a call
        /// into a missing key costs several times one into an existing key.
        public var perCreate: Double
        /// Per key a call that does not create keys finds (a read, a removal): finding the
        /// key's value, checking its type, setting up the walk — a read of a missing key skips
        /// all of it and costs a fraction of one that finds a single element.
        public var perFound: Double

        public init(perCall: Double, perElement: Double, perItem: Double = 0, perByte: Double = 0, perCreate: Double = 0, perFound: Double = 0) {
            self.perCall = perCall
            self.perElement = perElement
            self.perItem = perItem
            self.perByte = perByte
            self.perCreate = perCreate
            self.perFound = perFound
        }

        package init(_ values: [Double]) {
            self.init(perCall: values[0], perElement: values[1], perItem: values[2], perByte: values[3], perCreate: values.count > 4 ? values[4] : 0,
                      perFound: values.count > 5 ? values[5] : 0)
        }

        package var vector: [Double] { [perCall, perElement, perItem, perByte, perCreate, perFound] }

        /// Its time per element with nothing else known of the elements: the element term and
        /// the byte term at `elementBytes` per element (a fit with reply bytes may put most of an
        /// element's time on its bytes).
        public func perElement(atElementBytes elementBytes: Double) -> Double { perElement + perByte * elementBytes }

        // Files of earlier versions have no perCreate or perFound.
        private enum CodingKeys: String, CodingKey { case perCall, perElement, perItem, perByte, perCreate, perFound }
        public init(from decoder: any Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            self.init(perCall: try c.decode(Double.self, forKey: .perCall), perElement: try c.decode(Double.self, forKey: .perElement),
                      perItem: try c.decode(Double.self, forKey: .perItem), perByte: try c.decode(Double.self, forKey: .perByte),
                      perCreate: try c.decodeIfPresent(Double.self, forKey: .perCreate) ?? 0,
                      perFound: try c.decodeIfPresent(Double.self, forKey: .perFound) ?? 0)
        }

        @inline(__always)
        public func microseconds(_ f: Features) -> Double {
            perCall * f.calls + perElement * f.elements + perItem * f.items + perByte * f.bytes + perCreate * f.creates + perFound * f.found
        }

        /// The part of a call's time that does not grow with the data: per call and per key found
        /// (what idle time scales, what a size curve leaves alone).
        @inline(__always)
        public func fixedMicroseconds(_ f: Features) -> Double { perCall * f.calls + perFound * f.found }
    }

    /// What a call is priced by; additive, so the features of several calls add up.
    public struct Features: Sendable, Equatable {
        public var calls: Double
        public var elements: Double
        public var items: Double
        public var bytes: Double
        /// Keys the call creates: those of a write that adds or replaces, missing before it.
        public var creates: Double
        /// Keys a call that creates none finds: those not known to be missing.
        public var found: Double

        public init(calls: Double = 1, elements: Double, items: Double = 0, bytes: Double = 0, creates: Double = 0, found: Double = 0) {
            self.calls = calls
            self.elements = elements
            self.items = items
            self.bytes = bytes
            self.creates = creates
            self.found = found
        }

        public var vector: [Double] { [calls, elements, items, bytes, creates, found] }

        package static let zero = Features(calls: 0, elements: 0)

        package static func - (a: Features, b: Features) -> Features {
            Features(calls: a.calls - b.calls, elements: a.elements - b.elements, items: a.items - b.items, bytes: a.bytes - b.bytes,
                     creates: a.creates - b.creates, found: a.found - b.found)
        }

        package static func + (a: Features, b: Features) -> Features {
            Features(calls: a.calls + b.calls, elements: a.elements + b.elements, items: a.items + b.items, bytes: a.bytes + b.bytes,
                     creates: a.creates + b.creates, found: a.found + b.found)
        }

        package static func / (a: Features, k: Double) -> Features {
            Features(calls: a.calls / k, elements: a.elements / k, items: a.items / k, bytes: a.bytes / k, creates: a.creates / k, found: a.found / k)
        }

        /// A call's features: `elements` its formula's own N; items the arguments after the
        /// command name (and subcommand); bytes those arguments' but the key names', the
        /// string values its keys hold (`.bytes` sizes; unknown sizes add nothing), and for a
        /// read that replies the elements it walks (`replyElementBytes`: bytes per element,
        /// `TimeModel.elementBytes`) that many bytes per element. `createsKeys`: the call writes
        /// its keys (adds or replaces), so each known missing is one it creates; else each key
        /// not known missing is one it finds.
        public static func of<Input: FormulaInput>(_ input: Input, elements: Double, nameWords: Int, replyElementBytes: Double? = nil,
                                                   createsKeys: Bool = false) -> Features {
            let argc = input.argumentCount
            var bytes = 0
            let keys = input.keyPositions
            if argc > nameWords {
                // Key names are left out: they are hashed, not copied, and their length says
                // more about a naming scheme (calibrate's long prefix) than about the work.
                for i in nameWords..<argc where !keys.contains(i) {
                    let (sum, overflow) = bytes.addingReportingOverflow(input.argumentLength(at: i) ?? 0)
                    bytes = overflow ? .max : sum
                }
            }
            var missing = 0
            for k in keys.indices {
                switch input.keySize(k) {
                case .bytes(let n):
                    let (sum, overflow) = bytes.addingReportingOverflow(n)
                    bytes = overflow ? .max : sum
                case .missing: missing += 1
                default: break
                }
            }
            let creates = createsKeys ? missing : 0
            let found = createsKeys ? 0 : keys.count - missing
            let reply = replyElementBytes.map { elements * $0 } ?? 0
            return Features(calls: 1, elements: elements, items: Double(max(0, argc - nameWords)), bytes: Double(bytes) + reply,
                            creates: Double(creates), found: Double(found))
        }
    }

    /// Per-call µs of the classes' fallback (before any class or command coefficients).
    public var perCall: Double
    /// Class → µs per element, the fallback of a command without its own coefficients.
    public var perElement: [String: Double]
    /// Fitted per class (all probes of the class's commands together) and per command (table
    /// name, `SCRIPT LOAD`); a command's own win over its class's.
    public var classCoefficients: [String: Coefficients]
    public var commandCoefficients: [String: Coefficients]
    /// How the constants were obtained, for the report.
    public var source: String
    /// The server the model was fitted on (`redis-7.0.15`), nil when not known.
    public var fittedOn: String?
    /// How a call's fixed time grows with the time the server was idle before it (caches
    /// and branch predictors gone cold: a light application's call costs a few times what a
    /// probe run right after another costs). Points (idle µs, factor on `perCall`), sorted by
    /// idle time; empty: no such term.
    public var idle: [IdlePoint]
    /// µs a call run by a wrapper (MULTI/EXEC, a script) adds to the wrapper's time while a
    /// MONITOR client is attached: the server feeds monitors a nested call inside the
    /// wrapper's clock (a top-level call's feed is outside its own). Applied to MONITOR
    /// captures and live sessions, which a monitor watched.
    public var watchedPerNestedCall: Double
    /// And per byte of the arguments of the calls it runs: the feed formats each argument
    /// (escaped) inside the wrapper's clock, so a transaction of large values costs more watched.
    public var watchedPerNestedByte: Double

    /// The factor on the fixed time of a call that follows another in its burst (a pipeline's
    /// or a transaction's next command, a command not yet run in the burst) by the burst's
    /// idle time: the network path is warm by then, the command's own code and data are not.
    /// Measured against the fit, so below 1 back to back. Empty: such a call takes `idle`
    /// (files of earlier versions).
    public var idleInBurst: [IdlePoint]
    /// The factor on the fixed time of a command run again in its burst (the same command
    /// repeated in a transaction or a pipeline: warm), measured against the fit; nil: the first
    /// point of the idle curve (back to back).
    public var repeatedInBurst: Double?
    /// How the part of a call's time that grows with the data (all but its fixed time) grows
    /// on keys larger than the linear fit saw (a walk over a key beyond the caches, an insert
    /// into a table that no longer fits them): points (elements of the largest key the call
    /// touches, factor), per command (table name) and per class; interpolated on a log scale,
    /// 1 up to the first point, the last beyond it.
    public var commandSizeCurves: [String: [SizePoint]]
    public var classSizeCurves: [String: [SizePoint]]
    /// Reply bytes: a read that replies the elements it walks (`reads: all` in the table:
    /// HGETALL, SMEMBERS, LRANGE, ZRANGE) copies each into the reply, so its bytes feature
    /// counts, per element, the mean bytes of an argument of the writes that made the key
    /// (`Keyspace.elementBytes`; a hash's field and value are two) — and this many for a key
    /// whose writes were not seen: calibrate's own keys' mean, so such a key prices as the
    /// fit's did. Nil: no such term (files of earlier versions, the defaults).
    public var elementBytes: Double?

    /// The bytes per element a whole read of a key with `known` (the key's own mean, nil when
    /// not seen) is priced with; nil without the term.
    @inline(__always)
    public func replyElementBytes(known: Double?) -> Double? {
        guard let elementBytes else { return nil }
        return known ?? elementBytes
    }

    /// A point of a curve the model interpolates (`interpolate`): where, and its factor.
    public protocol CurvePoint {
        var x: Double { get }
        var factor: Double { get }
    }

    public struct IdlePoint: Codable, Sendable, Equatable, CurvePoint {
        public var idleMicroseconds: Double
        public var x: Double { idleMicroseconds }
        public var factor: Double
        public init(idleMicroseconds: Double, factor: Double) {
            self.idleMicroseconds = idleMicroseconds
            self.factor = factor
        }
    }

    public struct SizePoint: Codable, Sendable, Equatable, CurvePoint {
        public var elements: Double
        public var x: Double { elements }
        public var factor: Double
        public init(elements: Double, factor: Double) {
            self.elements = elements
            self.factor = factor
        }
    }

    /// Where a call stands in its burst (`IdleClock`), which says which idle curve it takes.
    public enum BurstPosition: Sendable, Equatable {
        /// The first call after `idle` µs without one.
        case first(idle: Double)
        /// A command not yet run in a burst that began after `idle` µs.
        case following(idle: Double)
        /// A command run again in its burst: warm.
        case repeated
    }

    /// Calls less than this apart were sent together (a pipeline, a transaction's queue) and
    /// run on what the first of them found: they take its idle time.
    public static let burstMicroseconds: Int64 = 20

    /// The factor on a call's fixed time after `idle` µs without a call: interpolated between
    /// the points on a log scale of idle time, the first's before it and the last's beyond it
    /// (1 without points).
    public func idleFactor(_ idle: Double) -> Double {
        Self.interpolate(self.idle, at: idle, before: self.idle.first?.factor ?? 1)
    }

    /// The factor on a call's fixed time for where it stands in its burst.
    public func idleFactor(_ position: BurstPosition) -> Double {
        switch position {
        case .first(let idle): idleFactor(idle)
        case .following(let idle):
            idleInBurst.isEmpty ? idleFactor(idle)
                : Self.interpolate(idleInBurst, at: idle, before: idleInBurst.first?.factor ?? 1)
        case .repeated: repeatedInBurst ?? idle.first?.factor ?? 1
        }
    }

    /// The curve on a command's element term: its own, else its class's; empty: none.
    public func sizeCurve(command: String, elementClass: String) -> [SizePoint] {
        commandSizeCurves[command] ?? classSizeCurves[elementClass] ?? []
    }

    /// The elements of the largest collection a call's keys hold (where its size curve is
    /// read); 0 when it touches none.
    public static func largestKey<Input: FormulaInput>(_ input: Input) -> Double {
        var largest = 0
        for k in input.keyPositions.indices {
            if case .elements(let n) = input.keySize(k), n > largest { largest = n }
        }
        return Double(largest)
    }

    /// The factor a curve gives a call on a key of `elements` elements: 1 up to its first point.
    public static func sizeFactor(_ curve: [SizePoint], elements: Double) -> Double {
        interpolate(curve, at: elements, before: 1)
    }

    /// Piecewise linear on a log scale of x between sorted points; `before` below the first,
    /// the last point's factor beyond the last; 1 without points.
    private static func interpolate<Point: CurvePoint>(_ points: [Point], at x: Double, before: Double) -> Double {
        guard let first = points.first else { return 1 }
        guard x > first.x else { return x == first.x ? first.factor : before }
        for (a, b) in zip(points, points.dropFirst()) where x <= b.x {
            let t = log(x / a.x) / log(b.x / a.x)
            return a.factor + (b.factor - a.factor) * t
        }
        return points.last!.factor
    }

    public init(perCall: Double, perElement: [String: Double], source: String,
                classCoefficients: [String: Coefficients] = [:], commandCoefficients: [String: Coefficients] = [:], fittedOn: String? = nil,
                idle: [IdlePoint] = [], watchedPerNestedCall: Double = 0, watchedPerNestedByte: Double = 0, idleInBurst: [IdlePoint] = [],
                repeatedInBurst: Double? = nil,
                commandSizeCurves: [String: [SizePoint]] = [:], classSizeCurves: [String: [SizePoint]] = [:], elementBytes: Double? = nil) {
        self.perCall = perCall
        self.perElement = perElement
        self.source = source
        self.classCoefficients = classCoefficients
        self.commandCoefficients = commandCoefficients
        self.fittedOn = fittedOn
        self.idle = idle.sorted { $0.idleMicroseconds < $1.idleMicroseconds }
        self.watchedPerNestedCall = watchedPerNestedCall
        self.watchedPerNestedByte = watchedPerNestedByte
        self.idleInBurst = idleInBurst.sorted { $0.idleMicroseconds < $1.idleMicroseconds }
        self.repeatedInBurst = repeatedInBurst
        self.commandSizeCurves = commandSizeCurves.mapValues { $0.sorted { $0.elements < $1.elements } }
        self.classSizeCurves = classSizeCurves.mapValues { $0.sorted { $0.elements < $1.elements } }
        self.elementBytes = elementBytes
    }

    /// The medians of three runs of `redis-cost calibrate -n 15 --repeats 100` on Redis 7.0.15
    /// (Debian's package) on the 2-core x86-64 development machine, 2026-11-25; see README.
    public static let defaults = TimeModel(
        perCall: 1.56,
        perElement: ["hash": 0.164, "set": 0.080, "zset": 0.045, "list": 0.056, "stream": 0.312, "string": 0.0001, "keyspace": 0.059,
                     "script": scriptMicrosecondsPerByte],
        source: "defaults measured by redis-cost calibrate on Redis 7.0.15, 2-core x86-64 (2026-11-25)")

    /// SCRIPT LOAD and FUNCTION LOAD compile their body: their N is its length in bytes
    /// (COMMAND DOCS), priced by its own constant. INFO commandstats of SCRIPT LOAD on Redis
    /// 7.0.15 here: 1.6 KB in 90 µs, 16 KB in 0.92 ms (2026-12-02).
    package static let scriptMicrosecondsPerByte = 0.055

    /// The coefficients a command is priced by: its own, else its class's, else the fallback's.
    public func coefficients(command: String, elementClass: String) -> Coefficients {
        if let own = commandCoefficients[command] { return own }
        if let cls = classCoefficients[elementClass] { return cls }
        // A calibration file from before a class existed keeps the default for it.
        let rate = perElement[elementClass] ?? Self.defaults.perElement[elementClass] ?? perElement["keyspace"] ?? 0
        return Coefficients(perCall: perCall, perElement: rate)
    }

    public static func countsElements(_ elementClass: String) -> Bool { elementClass != "script" }

    public static func elementClass(ofGroup group: String) -> String {
        switch group {
        case "hash": "hash"
        case "set": "set"
        case "sorted-set", "geo": "zset"
        case "list": "list"
        case "stream": "stream"
        case "string", "bitmap", "hyperloglog": "string"
        case "scripting": "script"
        default: "keyspace"
        }
    }

    /// Element counts alone (evidence that is not a call of the analysis, a SLOWLOG entry):
    /// each call taken to find its key.
    public func microseconds(calls: Int, elements: Double, elementClass: String) -> Double {
        let c = classCoefficients[elementClass] ?? coefficients(command: "", elementClass: elementClass)
        return Double(calls) * (c.perCall + c.perFound) + elements * c.perElement(atElementBytes: elementBytes ?? 0)
    }

    /// What the report says when the model was fitted on another server than the one analysed.
    public func mismatch(server: String) -> String? {
        guard let fittedOn, Self.family(fittedOn) != Self.family(server) || Self.release(fittedOn) != Self.release(server) else { return nil }
        return "fitted on \(fittedOn), used for \(server): times may differ; run redis-cost calibrate on \(server)"
    }

    /// `redis-7.0.15` → `redis`; `7.0` for the release.
    private static func family(_ id: String) -> Substring { id.split(separator: "-").first ?? "" }
    private static func release(_ id: String) -> String {
        (id.split(separator: "-").dropFirst().first ?? "").split(separator: ".").prefix(2).joined(separator: ".")
    }

    /// A copy that says in its source that it is used on `server`, when that is not the server
    /// it was fitted on.
    public func used(on server: String) -> TimeModel {
        guard let note = mismatch(server: server) else { return self }
        var copy = self
        copy.source += "; \(note)"
        return copy
    }

    // MARK: - file form (what calibrate writes, what --constants reads)

    public struct FileError: Error, CustomStringConvertible {
        public var description: String
    }

    /// What calibrate writes and `--constants` reads. Files of earlier versions (only the
    /// first three fields) still load: their commands are priced by class.
    package struct File: Codable {
        package var perCallMicroseconds: Double
        package var perElementMicroseconds: [String: Double]
        package var source: String?
        package var classes: [String: Coefficients]?
        package var commands: [String: Coefficients]?
        package var fittedOn: String?
        package var machine: String?
        package var fitRelativeError: Double?
        /// `monitor --fit-model`: per command fitted on the live workload, its windows, what was
        /// fitted and the fit's error (the coefficients are in `commands`).
        package var liveFit: [String: WorkloadFit.CommandFit]?
        package var idle: [IdlePoint]?
        package var watchedPerNestedCall: Double?
        package var watchedPerNestedByte: Double?
        package var idleInBurst: [IdlePoint]?
        package var repeatedInBurst: Double?
        package var commandSizeCurves: [String: [SizePoint]]?
        package var classSizeCurves: [String: [SizePoint]]?
        package var elementBytes: Double?
    }

    /// The machine a fit ran on, for the file: `x86_64, 2 cores`.
    package static var machine: String {
        var uts = utsname()
        uname(&uts)
        let arch = withUnsafeBytes(of: &uts.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(arch), \(ProcessInfo.processInfo.activeProcessorCount) cores"
    }

    package func json(fitRelativeError: Double? = nil, liveFit: [String: WorkloadFit.CommandFit]? = nil) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let file = File(perCallMicroseconds: perCall, perElementMicroseconds: perElement, source: source,
                        classes: classCoefficients.isEmpty ? nil : classCoefficients,
                        commands: commandCoefficients.isEmpty ? nil : commandCoefficients,
                        fittedOn: fittedOn, machine: Self.machine, fitRelativeError: fitRelativeError, liveFit: liveFit,
                        idle: idle.isEmpty ? nil : idle, watchedPerNestedCall: watchedPerNestedCall == 0 ? nil : watchedPerNestedCall,
                        watchedPerNestedByte: watchedPerNestedByte == 0 ? nil : watchedPerNestedByte,
                        idleInBurst: idleInBurst.isEmpty ? nil : idleInBurst, repeatedInBurst: repeatedInBurst,
                        commandSizeCurves: commandSizeCurves.isEmpty ? nil : commandSizeCurves,
                        classSizeCurves: classSizeCurves.isEmpty ? nil : classSizeCurves, elementBytes: elementBytes)
        let data = (try? encoder.encode(file)) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    public init(file path: String) throws(FileError) {
        guard let data = FileManager.default.contents(atPath: path) else { throw FileError(description: "\(path): cannot read the constants") }
        guard let text = String(data: data, encoding: .utf8), let file = try? JSONTree.parse(text).decode(File.self) else {
            throw FileError(description: "\(path): not a constants file written by redis-cost calibrate (perCallMicroseconds, perElementMicroseconds)")
        }
        let all = [file.perCallMicroseconds] + Array(file.perElementMicroseconds.values)
            + (file.classes ?? [:]).values.flatMap(\.vector) + (file.commands ?? [:]).values.flatMap(\.vector)
            + (file.idle ?? []).map(\.idleMicroseconds) + (file.idleInBurst ?? []).map(\.idleMicroseconds) + [file.watchedPerNestedCall ?? 0, file.watchedPerNestedByte ?? 0]
            + [file.elementBytes ?? 0]
        // Checked before any arithmetic: a negative or infinite time would make every estimate meaningless.
        guard all.allSatisfy({ $0.isFinite && $0 >= 0 && $0 < 1e9 }) else {
            throw FileError(description: "\(path): a constant is negative, not finite or above 10^9 µs")
        }
        let points = (file.idle ?? []) + (file.idleInBurst ?? [])
        let sizes = Array((file.commandSizeCurves ?? [:]).values.joined()) + Array((file.classSizeCurves ?? [:]).values.joined())
        guard points.allSatisfy({ $0.idleMicroseconds > 0 && Self.isFactor($0.factor) }), file.repeatedInBurst.map(Self.isFactor) ?? true,
              sizes.allSatisfy({ $0.elements.isFinite && $0.elements > 0 && $0.elements < 1e15 && Self.isFactor($0.factor) }) else {
            throw FileError(description: "\(path): an idle or size point is not above 0 or its factor is outside 0.1 to 100")
        }
        self.init(perCall: file.perCallMicroseconds, perElement: file.perElementMicroseconds,
                  source: (file.source ?? "constants") + " (from \(path))",
                  classCoefficients: file.classes ?? [:], commandCoefficients: file.commands ?? [:], fittedOn: file.fittedOn,
                  idle: file.idle ?? [], watchedPerNestedCall: file.watchedPerNestedCall ?? 0, watchedPerNestedByte: file.watchedPerNestedByte ?? 0,
                  idleInBurst: file.idleInBurst ?? [], repeatedInBurst: file.repeatedInBurst,
                  commandSizeCurves: file.commandSizeCurves ?? [:], classSizeCurves: file.classSizeCurves ?? [:], elementBytes: file.elementBytes)
    }

    private static func isFactor(_ f: Double) -> Bool { f.isFinite && f >= 0.1 && f <= 100 }
}
