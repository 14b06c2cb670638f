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

/// redis-cli's connection flags, shared by every command that talks to a server.
enum ConnectionFlags {
    static let options: [OptionSpec] = [
        OptionSpec(["-u", "--url"], value: "URL", help: "Server URL: redis://[user:password@]host:port/db or unix:///path/to/sock?db=N."),
        OptionSpec(["-h", "--host"], value: "HOST", help: "Server host (default 127.0.0.1)."),
        OptionSpec(["-p", "--port"], value: "PORT", help: "Server port (default 6379)."),
        OptionSpec(["-s", "--socket"], value: "PATH", help: "Unix socket path (overrides host and port)."),
        OptionSpec(["-a", "--pass"], value: "PASSWORD", help: "Password; prefer the REDISCLI_AUTH environment variable, which is not visible in ps."),
        OptionSpec(["--user"], value: "USER", help: "ACL user name (with -a or REDISCLI_AUTH)."),
        OptionSpec(["-n", "--db"], value: "DB", help: "Database number (default 0)."),
        OptionSpec(["--timeout"], value: "SECONDS", help: "Seconds a connect, and each command's whole reply, may take (default 5)."),
    ]

    /// Whether any connection flag was given at all.
    static func given(_ parsed: ParsedArguments) -> Bool {
        options.contains { parsed.string($0.canonical) != nil }
    }

    /// Options in redis-cli's precedence: the URL first, then explicit flags on top of it,
    /// and REDISCLI_AUTH when no password was given on the command line.
    static func connectionOptions(_ parsed: ParsedArguments) throws -> ConnectionOptions {
        var options = ConnectionOptions()
        if let url = parsed.string("--url") {
            do {
                try options.apply(url: url)
            } catch {
                throw UsageError(command: parsed.command, message: error.description)
            }
        }
        if let host = parsed.string("--host") { options.host = host; options.socketPath = nil }
        if let port = try parsed.integer("--port", in: 1...65535) { options.port = port; options.socketPath = nil }
        if let socket = parsed.string("--socket") { options.socketPath = socket }
        if let user = parsed.string("--user") { options.user = user }
        if let password = parsed.string("--pass") {
            options.password = password
        } else if options.password == nil, let auth = ProcessInfo.processInfo.environment["REDISCLI_AUTH"], !auth.isEmpty {
            options.password = auth
        }
        if let db = try parsed.integer("--db", in: 0...1_000_000) { options.database = db }
        if let timeout = parsed.string("--timeout") {
            // Bounded: a day is longer than any reply may take, and the deadline arithmetic stays exact.
            guard let seconds = Double(timeout), seconds >= 0.001, seconds <= 86_400 else {
                throw UsageError(command: parsed.command, message: "--timeout takes a number of seconds from 0.001 to 86400, not \"\(timeout)\"")
            }
            options.timeout = seconds
        }
        return options
    }

    static func connect(_ parsed: ParsedArguments) throws -> RedisConnection {
        let options = try connectionOptions(parsed)
        do {
            return try RedisConnection(options)
        } catch {
            throw CLIError(description: error.description)
        }
    }
}
