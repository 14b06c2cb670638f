import Testing
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

@Suite struct ConnectionOptionsTests {
    func options(_ url: String) throws -> ConnectionOptions {
        var options = ConnectionOptions()
        try options.apply(url: url)
        return options
    }

    @Test func redisURLs() throws {
        let full = try options("redis://alice:s%40cret@10.1.2.3:6380/4")
        #expect(full.host == "10.1.2.3")
        #expect(full.port == 6380)
        #expect(full.user == "alice")
        #expect(full.password == "s@cret")
        #expect(full.database == 4)
        let passwordOnly = try options("redis://:pw@localhost")
        #expect(passwordOnly.user == nil)
        #expect(passwordOnly.password == "pw")
        #expect(passwordOnly.port == 6379)
        let v6 = try options("redis://[::1]:7000")
        #expect(v6.host == "::1")
        #expect(v6.serverName == "[::1]:7000")
    }

    @Test func unixURLs() throws {
        let unix = try options("unix:///var/run/redis.sock?db=2")
        #expect(unix.socketPath == "/var/run/redis.sock")
        #expect(unix.database == 2)
        #expect(unix.serverName == "/var/run/redis.sock")
    }

    @Test func badURLs() {
        #expect(throws: ConnectionOptions.URLError.self) { try options("http://x") }
        #expect(throws: ConnectionOptions.URLError.self) { try options("redis://host:99999") }
        #expect(throws: ConnectionOptions.URLError.self) { try options("redis://host/notadb") }
        #expect(throws: ConnectionOptions.URLError.self) { try options("rediss://host:6379") }
    }
}
