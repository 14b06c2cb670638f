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

/// Every complexity class evaluated on real calls against keys of known sizes in a real
/// server, with sizes read by the same O(1) sampler `explain` uses.
@Suite struct FormulaEvaluationTests {
    let server: TestServer
    let connection: RedisConnection
    let table: CommandTable

    init() throws {
        server = try TestServer(.redis7)
        connection = try server.connect()
        table = try CommandTable.embedded()
        var setup: [[String]] = [
            ["SADD", "s1"] + (0..<100).map(String.init),
            ["SADD", "s2"] + (0..<10).map { "m\($0)" },
            ["SADD", "s3"] + (0..<1000).map(String.init),
            ["HSET", "h"] + (0..<50).flatMap { ["f\($0)", "v"] },
            ["RPUSH", "l"] + (0..<1000).map(String.init),
            ["ZADD", "z"] + (0..<200).flatMap { [String($0), "m\($0)"] },
            ["ZADD", "z2"] + (0..<50).flatMap { [String($0), "m\($0)"] },
            ["SET", "str", "hello world"],
        ]
        setup += (0..<30).map { _ in ["XADD", "st", "*", "f", "v"] }
        _ = try connection.pipeline(setup)
        _ = try server.connect(database: 1).require(["SET", "other-db", "x"])
    }

    func cost(_ argv: String..., nested: Cost? = nil) throws -> Cost {
        var explanation = try Explanation(argv: argv, table: table)
        let sampled = try connection.sample(keys: explanation.keys.map { Array($0.utf8) }, table: table)
        explanation.withSizes(
            sampled, databaseSize: try connection.databaseSize(), allDatabasesSize: try connection.allDatabasesSize(),
            source: "test")
        if let nested {
            explanation.facts.nestedCost = nested
            explanation.cost = explanation.formula!.evaluate(explanation.facts)
        }
        return explanation.cost
    }

    @Test func sampledSizesAreExact() throws {
        let sampled = try connection.sample(keys: ["s1", "h", "l", "z", "str", "st", "nokey"].map { Array($0.utf8) }, table: table)
        #expect(sampled.map(\.type) == ["set", "hash", "list", "zset", "string", "stream", "none"])
        #expect(sampled.map(\.size) == [.elements(100), .elements(50), .elements(1000), .elements(200), .bytes(11), .elements(30), .missing])
        #expect(try connection.databaseSize() == 9)
        #expect(try connection.allDatabasesSize() == 10)
    }

    @Test func constant() throws {
        #expect(try cost("GET", "str") == .exact(1))
        #expect(try cost("SISMEMBER", "s3", "5") == .exact(1))
    }

    @Test func sizeOfAKey() throws {
        #expect(try cost("HGETALL", "h") == .exact(50))
        #expect(try cost("SMEMBERS", "s3") == .exact(1000))
        #expect(try cost("HGETALL", "nokey") == .exact(1))
    }

    @Test func numberOfArguments() throws {
        #expect(try cost("HDEL", "h", "f1", "f2", "f3") == .exact(3))
        #expect(try cost("SADD", "s1", "a", "b") == .exact(2))
        #expect(try cost("MGET", "a", "b", "c", "d") == .exact(4))
        #expect(try cost("HGETDEL", "h", "FIELDS", "2", "f1", "f2") == .exact(2))
    }

    @Test func logarithmic() throws {
        #expect(try cost("ZRANK", "z", "m1") == .exact(log2(200)))
        // Each insert sees the size the key has then: 2 × log2(200 + 2/2).
        #expect(try cost("ZADD", "z", "1", "a", "2", "b") == .exact(2 * log2(201)))
    }

    @Test func logPlusRangeClippedToTheSize() throws {
        #expect(try cost("ZRANGE", "z", "0", "9") == .exact(log2(200) + 10))
        #expect(try cost("ZRANGE", "z", "190", "500") == .exact(log2(200) + 10))
        #expect(try cost("ZRANGE", "z", "0", "-1") == .exact(log2(200) + 200))
        #expect(try cost("ZRANGE", "z", "300", "400") == .exact(log2(200)))
        #expect(try cost("ZREVRANGE", "z", "-5", "-1") == .exact(log2(200) + 5))
    }

    @Test func logPlusLimitCount() throws {
        #expect(try cost("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "0", "5") == .atMost(log2(200) + 5))
        #expect(try cost("ZRANGEBYSCORE", "z", "-inf", "+inf") == .atMost(log2(200) + 200))
        #expect(try cost("ZRANGE", "z", "(1", "50", "BYSCORE", "LIMIT", "0", "-1") == .atMost(log2(200) + 200))
        #expect(try cost("ZRANGE", "z", "0", "50", "BYSCORE", "LIMIT", "0", "7") == .atMost(log2(200) + 7))
    }

