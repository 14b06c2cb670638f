import Foundation
import Testing
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport
#if canImport(Glibc)
import Glibc
#endif

/// `monitor --fit-model`: the time model fitted on the windows between reads of INFO
/// commandstats of a live session, saved for `--constants`.
@Suite struct LiveFitTests {
    // MARK: - the fit itself, on windows of known coefficients

    @Test("windows whose elements per call vary give back the per-call and per-element times they were made with")
    func recoversKnownCoefficients() throws {
        // 2 µs a call and 0.1 µs an element; the elements per call vary from window to window.
        let points = (1...8).map { k -> WorkloadFit.Point in
            let f = TimeModel.Features(calls: Double(10 * k), elements: Double(100 * k * k), items: Double(10 * k))
            return WorkloadFit.Point(features: f, microseconds: 2 * f.calls + 0.1 * f.elements)
        }
        var observations = WorkloadFit.Observations(server: "test", serverVersion: "redis-7.0.15")
        observations.points["HGETALL"] = points
        observations.classes["HGETALL"] = "hash"
        observations.windows = 8
        let outcome = try #require(WorkloadFit.fit(observations, base: .defaults))
        let c = try #require(outcome.model.commandCoefficients["HGETALL"])
        #expect(abs(c.perCall - 2) < 0.02 && abs(c.perElement - 0.1) < 0.001, "\(c)")
        #expect(outcome.fits["HGETALL"]?.method == "least squares")
        #expect(outcome.fits["HGETALL"]?.fitted.contains("element") == true)
        #expect(outcome.relativeError < 0.01)
        #expect(outcome.model.fittedOn == "redis-7.0.15")
    }

    @Test("a steady workload fits the per-call time over the base's other coefficients; a wrapper is fitted on its own time")
    func perCallAndWrapper() throws {
        var observations = WorkloadFit.Observations(server: "test", serverVersion: nil)
        // GET: always 1 item, 5 bytes: only the per-call time can be told, 3 µs a call in all.
        let get = TimeModel.Features(calls: 100, elements: 100, items: 100, bytes: 500)
        observations.points["GET"] = (0..<5).map { _ in WorkloadFit.Point(features: get, microseconds: 300) }
        // EXEC of 4 GETs each: 20 calls, 20 × (own 5 µs) + 80 GETs at 3 µs.
        let exec = TimeModel.Features(calls: 20, elements: 0, items: 80)
        observations.points["EXEC"] = (0..<5).map { _ in WorkloadFit.Point(features: exec, microseconds: 20 * 5 + 80 * 3, inner: ["GET": get.scaled(0.8)]) }
        observations.wrappers = ["EXEC"]
        observations.classes = ["GET": "string", "EXEC": "keyspace"]
        let outcome = try #require(WorkloadFit.fit(observations, base: .defaults))
        let model = outcome.model
        let getPrice = try #require(model.commandCoefficients["GET"]).microseconds(TimeModel.Features(calls: 1, elements: 1, items: 1, bytes: 5))
        #expect(abs(getPrice - 3) < 1e-9, "\(getPrice)")
        #expect(outcome.fits["GET"]?.method == "per call over the base")
        let execOwn = try #require(model.commandCoefficients["EXEC"]).microseconds(TimeModel.Features(calls: 1, elements: 0, items: 4))
        #expect(abs(execOwn - 5) < 1e-6, "\(execOwn)")
        #expect(outcome.fits["EXEC"]?.wrapper == true)
        // Not seen: the base's.
        #expect(model.coefficients(command: "HSET", elementClass: "hash") == TimeModel.defaults.coefficients(command: "HSET", elementClass: "hash"))
    }

    @Test("no usable window: no model")
    func nothingToFit() {
        var observations = WorkloadFit.Observations(server: "test", serverVersion: nil)
        #expect(WorkloadFit.fit(observations, base: .defaults) == nil)
        // A window the server counted no time for says nothing.
        observations.points["GET"] = [WorkloadFit.Point(features: .init(calls: 3, elements: 3), microseconds: 0)]
        #expect(WorkloadFit.fit(observations, base: .defaults) == nil)
    }

    @Test("the model file round-trips: its coefficients and the live fit's record load as written")
    func fileRoundTrip() throws {
        var observations = WorkloadFit.Observations(server: "test", serverVersion: "valkey-9.1.2")
        observations.points["SET"] = (1...5).map { k in
            WorkloadFit.Point(features: .init(calls: 10, elements: 10, items: 20, bytes: Double(100 * k)), microseconds: 10 * 1.5 + Double(100 * k) * 0.01)
        }
        observations.classes["SET"] = "string"
        let outcome = try #require(WorkloadFit.fit(observations, base: .defaults))
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("fit-\(UUID().uuidString).json").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let text = outcome.model.json(fitRelativeError: outcome.relativeError, liveFit: outcome.fits)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let loaded = try TimeModel(file: path)
        #expect(loaded.commandCoefficients == outcome.model.commandCoefficients)
        #expect(loaded.classCoefficients == outcome.model.classCoefficients)
        #expect(loaded.perCall == outcome.model.perCall && loaded.fittedOn == "valkey-9.1.2")
        let file = try JSONDecoder().decode(TimeModel.File.self, from: Data(text.utf8))
        #expect(file.liveFit == outcome.fits)
    }

    // MARK: - a live session against Redis 7.0.15

