@testable import RedisCost

enum RedisCostTestsConnection {
    static func connect(_ options: ConnectionOptions) throws -> RedisConnection { try RedisConnection(options) }
}
