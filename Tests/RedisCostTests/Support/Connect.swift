import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport

enum RedisCostTestsConnection {
    static func connect(_ options: ConnectionOptions) throws -> RedisConnection { try RedisConnection(options) }
}
