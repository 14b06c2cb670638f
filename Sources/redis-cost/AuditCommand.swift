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

            --cluster (-c, as redis-cli) audits every primary of a Redis Cluster: the node the
            connection flags name is asked for the primaries (CLUSTER SHARDS, or CLUSTER SLOTS
            before 7.0), and each primary gets the audit above plus DBSIZE and CLUSTER NODES, a
            section each in the report. Cluster rules: cluster-slots (a slot no primary serves by
            its own account, critical, with the ranges), cluster-node-fail (a node in fail or pfail
            state), cluster-key-skew (the primary with the most keys holds more than 2x the mean
            and at least 1,000), cluster-slot-stats (cluster-slot-stats-enabled no, where the
            server has it). A primary that cannot be reached is reported and the rest are read.
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["-c", "--cluster"], help: "Audit every primary of the cluster the given node belongs to, and the cluster's slots, nodes and key spread."),
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

    /// Every primary's audit, and the cluster rules over them.
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
        let options = FindingsFlags.reportOptions(arguments)
        try emit(format == "json" ? AuditReport.clusterJSON(cluster, findings: findings, nodeFindings: nodeFindings, options: options)
                                  : AuditReport.clusterMarkdown(cluster, findings: findings, nodeFindings: nodeFindings, options: options),
                 to: arguments.string("--output"))
        for primary in cluster.primaries {
            if let server = primary.server { printDenied(server) }
            if let reason = primary.unreachable { CLI.printError("\(primary.address): not audited: \(reason)") }
        }
        return FindingsFlags.exitCode(findings + nodeFindings.flatMap { $0 }, failOn: failOn, otherwise: ExitCode.success)
    }

    /// One line naming what the user may not read on the server.
    static func printDenied(_ s: ServerSnapshot) {
        guard !s.denied.isEmpty else { return }
        CLI.printError("\(s.server): could not read \(s.denied.map { $0.split(separator: ":").first.map(String.init) ?? $0 }.joined(separator: ", ")) (permission denied); the report covers the rest")
    }
}
