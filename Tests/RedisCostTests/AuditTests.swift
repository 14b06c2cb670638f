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

/// `redis-cost audit` against real servers started with risky and with safe settings.
@Suite struct AuditTests {
    static func audit(_ server: TestServer, _ extra: [String] = [], environment: [String: String] = [:]) throws -> (CLIResult, AuditReport.Document?) {
        let run = try runCLI(["audit", "-p", String(server.port), "--format", "json"] + extra, environment: environment)
        let report = try? decodeReport(AuditReport.Document.self, run.stdout)
        return (run, report)
    }

    static func findings(_ report: AuditReport.Document?) -> [FindingsReport.Item] { report?.findings ?? [] }
    static func rules(_ report: AuditReport.Document?) -> Set<String> { Set(findings(report).map(\.rule)) }
    static func notes(_ report: AuditReport.Document?, _ rule: String) -> [String] {
        findings(report).filter { $0.rule == rule }.flatMap { $0.evidence.compactMap(\.note) }
    }

    @Test("risky settings and a workload that fills the SLOWLOG: exactly the rules that apply, with their evidence",
          arguments: TestServer.Kind.allCases)
    func riskySettings(kind: TestServer.Kind) throws {
        let server = try TestServer(kind, arguments: [
            "--maxmemory", "100mb", "--maxmemory-policy", "noeviction", "--save", "3600 1 300 100 60 10000",
            "--stop-writes-on-bgsave-error", "yes", "--notify-keyspace-events", "KEA", "--tcp-keepalive", "0",
            "--appendonly", "yes", "--appendfsync", "always", "--slowlog-log-slower-than", "0"])
        let c = try server.connect()
        _ = try c.pipeline((0..<2000).map { ["SET", "key:\($0)", "v"] })
        _ = try c.pipeline([["RPUSH", "big:list"] + (1...3000).map(String.init), ["LRANGE", "big:list", "0", "-1"]])
        let (run, report) = try Self.audit(server)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr.isEmpty)
        #expect(Self.rules(report) == ["config-maxmemory-policy", "config-stop-writes-on-bgsave-error", "config-save", "config-aof-rewrite",
                                       "slowlog", "keyspace-notifications", "tcp-keepalive", "version"])
        #expect(Self.notes(report, "config-maxmemory-policy").contains("maxmemory 104857600 (100.0 MB)"))
        #expect(Self.notes(report, "config-stop-writes-on-bgsave-error").contains("save 3600 1 300 100 60 10000"))
        #expect(Self.notes(report, "config-aof-rewrite").contains("appendfsync always"))
        #expect(Self.notes(report, "tcp-keepalive").contains("tcp-keepalive 0"))
        // The slow log, grouped, with the documented complexity and the key's size now; values never printed.
        let slow = try #require(Self.findings(report).first { $0.rule == "slowlog" })
        let lrange = try #require(slow.evidence.first { $0.command == "LRANGE" })
        #expect(lrange.keys == ["big:list"])
        let note = try #require(lrange.note)
        #expect(note.contains("documented: O(S+N)"))
        #expect(note.contains("the key now: list, 3,000 elements"))
        #expect(lrange.cost == 3000)  // LRANGE 0 -1 of the 3,000 elements it has now
        #expect(!JSONText.render(slow).contains("\"v\""))
        #expect(slow.summary.contains("slowlog-log-slower-than 0 µs"))
        // The audit's own INFO and CONFIG GET are not in the evidence.
        #expect(!slow.evidence.contains { ["INFO", "CONFIG GET"].contains($0.command) })
        let markdown = try runCLI(["audit", "-p", String(server.port)])
        #expect(markdown.stdout.hasPrefix("# redis-cost audit of 127.0.0.1:\(server.port) (\(kind.serverID))\n\n## Fix first\n\n1. "))
    }

    @Test("safe settings: only the version note", arguments: TestServer.Kind.allCases)
    func safeSettings(kind: TestServer.Kind) throws {
        let server = try TestServer(kind, arguments: ["--tcp-keepalive", "300", "--slowlog-log-slower-than", "1000000"])
        _ = try server.connect().pipeline((0..<100).map { ["SET", "key:\($0)", "v"] })
        let (run, report) = try Self.audit(server, ["--fail-on", "warning"])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(Self.rules(report) == ["version"])
        #expect(Self.notes(report, "version").first == kind.serverID)
    }

    @Test("a user without CONFIG gets the rest and one line naming what was denied; --fail-on")
    func deniedConfig() throws {
        let server = try TestServer(.redis7, arguments: ["--tcp-keepalive", "0"])
        try server.run(["ACL", "SETUSER", "auditor", "on", ">pw", "~*", "+@all", "-config"])
        let (run, report) = try Self.audit(server, ["--user", "auditor", "-a", "pw", "--fail-on", "warning"])
        // tcp-keepalive needs CONFIG: skipped; the rest is there.
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stderr == "redis-cost: 127.0.0.1:\(server.port): could not read CONFIG GET (permission denied); the report covers the rest\n")
        #expect(report?.denied.first?.hasPrefix("CONFIG GET: NOPERM") == true)
        #expect(Self.rules(report) == ["version"])
        let (full, _) = try Self.audit(server, ["--fail-on", "warning"])
        #expect(full.status == 3)
        #expect(full.stderr == "redis-cost: findings at or above warning: tcp-keepalive\n")
    }

    @Test("a wrong password and a refused connection are one line and exit 1")
    func connectionErrors() throws {
        let server = try TestServer(.redis7)
        try server.run(["ACL", "SETUSER", "auditor", "on", ">pw", "~*", "+@all"])
        let wrong = try runCLI(["audit", "-p", String(server.port), "--user", "auditor", "-a", "nope"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "redis-cost: 127.0.0.1:\(server.port): AUTH: authentication failed (wrong user or password)\n")
        let port = freeLoopbackPort()
        let refused = try runCLI(["audit", "-p", String(port)])
        #expect(refused.status == 1)
        #expect(refused.stderr == "redis-cost: 127.0.0.1:\(port): cannot connect: Connection refused\n")
    }

    @Test("replication: a primary with a replica, and the replica's link", arguments: [TestServer.Kind.redis7, .valkey9])
    func replication(kind: TestServer.Kind) throws {
        let primary = try TestServer(kind)
        let replica = try TestServer(kind, arguments: ["--replicaof", "127.0.0.1", String(primary.port)])
        let c = try primary.connect()
        let r = try replica.connect()
        // Both sides say so before the audits (a busy machine takes seconds to sync).
        for _ in 0..<800 {
            if (try c.require(["INFO", "replication"]).text ?? "").contains("state=online"),
               (try r.require(["INFO", "replication"]).text ?? "").contains("master_link_status:up") { break }
            usleep(25_000)
        }
        _ = try c.pipeline((0..<100).map { ["SET", "k\($0)", "v"] })
        let (_, onPrimary) = try Self.audit(primary)
        let facts = Self.notes(onPrimary, "replication-lag")
        #expect(facts.contains { $0.hasPrefix("replica 127.0.0.1:\(replica.port) state online") }, "\(facts)")
        #expect(facts.contains("upgrade order: replicas first, then a failover, then the old primary"))
        let (_, onReplica) = try Self.audit(replica)
        #expect(Self.notes(onReplica, "replication-lag") == ["role replica of 127.0.0.1:\(primary.port), master_link_status up"])
        // The primary goes away: the replica's link is down, a warning.
        primary.stop()
        for _ in 0..<200 {
            if (try replica.connect().require(["INFO", "replication"]).text ?? "").contains("master_link_status:down") { break }
            usleep(25_000)
        }
        let (_, orphan) = try Self.audit(replica)
        let finding = try #require(Self.findings(orphan).first { $0.rule == "replication-lag" })
        #expect(finding.severity == .warning)
        #expect(finding.summary == "the link to the primary is down.")
    }

    @Test("a MONITOR client that does not read, and connections refused at maxclients")
    func buffersAndConnections() throws {
        let server = try TestServer(.redis7, arguments: ["--maxclients", "6"])
        let stalled = try server.connect()
        try stalled.send([[Array("MONITOR".utf8)]], label: "MONITOR")  // and never read again
        let writer = try server.connect()
        for _ in 0..<10 { _ = try writer.pipeline((0..<5000).map { ["SET", "key:\($0)", String(repeating: "v", count: 100)] }) }
        // Fill the remaining slots until the server refuses one.
        var held: [RedisConnection] = []
        var refused = false
        for _ in 0..<10 {
            do {
                let c = try server.connect()
                if case .error = try c.command(["PING"]) { refused = true; break }
                held.append(c)
            } catch {
                refused = true
                break
            }
        }
        #expect(refused)
        held.removeAll()
        usleep(100_000)
        let (run, report) = try Self.audit(server)
        #expect(run.status == 0, "\(run.stderr)")
        let buffers = Self.notes(report, "output-buffers")
        #expect(buffers.contains { $0.contains("flags O") && $0.contains("cmd monitor") }, "\(buffers)")
        let connections = try #require(Self.findings(report).first { $0.rule == "connections" })
        #expect(connections.summary.contains("connections rejected (rejected_connections)"))
        _ = stalled
    }
}
