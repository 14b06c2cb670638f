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

enum ExplainCommand: Subcommand {
    static let spec = CommandSpec(
        name: "explain",
        summary: "Explain what one call costs: documented complexity, formula, and with a server the exact estimate.",
        usage: ["explain COMMAND [ARG…] [-u URL | -h HOST -p PORT | -s SOCKET] [--format markdown|json] [--redact-keys]"],
        discussion: """
            Without a server, key sizes are unknown and so is the cost. With one, the size of
            each key is read with O(1) commands only (TYPE, then the command that counts the
            type: STRLEN, LLEN, …, BF.CARD, TS.INFO, JSON.OBJLEN/ARRLEN), and DBSIZE where the
            formula needs the size of the keyspace. Put '--' before
            arguments that start with '-' (other than numbers).
            """,
        options: ConnectionFlags.options + [
            OptionSpec(["--format"], value: "FORMAT", help: "markdown (default) or json."),
            FindingsFlags.redactKeys,
        ],
        positionals: 1...100_000,
        examples: ["redis-cost explain SINTER users:a users:b -u redis://127.0.0.1:6379",
                   "redis-cost explain LRANGE queue 0 -1 -p 6380",
                   "redis-cost explain KEYS 'user:*'"])

    static func run(_ arguments: ParsedArguments) throws -> Int32 {
        let table = try loadTable()
        let format = try arguments.choice("--format", of: ["markdown", "json"]) ?? "markdown"
        var explanation: Explanation
        do {
            explanation = try Explanation(argv: arguments.positionals, table: table)
        } catch {
            throw CLIError(description: error.description)
        }
        if ConnectionFlags.given(arguments) {
            let connection = try ConnectionFlags.connect(arguments)
            do {
                let redirects = ClusterRedirects(base: connection.options, table: table)
                let sampled = try connection.sample(keys: explanation.keys.map { Array($0.utf8) }, table: table, redirects: redirects)
                let dbSize = explanation.needsDatabaseSize ? try connection.databaseSize() : nil
                let allSize = explanation.needsAllDatabasesSize ? try connection.allDatabasesSize() : nil
                explanation.withSizes(sampled, databaseSize: dbSize, allDatabasesSize: allSize,
                                      source: "sampled from \(([connection.serverName] + redirects.nodes).joined(separator: ", ")) (db \(connection.options.database)) with O(1) commands"
                                        + (redirects.followed > 0 ? ", following \(redirects.followed) MOVED/ASK to the key's node" : ""))
            } catch {
                throw CLIError(description: error.description)
            }
        }
        let options = FindingsFlags.reportOptions(arguments)
        try emit(format == "json" ? ExplainReport.json(explanation, options: options) : ExplainReport.markdown(explanation, options: options), to: nil)
        return ExitCode.success
    }
}
