import Foundation
import Testing

/// Runs the built `redis-cost` binary as a user would, and captures what it prints.
struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
    /// The process's peak resident set.
    var maxResidentBytes: Int
    /// Wall-clock seconds from start to exit.
    var seconds: Double
}

/// The executable `swift build`/`swift test` built beside the test bundle.
var builtBinary: URL {
    get throws {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent(),
            packageRoot.appendingPathComponent(".build/debug"),
        ]
        for directory in candidates {
            var folder = directory
            for _ in 0..<3 {
                let binary = folder.appendingPathComponent("redis-cost")
                if FileManager.default.isExecutableFile(atPath: binary.path) { return binary }
                folder = folder.deletingLastPathComponent()
            }
        }
        throw TestServer.StartError(description: "the redis-cost executable was not built")
    }
}

/// `stdout`: a file for the child's standard output instead of one read back (then `stdout` is empty).
func runCLI(_ arguments: [String], environment: [String: String] = [:], binary: URL? = nil,
            directory: URL? = nil, stdout: String? = nil) throws -> CLIResult {
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "REDISCLI_AUTH")
    for (key, value) in environment { env[key] = value }
    let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = stdout ?? scratch.appendingPathComponent("stdout").path
    let err = scratch.appendingPathComponent("stderr").path
    let started = Date()
    let child = try Spawned(try (binary ?? builtBinary).path, arguments, environment: env, directory: directory?.path,
                            stdout: out, stderr: err)
    let (status, resident) = child.waitMeasured()
    let result = CLIResult(status: status, stdout: stdout != nil ? "" : (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                     stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "",
                     maxResidentBytes: resident, seconds: Date().timeIntervalSince(started))
    // Every JSON report a test has written must be what Data/report.schema.json promises.
    if stdout == nil, asksForJSONReport(arguments), !result.stdout.isEmpty {
        expectValidReport(result.stdout, "redis-cost \(arguments.joined(separator: " "))")
    }
    return result
}
