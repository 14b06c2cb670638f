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
        usage: ["audit [-u URL | -h HOST -p PORT | -s SOCKET] [--format markdown|json] [-o FILE] [--fail-on warning|critical]"],
        discussion: """
            Reads, and never changes: CONFIG GET *, INFO everything, SLOWLOG GET/LEN, COMMANDLOG GET
            (Valkey 8.1+), CLIENT LIST, LATENCY LATEST, and TYPE/STRLEN/LLEN/SCARD/ZCARD/HLEN/XLEN of
            the keys in the logs (in the database of -n). A user who may not run some of these gets
            the report of what it could read and one line naming what was denied. Rules:
            config-maxmemory-policy, config-stop-writes-on-bgsave-error, config-save,
            config-aof-rewrite, slowlog, memory-fragmentation, output-buffers,
            keyspace-notifications, tcp-keepalive, connections, replication-lag, version.
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json."),
            OptionSpec(["-o", "--output"], value: "FILE", help: "Write the report to FILE instead of stdout."),
            OptionSpec(["--fail-on"], value: "LEVEL", help: "Exit with 3 when a finding of this severity or worse fires: warning or critical."),
            FindingsFlags.redactKeys,
        ],
        examples: ["redis-cost audit -h 10.0.0.5 -p 6379 -o audit.md",
                   "REDISCLI_AUTH=secret redis-cost audit --user monitor -u redis://db1:6379 --format json --fail-on critical"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        let failOn = try FindingsFlags.failLevel(arguments)
        let table = try loadTable()
        let connection = try ConnectionFlags.connect(arguments)
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
        if !snapshot.denied.isEmpty {
            CLI.printError("\(snapshot.server): could not read \(snapshot.denied.map { $0.split(separator: ":").first.map(String.init) ?? $0 }.joined(separator: ", ")) (permission denied); the report covers the rest")
        }
        return FindingsFlags.exitCode(findings, failOn: failOn, otherwise: ExitCode.success)
    }
}
