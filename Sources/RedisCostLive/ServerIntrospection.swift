import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

extension RedisConnection {
    /// `INFO` of one section as `field → value`.
    public func info(_ section: String) throws(ServerError) -> [String: String] {
        parseInfo(try require(["INFO", section]).text ?? "")
    }

    /// The server's id for the table (`redis-8.2.3`, `valkey-9.1.2`).
    public func serverID() throws(ServerError) -> String {
        ServerCommandDocs.serverID(infoServer: try require(["INFO", "server"]).text ?? "")
    }

    /// Everything `COMMAND DOCS` and `COMMAND INFO` say, module commands included.
    public func commandDocs() throws(ServerError) -> ServerCommandDocs {
        let server = try serverID()
        let docs = try require(["COMMAND", "DOCS"])
        let info = try require(["COMMAND", "INFO"])
        return ServerCommandDocs(server: server, docs: docs, info: info)
    }
}
