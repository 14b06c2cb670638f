import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// A small workload that must make a rule fire, or must not: calls as a MONITOR capture
/// would show them, replayed from an empty data set through the whole analysis.
public struct RuleExample: Sendable {
    public var description: String
    public var fires: Bool
    public var calls: [ExampleCall]

    public static func fires(_ description: String, _ calls: [ExampleCall]) -> RuleExample {
        RuleExample(description: description, fires: true, calls: calls)
    }

    public static func quiet(_ description: String, _ calls: [ExampleCall]) -> RuleExample {
        RuleExample(description: description, fires: false, calls: calls)
    }

    /// The calls as `redis-cli monitor` lines (one client per number, 127.0.0.1:40001…).
    public var capture: String {
        var at: Int64 = 1_767_225_600_000_000
        var out = ""
        for call in calls {
            at += call.after
            let client = call.client == 0 ? "lua" : "127.0.0.1:\(40_000 + call.client)"
            out += "\(at / 1_000_000).\(String(at % 1_000_000).leftPadded(6)) [\(call.database) \(client)]"
            for arg in call.argv { out += " \"" + escaped(arg) + "\"" }
            out += "\n"
        }
        return out
    }

    private func escaped(_ text: String) -> String {
        var out = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out += "\\\""
            case UInt8(ascii: "\\"): out += "\\\\"
            case 32...126: out.unicodeScalars.append(Unicode.Scalar(byte))
            default: out += "\\x" + String(byte, radix: 16).leftPadded(2)
            }
        }
        return out
    }
}

/// One call of an example.
public struct ExampleCall: Sendable {
    public var argv: [String]
    /// 1, 2, … are connections; 0 is a script's call (`lua`).
    public var client: Int
    public var database: Int
    /// Microseconds since the previous call.
    public var after: Int64

    public init(_ argv: String..., client: Int = 1, database: Int = 0, after: Int64 = 100) {
        self.argv = argv
        self.client = client
        self.database = database
        self.after = after
    }

    package init(argv: [String], client: Int = 1, database: Int = 0, after: Int64 = 100) {
        self.argv = argv
        self.client = client
        self.database = database
        self.after = after
    }

    /// A collection of `n` elements made by one write: `fill("set", "s", 5000)`.
    public static func fill(_ type: String, _ key: String, _ n: Int, database: Int = 0) -> ExampleCall {
        let argv: [String]
        switch type {
        case "hash": argv = ["HSET", key] + (0..<n).flatMap { ["f\($0)", "v"] }
        case "list": argv = ["RPUSH", key] + (0..<n).map { "e\($0)" }
        case "zset": argv = ["ZADD", key] + (0..<n).flatMap { [String($0), "m\($0)"] }
        case "stream": argv = ["XADD", key, "*", "n", "1"]
        case "ReJSON-RL": argv = ["JSON.SET", key, "$", "{" + (0..<n).map { "\"f\($0)\":\($0)" }.joined(separator: ",") + "}"]
        default: argv = ["SADD", key] + (0..<n).map { "m\($0)" }
        }
        return ExampleCall(argv: argv, database: database)
    }

    /// `n` string keys `prefix0`… made by one MSET.
    public static func strings(_ prefix: String, _ n: Int, database: Int = 0) -> ExampleCall {
        ExampleCall(argv: ["MSET"] + (0..<n).flatMap { ["\(prefix)\($0)", "v"] }, database: database)
    }
}

extension String {
    package func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}
