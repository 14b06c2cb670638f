#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Something went wrong talking to a server; the message names the server and the command.
public struct ServerError: Error, CustomStringConvertible, Equatable {
    public var server: String
    public var command: String?
    public var detail: String
    public var description: String {
        if let command { return "\(server): \(command): \(detail)" }
        return "\(server): \(detail)"
    }
}

/// One blocking connection to a Redis or Valkey server over TCP or a unix socket.
/// A class: a connection has identity (a socket, a buffer of unread replies).
public final class RedisConnection {
    public let options: ConnectionOptions
    private var descriptor: Int32 = -1
    private var reader = RESPReader()
    private var readChunk = [UInt8](repeating: 0, count: 64 * 1024)

    /// Connects, authenticates (`AUTH [user] password`) and selects the database.
    public init(_ options: ConnectionOptions) throws(ServerError) {
        self.options = options
        descriptor = try Self.open(options)
        if let password = options.password {
            var argv = ["AUTH"]
            if let user = options.user { argv.append(user) }
            argv.append(password)
            let reply = try command(argv, label: "AUTH")
            if case .error(let message) = reply { throw fail("AUTH", Self.explain(message)) }
        }
        if options.database != 0 {
            let reply = try command(["SELECT", String(options.database)])
            if case .error(let message) = reply { throw fail("SELECT \(options.database)", message) }
        }
    }

    deinit { if descriptor >= 0 { close(descriptor) } }

    public var serverName: String { options.serverName }

    func fail(_ command: String?, _ detail: String) -> ServerError {
        ServerError(server: options.serverName, command: command, detail: detail)
    }

    static func explain(_ message: String) -> String {
        if message.hasPrefix("WRONGPASS") || message.contains("invalid password") {
            return "authentication failed (wrong user or password)"
        }
        return message
    }

    static func errnoText() -> String { String(cString: strerror(errno)) }

    private static func open(_ options: ConnectionOptions) throws(ServerError) -> Int32 {
        let name = options.serverName
        if let path = options.socketPath {
            let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw ServerError(server: name, command: nil, detail: "socket: \(errnoText())") }
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
                close(fd)
                throw ServerError(server: name, command: nil, detail: "socket path is too long")
            }
            withUnsafeMutableBytes(of: &address.sun_path) { raw in
                for (i, b) in bytes.enumerated() { raw[i] = b }
            }
            setTimeouts(fd, options.timeout)
            let result = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
                }
            }
            guard result == 0 else {
                let text = errnoText()
                close(fd)
                throw ServerError(server: name, command: nil, detail: "cannot connect: \(text)")
            }
            return fd
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(options.host, String(options.port), &hints, &list)
        guard status == 0, let first = list else {
            throw ServerError(server: name, command: nil, detail: "cannot resolve host: \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var lastError = "no address"
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0 {
                setTimeouts(fd, options.timeout)
                if connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    var one: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
                    return fd
                }
                lastError = errnoText()
                close(fd)
            }
            candidate = info.pointee.ai_next
        }
        throw ServerError(server: name, command: nil, detail: "cannot connect: \(lastError)")
    }

    private static func setTimeouts(_ fd: Int32, _ seconds: Double) {
        guard seconds > 0 else { return }
        var tv = timeval(tv_sec: Int(seconds), tv_usec: Int((seconds - Double(Int(seconds))) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Commands this connection sent, by the name the server counts them under in `INFO
    /// commandstats` (`TYPE`, `CLIENT|LIST`), so a session can say exactly what it cost.
    public private(set) var sentCommands: [String: Int] = [:]
    static let containers: Set<String> = ["CLIENT", "CONFIG", "COMMAND", "SLOWLOG", "LATENCY", "COMMANDLOG", "MEMORY", "ACL"]

    public func send(_ commands: [[[UInt8]]], label: String) throws(ServerError) {
        var buffer: [UInt8] = []
        for argv in commands {
            encodeCommand(argv, into: &buffer)
            guard let first = argv.first else { continue }
            var name = String(decoding: first, as: UTF8.self).uppercased()
            if Self.containers.contains(name), argv.count > 1 { name += "|" + String(decoding: argv[1], as: UTF8.self).uppercased() }
            sentCommands[name, default: 0] += 1
        }
        var offset = 0
        while offset < buffer.count {
            let written = buffer[offset...].withUnsafeBytes { raw in
                Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL))
            }
            if written < 0 {
                if errno == EINTR { continue }
                throw fail(label, "write failed: \(Self.errnoText())")
            }
            offset += written
        }
    }

    /// The next reply; throws on a timeout or a closed connection.
    public func reply(label: String) throws(ServerError) -> RESPValue {
        while true {
            do {
                if let value = try reader.next() { return value }
            } catch {
                throw fail(label, error.description)
            }
            let count = readChunk.withUnsafeMutableBytes { raw in
                recv(descriptor, raw.baseAddress, raw.count, 0)
            }
            if count > 0 {
                readChunk.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            } else if count == 0 {
                throw fail(label, "the server closed the connection")
            } else if errno == EINTR {
                continue
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                throw fail(label, "no reply within \(options.timeout) s")
            } else {
                throw fail(label, "read failed: \(Self.errnoText())")
            }
        }
    }

    /// The socket, for `poll` (a MONITOR stream is read raw, see `receive`).
    public var fileDescriptor: Int32 { descriptor }

    /// Bytes received but not parsed as replies yet.
    public func takeBufferedBytes() -> [UInt8] { reader.takeBuffered() }

    /// Reads whatever has arrived into `buffer`: the byte count, 0 when the server closed
    /// the connection.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, label: String) throws(ServerError) -> Int {
        while true {
            let count = recv(descriptor, buffer.baseAddress, buffer.count, 0)
            if count >= 0 { return count }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw fail(label, "no data within \(options.timeout) s") }
            throw fail(label, "read failed: \(Self.errnoText())")
        }
    }

    /// Sends all commands at once, then reads one reply per command (pipelining).
    public func pipeline(_ commands: [[String]], label: String? = nil) throws(ServerError) -> [RESPValue] {
        let name = label ?? commands.first?.first ?? "pipeline"
        try send(commands.map { $0.map { Array($0.utf8) } }, label: name)
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try reply(label: name)) }
        return replies
    }

    public func pipelineBytes(_ commands: [[[UInt8]]], label: String) throws(ServerError) -> [RESPValue] {
        try send(commands, label: label)
        var replies: [RESPValue] = []
        for _ in commands { replies.append(try reply(label: label)) }
        return replies
    }

    /// One command and its reply (which may be a server error value: callers decide).
    public func command(_ argv: [String], label: String? = nil) throws(ServerError) -> RESPValue {
        try pipeline([argv], label: label ?? argv.prefix(2).joined(separator: " "))[0]
    }

    /// One command whose error reply is an error of the tool.
    public func require(_ argv: [String]) throws(ServerError) -> RESPValue {
        let reply = try command(argv)
        if case .error(let message) = reply {
            throw fail(argv.prefix(2).joined(separator: " "), Self.explain(message))
        }
        return reply
    }
}
