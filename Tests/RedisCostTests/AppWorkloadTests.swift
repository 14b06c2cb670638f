import Foundation
import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

/// Workloads of real applications nobody here wrote (job queues from PyPI, run against real
/// servers by Tests/tools/gen_app_workload.py; Tests/Fixtures/apps/README.md says how): their
/// AOFs and MONITOR captures must give exactly what the servers held and counted.
@Suite struct AppWorkloadTests {
    static let appsRoot = packageRoot.appendingPathComponent("Tests/Fixtures/apps")

    /// Every folder under Tests/Fixtures/apps, by name (`celery-redis-7.0.15`).
    static let fixtures: [String] = {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: appsRoot.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return FileManager.default.fileExists(atPath: appsRoot.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }.sorted()
    }()

    static func file(_ fixture: String, _ name: String) -> URL {
        appsRoot.appendingPathComponent(fixture).appendingPathComponent(name)
    }

    @Test func theFixturesAreThere() {
        // The parameterised tests below pass vacuously on an empty folder.
        #expect(Self.fixtures.count >= 4, "\(Self.fixtures)")
        for required in ["celery-redis-7.0.15", "dramatiq-valkey-9.1.2", "huey-redis-8.2.3", "rq-redis-8.2.3"] {
            #expect(Self.fixtures.contains(required), "\(required) is missing from Tests/Fixtures/apps")
        }
    }

    @Test("the application's AOF replays to what the server held", arguments: fixtures)
    func appendOnlyDirReplaysExactly(fixture: String) throws {
        let truth = try loadTruth(Self.file(fixture, "final-state.json"))
        let (state, approximate, result) = try replayState(Self.file(fixture, "appendonlydir").path)
        #expect(result.truncatedAt == nil)
        #expect(result.unknownCommands == [:])
        #expect(!truth.isEmpty)
        // Type, size and whether a TTL is set, of every key.
        #expect(differences(state, truth) == [:])
        #expect(approximate == [])
    }

    @Test("the application's capture replays to what the server held", arguments: fixtures)
    func captureReplaysExactly(fixture: String) throws {
        let truth = try loadTruth(Self.file(fixture, "final-state.json"))
        let (state, approximate, result) = try captureState(Self.file(fixture, "monitor.txt").path)
        #expect(result.malformedLines == 0)
        #expect(differences(state, truth) == [:])
        #expect(approximate == [])
    }

    @Test("the application's capture counts every call the server counted", arguments: fixtures)
    func captureCountsWhatTheServerCounted(fixture: String) throws {
        let (_, _, result) = try captureState(Self.file(fixture, "monitor.txt").path)
        let expected = try Self.callsInCapture(fixture)
        var counted: [String: Int] = [:]
        for command in result.commands {
            counted[command.name.lowercased().replacingOccurrences(of: " ", with: "|"), default: 0] += command.calls
        }
        #expect(counted == expected)
        #expect(result.unknownCommands == [:])
        #expect(result.calls == expected.values.reduce(0, +), "every call once in the total")
    }

    /// The calls a capture holds, by commandstats name: the server's INFO commandstats delta
    /// over the capture, less the generator's own calls in that delta (its INFO before the
    /// workload), plus its own lines in the capture that the delta does not count (its INFO
    /// after, the PING that marks the end). Nothing else is on either side: redis-cli's
    /// MONITOR ran before the first snapshot, and the generator checked that its connection
    /// sent exactly these lines.
    static func callsInCapture(_ fixture: String) throws -> [String: Int] {
        struct Stat: Decodable { var calls: Int? }
        struct Generator: Decodable {
            var in_delta: [String: Int]
            var in_capture: [String: Int]
        }
        struct Stats: Decodable {
            var before: [String: Stat]
            var after: [String: Stat]
            var generator: Generator
        }
        let json = try JSONDecoder().decode(Stats.self, from: Data(contentsOf: file(fixture, "commandstats.json")))
        func calls(_ side: String) throws -> [String: Int] {
            var out: [String: Int] = [:]
            for (field, values) in side == "after" ? json.after : json.before where field.hasPrefix("cmdstat_") {
                // Module commands keep the case they were registered in (`cmdstat_FT.SEARCH`).
                out[String(field.dropFirst("cmdstat_".count)).lowercased(), default: 0] += try #require(values.calls)
            }
            return out
        }
        let inDelta = json.generator.in_delta.map { ($0.key.lowercased(), $0.value) }
        let inCapture = json.generator.in_capture.map { ($0.key.lowercased(), $0.value) }
        var expected = try calls("after")
        for (name, count) in try calls("before") { expected[name, default: 0] -= count }
        for (name, count) in inDelta { expected[name, default: 0] -= count }
        for (name, count) in inCapture { expected[name, default: 0] += count }
        return expected.filter { $0.value != 0 }
    }
}
