import Foundation

/// Fits the time model to a workload the server measured itself (`monitor --fit-model`): per
/// command, each window between two reads of INFO commandstats is one observation — the
/// microseconds the server counted for the command's calls in it against the sum of those
/// calls' features — and the command's coefficients are fitted over the session's windows
/// with `LeastSquaresFit`. What varies across the windows (elements, items or bytes per call)
/// is fitted; what does not keeps the base model's coefficient, and the per-call time takes
/// the rest (on a real workload that is where cold caches and spaced calls show). A wrapper
/// (EXEC, EVAL, FCALL), which commandstats counts with the calls it ran, is fitted on what is
/// left once those calls are priced by the fitted model.
package enum WorkloadFit {
    /// One window of one command.
    package struct Point: Sendable, Equatable {
        /// The command's calls in the window, their features added up (a wrapper's own).
        package var features: TimeModel.Features
        /// What the server counted for them (commandstats `usec` delta).
        package var microseconds: Double
        /// A wrapper's: the calls it ran, per command (table name).
        package var inner: [String: TimeModel.Features]

        package init(features: TimeModel.Features, microseconds: Double, inner: [String: TimeModel.Features] = [:]) {
            self.features = features
            self.microseconds = microseconds
            self.inner = inner
        }
    }

    /// What a session saw: the windows per command (table name), and why others were left out.
    package struct Observations: Sendable {
        package var points: [String: [Point]] = [:]
        package var wrappers: Set<String> = []
        /// Table name → element class, for pricing a wrapper's calls by class when they have no own fit.
        package var classes: [String: String] = [:]
        /// How many windows were read, and why some command windows were left out (reason → count).
        package var windows = 0
        package var leftOut: [String: Int] = [:]
        package var server: String
        package var serverVersion: String?

        package init(server: String, serverVersion: String?) {
            self.server = server
            self.serverVersion = serverVersion
        }
    }

    /// One command's fit, for the summary and the model file.
    package struct CommandFit: Codable, Sendable, Equatable {
        package var points: Int
        package var calls: Double
        package var measuredMicroseconds: Double
        /// The features whose coefficient was fitted: `call`, `element`, `item`, `byte`.
        package var fitted: [String]
        /// `least squares`, `per call over the base` or `base scaled` (see `fitCommand`).
        package var method: String
        package var relativeError: Double
        package var wrapper: Bool
    }

    package struct Outcome: Sendable {
        package var model: TimeModel
        package var fits: [String: CommandFit]
        /// The root mean square of the relative errors of all the windows.
        package var relativeError: Double
    }

    package static let featureNames = ["call", "element", "item", "byte", "create", "found"]
    /// Below this many windows only the per-call time is fitted: four coefficients over three
    /// windows would fit noise.
    package static let windowsForShape = 4

    /// The model `base` with every observed command's coefficients fitted; nil when no command
    /// has a usable window (then there is nothing to save).
    package static func fit(_ observations: Observations, base: TimeModel) -> Outcome? {
        var model = base
        var fits: [String: CommandFit] = [:]
        var squares = 0.0, count = 0
        func baseCoefficients(_ name: String) -> TimeModel.Coefficients {
            base.coefficients(command: name, elementClass: observations.classes[name] ?? "keyspace")
        }
        func record(_ name: String, _ points: [(TimeModel.Features, Double)], wrapper: Bool) {
            guard let fit = fitCommand(points, base: baseCoefficients(name)) else { return }
            model.commandCoefficients[name] = fit.coefficients
            fits[name] = CommandFit(points: points.count, calls: points.reduce(0) { $0 + $1.0.calls },
                                    measuredMicroseconds: points.reduce(0) { $0 + $1.1 }, fitted: fit.fitted,
                                    method: fit.method, relativeError: fit.relativeError, wrapper: wrapper)
            squares += fit.relativeError * fit.relativeError * Double(points.count)
            count += points.count
        }
        // The commands that run no others first: a wrapper's calls are priced by their fits.
        for (name, points) in observations.points.sorted(by: { $0.key < $1.key }) where !observations.wrappers.contains(name) {
            record(name, points.map { ($0.features, $0.microseconds) }, wrapper: false)
        }
        for (name, points) in observations.points.sorted(by: { $0.key < $1.key }) where observations.wrappers.contains(name) {
            let own = points.compactMap { point -> (TimeModel.Features, Double)? in
                let inner = point.inner.reduce(0.0) { sum, call in
                    sum + model.coefficients(command: call.key, elementClass: observations.classes[call.key] ?? "keyspace").microseconds(call.value)
                }
                let left = point.microseconds - inner
                // The calls priced above what the server counted for the whole: no own time to fit.
                return left > 0 ? (point.features, left) : nil
            }
            record(name, own, wrapper: true)
        }
        guard !fits.isEmpty else { return nil }
        let windows = observations.windows
        model.source = "fitted live on \(observations.server)\(observations.serverVersion.map { " (\($0))" } ?? "") over \(windows) commandstats window\(windows == 1 ? "" : "s"), \(fits.count) command\(fits.count == 1 ? "" : "s"); others: \(base.source)"
        model.fittedOn = observations.serverVersion ?? base.fittedOn
        return Outcome(model: model, fits: fits, relativeError: count > 0 ? (squares / Double(count)).squareRoot() : 0)
    }

    /// One command's coefficients from its windows (features, µs). Windows the server counted
    /// no time for are left out (the counter is in whole µs). With enough windows the features
    /// whose share per call varies (by a factor of 2 at least) are fitted by least squares
    /// with a per-call time above 0, the others keep the base's
    /// coefficient; otherwise, or when that fails, the per-call time is what the base leaves
    /// unexplained; when the base alone overshoots, its coefficients are scaled down.
    package static func fitCommand(_ points: [(TimeModel.Features, Double)], base: TimeModel.Coefficients)
        -> (coefficients: TimeModel.Coefficients, fitted: [String], method: String, relativeError: Double)? {
        let usable = points.filter { $0.1 > 0 && $0.1.isFinite && $0.0.calls > 0 }
        guard !usable.isEmpty else { return nil }
        let baseVector = base.vector
        func error(_ c: TimeModel.Coefficients) -> Double {
            let sum = usable.reduce(0.0) { s, p in let r = (c.microseconds(p.0) - p.1) / p.1; return s + r * r }
            return (sum / Double(usable.count)).squareRoot()
        }
        let varying = (1..<baseVector.count).filter { j in
            let ratios = usable.map { $0.0.vector[j] / $0.0.calls }
            guard let low = ratios.min(), let high = ratios.max(), high > 0 else { return false }
            // Twice as many per call in some windows as in others: a few percent of drift (a
            // member's name a digit longer) would let noise choose the coefficients.
            return high >= 2 * low
        }
        if usable.count >= windowsForShape, !varying.isEmpty {
            let columns = [0] + varying
            let fixed = (1..<baseVector.count).filter { !varying.contains($0) }
            let targets = usable.map { p in p.1 - fixed.reduce(0.0) { $0 + baseVector[$1] * p.0.vector[$1] } }
            if targets.allSatisfy({ $0 > 0 }),
               let result = LeastSquaresFit.fit(rows: usable.map { p in columns.map { p.0.vector[$0] } }, targets: targets),
               // Every call costs something: a fit that gives its time to another feature is not believed.
               result.coefficients[0] > 0 {
                var values = baseVector
                for (k, j) in columns.enumerated() { values[j] = result.coefficients[k] }
                let c = TimeModel.Coefficients(values)
                return (c, columns.filter { values[$0] > 0 }.map { featureNames[$0] }, "least squares", error(c))
            }
        }
        let measured = usable.reduce(0.0) { $0 + $1.1 }
        let calls = usable.reduce(0.0) { $0 + $1.0.calls }
        var others = base
        others.perCall = 0
        let explained = usable.reduce(0.0) { $0 + others.microseconds($1.0) }
        if measured > explained {
            var c = base
            c.perCall = (measured - explained) / calls
            return (c, ["call"], "per call over the base", error(c))
        }
        let factor = measured / max(explained + base.perCall * calls, .leastNonzeroMagnitude)
        let c = TimeModel.Coefficients(baseVector.map { $0 * factor })
        return (c, ["call"], "base scaled", error(c))
    }
}

