import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// Where and how to connect, with redis-cli's meaning for every field.
public struct ConnectionOptions: Sendable, Equatable {
    public var host = "127.0.0.1"
    public var port = 6379
    /// A unix socket path; when set, host and port are not used.
    public var socketPath: String?
    public var user: String?
    public var password: String?
    public var database = 0
    /// Seconds to wait for a connection or a reply.
    public var timeout: Double = 5

    public init() {}

    public struct URLError: Error, CustomStringConvertible {
        public var url: String
        public var detail: String
        public var description: String { "invalid server URL \"\(url)\": \(detail)" }
    }

    /// `redis://[[user]:password@]host[:port][/db]` or `unix://[[user]:password@]/path[?db=N]`,
    /// as redis-cli's `-u` takes them. `rediss://` (TLS) is refused: this build has no TLS.
    public mutating func apply(url: String) throws(URLError) {
        var rest: Substring
        let isUnix: Bool
        if url.hasPrefix("redis://") {
            rest = url.dropFirst("redis://".count)
            isUnix = false
        } else if url.hasPrefix("unix://") {
            rest = url.dropFirst("unix://".count)
            isUnix = true
        } else if url.hasPrefix("rediss://") {
            throw URLError(url: url, detail: "TLS (rediss://) is not supported; use a local port or a unix socket")
        } else {
            throw URLError(url: url, detail: "expected redis://host:port/db or unix:///path")
        }
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let name = String(credentials[..<colon])
                user = name.isEmpty ? nil : percentDecoded(name)
                password = percentDecoded(String(credentials[credentials.index(after: colon)...]))
            } else if !credentials.isEmpty {
                // redis-cli takes a lone "redis://secret@host" as the password.
                password = percentDecoded(String(credentials))
            }
        }
        if isUnix {
            var path = rest
            if let question = rest.firstIndex(of: "?") {
                path = rest[..<question]
                for pair in rest[rest.index(after: question)...].split(separator: "&") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2, parts[0] == "db" {
                        guard let db = Int(parts[1]), db >= 0 else { throw URLError(url: url, detail: "db must be a number") }
                        database = db
                    }
                }
            }
            guard !path.isEmpty else { throw URLError(url: url, detail: "no socket path") }
            socketPath = String(path)
            return
        }
        var authority = rest
        if let slash = rest.firstIndex(of: "/") {
            authority = rest[..<slash]
            let dbText = rest[rest.index(after: slash)...]
            if !dbText.isEmpty {
                guard let db = Int(dbText), db >= 0 else { throw URLError(url: url, detail: "the database \"\(dbText)\" is not a number") }
                database = db
            }
        }
        if authority.hasPrefix("[") {
            // IPv6 literal: [::1]:6379
            guard let close = authority.firstIndex(of: "]") else { throw URLError(url: url, detail: "unclosed [ in the host") }
            host = String(authority[authority.index(after: authority.startIndex)..<close])
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else { throw URLError(url: url, detail: "bad port") }
                port = p
            }
        } else if let colon = authority.lastIndex(of: ":") {
            let hostPart = authority[..<colon]
            guard let p = Int(authority[authority.index(after: colon)...]), (1...65535).contains(p) else {
                throw URLError(url: url, detail: "the port is not a number from 1 to 65535")
            }
            if !hostPart.isEmpty { host = String(hostPart) }
            port = p
        } else if !authority.isEmpty {
            host = String(authority)
        }
        socketPath = nil
    }

    /// How the user named the server, for error messages: `127.0.0.1:6379` or the socket path.
    public var serverName: String {
        if let socketPath { return socketPath }
        return host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

package func percentDecoded(_ text: String) -> String {
    var bytes: [UInt8] = []
    var utf8 = Array(text.utf8)[...]
    while let byte = utf8.popFirst() {
        if byte == UInt8(ascii: "%"), utf8.count >= 2,
           let value = UInt8(String(decoding: utf8.prefix(2), as: UTF8.self), radix: 16) {
            bytes.append(value)
            utf8 = utf8.dropFirst(2)
        } else {
            bytes.append(byte)
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}
