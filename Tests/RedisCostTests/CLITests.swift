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

/// The executable as a user runs it.
@Suite struct CLITests {
    @Test func copiedBinaryWorksFromAnyDirectory() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("redis-cost-copy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("redis-cost")
        // Copy in a child process: a descriptor open for writing in this process would be
        // inherited by servers other tests spawn meanwhile, and exec would fail (ETXTBSY).
        #expect(try Spawned("/bin/cp", [try builtBinary.path, copy.path]).wait() == 0)
        let result = try runCLI(["table", "SINTER", "client", "--format", "json"], binary: copy, directory: URL(fileURLWithPath: "/"))
        #expect(result.status == 0)
        let entries = try decodeReport([TableReport.Entry].self, result.stdout)
        let names = entries.map(\.name)
        #expect(names.first == "SINTER")
        #expect(names.contains("CLIENT LIST"))
        let sinter = try #require(entries.first)
        #expect(sinter.group == "set")
        #expect(sinter.since == "1.0.0")
        #expect(sinter.complexity == "O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.")
        #expect(sinter.formula == "smallest(1) * keys")
        #expect(sinter.flags == ["readonly"])
    }

    @Test func markdownTableByGroup() throws {
        let result = try runCLI(["table", "--group", "hyperloglog"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("| PFADD | hyperloglog | 2.8.9 | O(1) to add every element. | `argc - 2` |"))
    }

    @Test func helpAndUsageErrors() throws {
        for command in [["table"], ["table", "refresh"], ["explain"]] {
            let help = try runCLI(command + ["--help"])
            #expect(help.status == 0)
            #expect(help.stdout.contains("Usage:"))
            #expect(help.stdout.contains("redis-cost \(command.joined(separator: " "))"))
        }
        let overview = try runCLI([])
        #expect(overview.status == 2)
        #expect(overview.stdout.contains("Commands:"))
        let unknownOption = try runCLI(["table", "--formt", "json"])
        #expect(unknownOption.status == 2)
        #expect(unknownOption.stderr == "redis-cost: unknown option --formt (did you mean --format?) (see 'redis-cost table --help')\n")
        let badChoice = try runCLI(["table", "--format", "yaml"])
        #expect(badChoice.status == 2)
        #expect(badChoice.stderr.contains("--format takes one of markdown, json, not \"yaml\""))
        let unknownCommand = try runCLI(["analyse"])
        #expect(unknownCommand.status == 2)
    }

    @Test func explainWithPasswordFromTheEnvironmentOverAUnixSocket() throws {
        let server = try TestServer(.redis7, arguments: ["--requirepass", "s3cret"])
        var options = server.options
        options.password = "s3cret"
        _ = try RedisCostTestsConnection.connect(options).require(["RPUSH", "jobs", "a", "b", "c", "d"])
        let result = try runCLI(["explain", "LINDEX", "jobs", "2", "-s", server.socketPath, "--format", "json"],
                                environment: ["REDISCLI_AUTH": "s3cret"])
        #expect(result.status == 0, "\(result.stderr)")
        let explained = try decodeReport(ExplainReport.Document.self, result.stdout)
        #expect(explained.sizes == [4])
        #expect(explained.cost.value == 2)

        let wrong = try runCLI(["explain", "GET", "k", "-p", String(server.port), "-a", "nope"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr == "redis-cost: 127.0.0.1:\(server.port): AUTH: authentication failed (wrong user or password)\n")
        #expect(!wrong.stderr.contains("nope"))
    }

    @Test func explainWithAnACLUserAndADatabaseFromTheURL() throws {
        let server = try TestServer(.valkey9)
        try server.run(["ACL", "SETUSER", "reader", "on", ">pw", "~*", "+@read", "+type", "+info", "+select", "+dbsize"],
                       ["SELECT", "3"])
        _ = try server.connect(database: 3).require(["SADD", "tags", "a", "b", "c"])
        let result = try runCLI(["explain", "SMEMBERS", "tags", "-u", "redis://reader:pw@127.0.0.1:\(server.port)/3"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("| `tags` | set | 3 |"))
        #expect(result.stdout.contains("**Estimated cost: 3 elements touched**"))
        let refused = try runCLI(["explain", "GET", "k", "-p", String(freeLoopbackPort())])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasSuffix(": cannot connect: Connection refused\n"))
    }

    @Test func explainWithoutAServerSaysUnknown() throws {
        let result = try runCLI(["explain", "HGETALL", "user:1"])
        #expect(result.status == 0)
        #expect(result.stdout.contains("**Estimated cost: unknown** (size of key 1 unknown)"))
        let unknownCommand = try runCLI(["explain", "NOSUCH", "x"])
        #expect(unknownCommand.status == 1)
        #expect(unknownCommand.stderr == "redis-cost: unknown command \"NOSUCH\" (not in the command table; see 'redis-cost table')\n")
    }
}

@Suite struct TableRefreshCLITests {
    @Test("table refresh against a real server keeps the table as it is and says what it did")
    func refreshIsStableThroughTheCLI() throws {
        let server = try TestServer(.valkey9)
        let copy = server.directory.appendingPathComponent("commands.json")
        try FileManager.default.copyItem(at: packageRoot.appendingPathComponent("Data/commands.json"), to: copy)
        let result = try runCLI(["table", "refresh", "-p", String(server.port), "--file", copy.path])
        #expect(result.status == 0, "\(result.stderr)")
        let entries = try CommandTable.embedded().entries.count
        #expect(result.stderr.hasPrefix("\(copy.path): \(entries) entries; valkey-9.1.2 reported 399; added 0\n"))
        #expect(try Data(contentsOf: copy) == Data(contentsOf: packageRoot.appendingPathComponent("Data/commands.json")))
        let missing = try runCLI(["table", "refresh", "-p", String(server.port), "--file", "/nonexistent/commands.json"])
        #expect(missing.status == 1)
        #expect(missing.stderr == "redis-cost: /nonexistent/commands.json: cannot read the table (run from the project folder or pass --file)\n")
    }
}