    @Test func smallestSetTimesNumberOfSets() throws {
        #expect(try cost("SINTER", "s1", "s2", "s3") == .exact(30))
        #expect(try cost("SINTERSTORE", "dst", "s1", "s3") == .exact(200))
        #expect(try cost("SINTERCARD", "2", "s1", "s3", "LIMIT", "10") == .exact(200))
    }

    @Test func totalOfAllKeys() throws {
        #expect(try cost("SUNION", "s1", "s2") == .exact(110))
        #expect(try cost("SUNIONSTORE", "dst", "s1", "s2", "s3") == .exact(1110))
        // DEL frees every element of a collection but a string is one allocation.
        #expect(try cost("DEL", "s1", "h", "str", "nokey") == .exact(151))
        #expect(try cost("UNLINK", "s1", "h", "str") == .exact(3))
    }

    @Test func zdiff() throws {
        #expect(try cost("ZDIFF", "2", "z", "z2") == .atMost(250 + 200 * log2(200)))
    }

    @Test func distanceFromTheNearerEnd() throws {
        #expect(try cost("LINDEX", "l", "10") == .exact(11))
        #expect(try cost("LINDEX", "l", "-1") == .exact(1))
        #expect(try cost("LINDEX", "l", "500") == .exact(500))
        #expect(try cost("LINDEX", "l", "5000") == .exact(1))
        #expect(try cost("LSET", "l", "998", "x") == .exact(2))
    }

    @Test func lrangeStartDistancePlusElements() throws {
        #expect(try cost("LRANGE", "l", "0", "-1") == .exact(1000))
        #expect(try cost("LRANGE", "l", "100", "109") == .exact(110))
        #expect(try cost("LRANGE", "l", "-10", "-1") == .exact(19))
        #expect(try cost("LTRIM", "l", "0", "99") == .exact(900))
    }

    @Test func scanCount() throws {
        #expect(try cost("SCAN", "0") == .exact(10))
        #expect(try cost("SCAN", "0", "MATCH", "user:*", "COUNT", "1000") == .exact(1000))
        #expect(try cost("SSCAN", "s3", "0", "COUNT", "100") == .exact(100))
        #expect(try cost("HSCAN", "h", "0", "COUNT", "100") == .exact(50))
    }

    @Test func sortNPlusMLogM() throws {
        #expect(try cost("SORT", "l") == .exact(1000 + 1000 * log2(1000)))
        #expect(try cost("SORT", "l", "LIMIT", "0", "10") == .exact(1000 + 10 * log2(10)))
        #expect(try cost("SORT", "s2", "ALPHA", "STORE", "dst") == .exact(10 + 10 * log2(10)))
    }

    @Test func wholeDataSet() throws {
        #expect(try cost("KEYS", "*") == .exact(9))
        #expect(try cost("FLUSHDB") == .exact(9))
        #expect(try cost("FLUSHALL") == .exact(10))
        #expect(try cost("FLUSHALL", "ASYNC") == .exact(1))
    }

    @Test func scriptsCostTheirCalls() throws {
        #expect(try cost("EVAL", "return 1", "0") == .unknown(reason: "the calls it made are not in this input"))
        #expect(try cost("EVAL", "return 1", "1", "s1", nested: .exact(42)) == .exact(42))
        #expect(try cost("EVALSHA", "abc", "0", nested: .atMost(7)) == .atMost(7))
        #expect(try cost("EXEC", nested: .exact(12)) == .exact(12))
    }

    @Test func streams() throws {
        #expect(try cost("XADD", "st", "MAXLEN", "10", "*", "f", "v") == .exact(22))
        #expect(try cost("XTRIM", "st", "MAXLEN", "~", "20") == .exact(10))
        #expect(try cost("XRANGE", "st", "-", "+", "COUNT", "5") == .atMost(5))
        #expect(try cost("XRANGE", "st", "-", "+") == .atMost(30))
    }

    @Test func strings() throws {
        #expect(try cost("GETRANGE", "str", "0", "4") == .exact(5))
        #expect(try cost("GETRANGE", "str", "0", "-1") == .exact(11))
        #expect(try cost("SETRANGE", "str", "0", "abc") == .exact(3))
        #expect(try cost("LCS", "str", "str") == .exact(121))
    }

    @Test func countedArguments() throws {
        #expect(try cost("HRANDFIELD", "h", "-5") == .exact(5))
        #expect(try cost("HRANDFIELD", "h", "100") == .exact(50))
        #expect(try cost("SPOP", "s1", "7") == .exact(7))
        #expect(try cost("LPOP", "l") == .exact(1))
    }

    @Test func unknownIsNeverZero() throws {
        let explanation = try Explanation(argv: ["SINTER", "s1", "s2"], table: table)
        #expect(explanation.cost == .unknown(reason: "size of key 1 unknown"))
        #expect(try cost("CLIENT", "LIST") == .unknown(reason: "N is the number of client connections"))
        #expect(try cost("LINDEX", "l", "notanumber") == .unknown(reason: "argument 2 is not an integer"))
    }
}