    @Test("a live session fits per-call times equal to commandstats' usec/calls; --constants with the file prices a capture by them")
    func liveSession() throws {
        let server = try TestServer(.redis7)
        let directory = server.directory.path
        let model = directory + "/model-\(UUID().uuidString).json"
        let capture = directory + "/capture-\(UUID().uuidString).txt"
        let control = try server.connect()
        let session = try LiveMonitorTests.Session(server, ["--stats-interval", "1s", "--fit-model", model, "--save-capture", capture])
        let before = try Self.usec(control)
        let work = try server.connect()
        // Five windows or more of the same known traffic, in rounds spaced so each window sees some.
        let started = Date()
        var round = 0
        while Date().timeIntervalSince(started) < 5.5 {
            var calls: [[String]] = (0..<50).map { ["SET", "k:\($0 % 20)", String(repeating: "v", count: 1 + ($0 * 7 + round) % 40)] }
            calls += (0..<100).map { ["GET", "k:\($0 % 20)"] }
            calls += (0..<10).map { ["HSET", "h:\($0)"] + (0..<(1 + ($0 + round) % 30)).flatMap { ["f\($0)", "v"] } }
            calls += [["MULTI"], ["INCR", "counter"], ["GET", "k:1"], ["EXEC"]]
            _ = try work.pipeline(calls)
            round += 1
            usleep(100_000)
        }
        usleep(1_100_000)
        #expect(session.stop() == 0, "\(session.errors)")
        let after = try Self.usec(control)

        let text = try String(contentsOfFile: model, encoding: .utf8)
        let file = try JSONDecoder().decode(TimeModel.File.self, from: Data(text.utf8))
        let fits = try #require(file.liveFit)
        #expect(file.fittedOn?.hasPrefix("redis-7.0") == true && file.machine != nil)
        #expect(session.errors.contains("fit error"), "\(session.errors)")
        let loaded = try TimeModel(file: model)
        for command in ["SET", "GET", "HSET", "EXEC"] {
            let fit = try #require(fits[command], "\(command) was not fitted: \(fits.keys.sorted())")
            #expect(fit.points >= 3, "\(command)")
            let stat = command.lowercased()
            let calls = Double((after[stat]?.calls ?? 0) - (before[stat]?.calls ?? 0))
            let usec = Double((after[stat]?.usec ?? 0) - (before[stat]?.usec ?? 0))
            try #require(calls > 0 && usec > 0)
            // The windows are the session's: the same time per call as the whole, give or take.
            let ratio = (fit.measuredMicroseconds / fit.calls) / (usec / calls)
            #expect(ratio > 0.5 && ratio < 2, "\(command): \(ratio)")
            #expect(loaded.commandCoefficients[command] != nil)
        }
        #expect(fits["EXEC"]?.wrapper == true)

        // The session's capture, priced by the fitted model: per command about commandstats' time.
        let fitted = try runCLI(["analyze", capture, "--baseline", "empty", "--constants", model, "--format", "json"])
        let plain = try runCLI(["analyze", capture, "--baseline", "empty", "--format", "json"])
        #expect(fitted.status == 0 && plain.status == 0, "\(fitted.stderr)")
        let withFit = try Self.estimated(fitted.stdout), withDefaults = try Self.estimated(plain.stdout)
        #expect(withFit != withDefaults)
        for command in ["SET", "GET", "HSET", "EXEC"] {
            let stat = command.lowercased()
            let usec = Double((after[stat]?.usec ?? 0) - (before[stat]?.usec ?? 0))
            let estimate = try #require(withFit[command])
            #expect(estimate / usec > 0.5 && estimate / usec < 2, "\(command): \(estimate) µs estimated, \(usec) measured")
        }
    }

    @Test("a session with no usable window says so and writes no model")
    func emptySession() throws {
        let server = try TestServer(.redis7)
        let model = server.directory.path + "/model-\(UUID().uuidString).json"
        let session = try LiveMonitorTests.Session(server, ["--stats-interval", "1s", "--fit-model", model])
        usleep(1_500_000)
        #expect(session.stop() == 1)
        #expect(session.errors.contains("not written: no command had a usable commandstats window"), "\(session.errors)")
        #expect(!FileManager.default.fileExists(atPath: model))
        // Not with --cluster, not without windows.
        let refused = try runCLI(["monitor", "-p", String(server.port), "--fit-model", model, "--stats-interval", "0"])
        #expect(refused.status != 0 && refused.stderr.contains("--fit-model needs windows"), "\(refused.stderr)")
    }

    static func usec(_ connection: RedisConnection) throws -> [String: (calls: Int, usec: Int)] {
        let text = try connection.require(["INFO", "commandstats"]).text ?? ""
        guard case .success(let reading) = CommandStatsReading.parse(text) else { throw TestServer.StartError(description: "INFO commandstats") }
        return reading.counters.mapValues { ($0.calls, $0.microseconds) }
    }

    static func estimated(_ json: String) throws -> [String: Double] {
        let report = try decodeReport(AnalysisReport.Document.self, json)
        return Dictionary(report.commands.map { ($0.name, $0.estimatedMicroseconds ?? 0) }, uniquingKeysWith: +)
    }
}

private extension TimeModel.Features {
    func scaled(_ k: Double) -> Self { .init(calls: calls * k, elements: elements * k, items: items * k, bytes: bytes * k) }
}
