import Foundation
import RedisCostCore
import RedisCostFormats
import RedisCostLive
#if canImport(Glibc)
import Glibc
#endif

/// A real three-primary Redis Cluster (or Valkey) on loopback for one test: three servers
/// started with `--cluster-enabled yes`, joined by `redis-cli --cluster create` (no replicas),
/// ready when every node says `cluster_state:ok`. Each node is a TestServer, stopped by pid.
final class TestCluster: @unchecked Sendable {
    let nodes: [TestServer]

    let kind: TestServer.Kind
    let arguments: [String]

    init(_ kind: TestServer.Kind, primaries: Int = 3, arguments extra: [String] = []) throws {
        self.kind = kind
        let arguments = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000"] + extra
        self.arguments = arguments
        nodes = try (0..<primaries).map { _ in try TestServer(kind, arguments: arguments) }
        let log = nodes[0].directory.appendingPathComponent("cluster-create.txt").path
        let create = try Spawned(try Self.redisCLI(), ["--cluster", "create"] + nodes.map { "127.0.0.1:\($0.port)" }
                                 + ["--cluster-replicas", "0", "--cluster-yes"], stdout: log, stderr: log)
        guard create.wait() == 0 else {
            throw TestServer.StartError(description: "redis-cli --cluster create failed: " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
        for node in nodes {
            let connection = try node.connect()
            var ok = false
            for _ in 0..<400 {
                let info = parseInfo(try connection.require(["CLUSTER", "INFO"]).text ?? "")
                if info["cluster_state"] == "ok" { ok = true; break }
                usleep(25_000)
            }
            guard ok else { throw TestServer.StartError(description: "node \(node.port) never reached cluster_state:ok") }
        }
    }

    /// A new node made a replica of `primary` (CLUSTER MEET, then CLUSTER REPLICATE), ready when
    /// its link to the primary is up.
    func addReplica(of primary: TestServer) throws -> TestServer {
        let replica = try TestServer(kind, arguments: arguments)
        let id = try primary.connect().require(["CLUSTER", "MYID"]).text ?? ""
        let control = try replica.connect()
        _ = try control.require(["CLUSTER", "MEET", "127.0.0.1", String(primary.port)])
        var replicating = false
        for _ in 0..<400 where !replicating {
            // REPLICATE is refused until the replica knows the primary (the MEET's handshake is done).
            if (try control.require(["CLUSTER", "NODES"]).text ?? "").contains(id),
               case .simple = try control.command(["CLUSTER", "REPLICATE", id]) {
                replicating = true
            } else {
                usleep(25_000)
            }
        }
        for _ in 0..<400 where replicating {
            if parseInfo(try control.require(["INFO", "replication"]).text ?? "")["master_link_status"] == "up" { return replica }
            usleep(25_000)
        }
        throw TestServer.StartError(description: "node \(replica.port) never became a replica of \(primary.port)")
    }

    static func redisCLI() throws -> String {
        for path in ["/usr/bin/redis-cli", "/usr/local/bin/redis-cli"] where FileManager.default.isExecutableFile(atPath: path) { return path }
        throw TestServer.StartError(description: "redis-cli is not installed: run Tests/run.sh")
    }

    /// Tests/tools/cluster_workload.py through $REDIS_COST_PYTHON (redis-py's RedisCluster).
    func workload(_ arguments: [String]) throws {
        guard let python = ProcessInfo.processInfo.environment["REDIS_COST_PYTHON"]
                ?? Optional(packageRoot.appendingPathComponent(".venv/bin/python").path),
              FileManager.default.isExecutableFile(atPath: python) else {
            throw TestServer.StartError(description: "no Python with redis-py: set REDIS_COST_PYTHON or run Tests/run.sh")
        }
        let log = nodes[0].directory.appendingPathComponent("workload-\(UUID().uuidString).txt").path
        let script = packageRoot.appendingPathComponent("Tests/tools/cluster_workload.py").path
        let child = try Spawned(python, [script, String(nodes[0].port)] + arguments, stdout: log, stderr: log)
        guard child.wait() == 0 else {
            throw TestServer.StartError(description: "cluster_workload.py \(arguments) failed: " + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
    }
}
