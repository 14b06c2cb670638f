import ArgumentParsing
import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

enum AuditCommand: Subcommand {
    static let spec = CommandSpec(
        name: "audit",
        summary: "Audit a live server's settings, SLOWLOG, memory, clients and replication, read-only, and say what to change.",
        usage: ["audit [-u URL | -h HOST -p PORT | -s SOCKET] [--format markdown|json] [-o FILE] [--fail-on warning|critical]",
                "audit --cluster -h HOST -p PORT [--format markdown|json] [-o FILE] [--fail-on warning|critical]"],
        discussion: """
            Reads, and never changes: CONFIG GET *, INFO everything, SLOWLOG GET/LEN, COMMANDLOG GET
            (Valkey 8.1+), CLIENT LIST, LATENCY LATEST, and TYPE/STRLEN/LLEN/SCARD/ZCARD/HLEN/XLEN of
            the keys in the logs (in the database of -n). A user who may not run some of these gets
            the report of what it could read and one line naming what was denied. Rules:
            config-maxmemory-policy, config-stop-writes-on-bgsave-error, config-save,
            config-aof-rewrite, slowlog, memory-fragmentation, output-buffers,
            keyspace-notifications, tcp-keepalive, connections, replication-lag, version.

            --cluster (-c, as redis-cli) audits every primary and replica of a Redis Cluster: the
            node the connection flags name is asked for the primaries (CLUSTER SHARDS, or CLUSTER
            SLOTS before 7.0); each primary gets the audit above plus DBSIZE, CLUSTER NODES (which
            names its replicas) and, on Redis 8.2+ and Valkey 8.0+, CLUSTER SLOT-STATS; each
            replica gets the audit above plus DBSIZE. A section each in the report, a replica's
            after its primary's, and a table of the hottest slots (keys, and cpu-usec with
            cluster-slot-stats-enabled yes). Cluster rules: cluster-slots (a slot no primary serves
            by its own account, critical, with the ranges), cluster-node-fail (a node in fail or
            pfail state), cluster-replication (a primary with no replica, warning; a replica whose
            master_link_status is down, critical; one not heard from its primary for more than
            30 s, or further behind than the primary's repl-backlog-size, or not answering,
            warning), cluster-key-skew (the primary with the most keys holds more than 2x the
            mean and at least 1,000), cluster-hot-slot (one slot holds more than 50% of its
            primary's keys and at least 1,000, or more than 50% of its cpu-usec and at least 1 s),
            cluster-slot-stats (cluster-slot-stats-enabled no, where the server has it). A node
            that cannot be reached is reported and the rest are read.
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["-c", "--cluster"], help: "Audit every primary and replica of the cluster the given node belongs to, and the cluster's slots, nodes, replication, key spread and hot slots."),
            OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write the report to FILE instead of stdout."),
            OptionSpec(["--fail-on"], value: "LEVEL", help: "Exit with 3 when a finding of this severity or worse fires: warning or critical."),
            FindingsFlags.redactKeys,
        ],
        examples: ["redis-cost audit -h 10.0.0.5 -p 6379 -o audit.md",
                   "REDISCLI_AUTH=secret redis-cost audit --user monitor -u redis://db1:6379 --format json --fail-on critical",
                   "redis-cost audit --cluster -h 10.0.0.5 -p 7000 --fail-on critical -o cluster-audit.md"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        let failOn = try FindingsFlags.failLevel(arguments)
        let table = try loadTable()
        let connection = try ConnectionFlags.connect(arguments)
        if arguments.has("--cluster") { return try runCluster(connection, arguments, table: table, format: format, failOn: failOn) }
        var snapshot: ServerSnapshot
        do {
            snapshot = try ServerSnapshot.read(connection)
        } catch {
            throw CLIError(description: error.description)
        }
        snapshot.sampleLogKeys(connection, table: table)
        let findings = Audit.findings(snapshot, table: table)
        let options = FindingsFlags.reportOptions(arguments)
        try emit(format == "json" ? AuditReport.json(snapshot, findings: findings, options: options)
                                  : AuditReport.markdown(snapshot, findings: findings, options: options), to: arguments.string("--output"))
        printDenied(snapshot)
        return FindingsFlags.exitCode(findings, failOn: failOn, otherwise: ExitCode.success)
    }

    /// Every primary's and replica's audit, and the cluster rules over them.
    static func runCluster(_ seed: RedisConnection, _ arguments: ParsedArguments, table: CommandTable, format: String,
                           failOn: Finding.Severity?) throws -> Int32 {
        let cluster: ClusterSnapshot
        do {
            cluster = try ClusterSnapshot.read(seed, table: table) { options throws(ServerError) in try RedisConnection(options) }
        } catch {
            throw CLIError(description: error.description)
        }
        let findings = ClusterAudit.findings(cluster)
        let nodeFindings = cluster.primaries.map { $0.server.map { Audit.findings($0, table: table) } ?? [] }
        let replicas = cluster.replicas ?? []
        let replicaFindings = replicas.map { $0.server.map { Audit.findings($0, table: table) } ?? [] }
        let options = FindingsFlags.reportOptions(arguments)
        try emit(format == "json"
                    ? AuditReport.clusterJSON(cluster, findings: findings, nodeFindings: nodeFindings, replicaFindings: replicaFindings, options: options)
                    : AuditReport.clusterMarkdown(cluster, findings: findings, nodeFindings: nodeFindings, replicaFindings: replicaFindings, options: options),
                 to: arguments.string("--output"))
        for primary in cluster.primaries {
            if let server = primary.server { printDenied(server) }
            if let reason = primary.unreachable { CLI.printError("\(primary.address): not audited: \(reason)") }
        }
        for replica in replicas {
            if let server = replica.server { printDenied(server) }
            if let reason = replica.unreachable { CLI.printError("\(replica.address) (replica of \(replica.primary)): not audited: \(reason)") }
        }
        return FindingsFlags.exitCode(findings + (nodeFindings + replicaFindings).flatMap { $0 }, failOn: failOn, otherwise: ExitCode.success)
    }

    /// One line naming what the user may not read on the server.
    static func printDenied(_ s: ServerSnapshot) {
        guard !s.denied.isEmpty else { return }
        CLI.printError("\(s.server): could not read \(s.denied.map { $0.split(separator: ":").first.map(String.init) ?? $0 }.joined(separator: ", ")) (permission denied); the report covers the rest")
    }
}