extension WorkloadFit.Outcome {
    /// One line per fitted command: windows, calls, the server's µs per call, what was fitted
    /// and how, the coefficients and the fit's error.
    package var summary: String {
        func number(_ x: Double) -> String {
            x == 0 ? "0" : x >= 100 ? String(Int(x.rounded())) : String(format: "%.4g", x)
        }
        var lines = ["command             windows      calls  µs/call measured  fitted             method                  per call  per element  per item  per byte  error"]
        for (name, fit) in fits.sorted(by: { ($0.value.measuredMicroseconds, $1.key) > ($1.value.measuredMicroseconds, $0.key) }) {
            let c = model.commandCoefficients[name] ?? .init(perCall: 0, perElement: 0)
            let perCall = fit.calls > 0 ? fit.measuredMicroseconds / fit.calls : 0
            let label = fit.wrapper ? "\(name) (own)" : name
            lines.append(label.padding(toLength: 19, withPad: " ", startingAt: 0)
                + String(fit.points).leftPad(8) + String(Int(fit.calls)).leftPad(11) + number(perCall).leftPad(17) + "  "
                + fit.fitted.joined(separator: ",").padding(toLength: 19, withPad: " ", startingAt: 0)
                + fit.method.padding(toLength: 22, withPad: " ", startingAt: 0)
                + number(c.perCall).leftPad(10) + number(c.perElement).leftPad(13) + number(c.perItem).leftPad(10)
                + number(c.perByte).leftPad(10) + String(format: "%6.2f", fit.relativeError).leftPad(7))
        }
        lines.append("fit error (root mean square of relative errors over all windows): \(String(format: "%.3f", relativeError))")
        return lines.joined(separator: "\n")
    }
}

private extension String {
    func leftPad(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
