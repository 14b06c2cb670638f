#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import RedisCostCore
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis

/// Something went wrong talking to a server; the message names the server and the command.
public struct ServerError: Error, CustomStringConvertible, Equatable {
    public var server: String
    public var command: String?
    public var detail: String
    public var description: String {
        if let command { return "\(server): \(command): \(detail)" }
        return "\(server): \(detail)"
    }

    /// The detail may be the server's own words (an error reply): it is made one printable
    /// line of bounded length, whatever the server sent.
    public init(server: String, command: String?, detail: String) {
        self.server = server
        self.command = command
        self.detail = Self.oneLine(detail)
    }

    package static func oneLine(_ text: String, limit: Int = 400) -> String {
        var out = ""
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            if count > limit {
                out += "…"
                break
            }
            // C0 and C1 controls: a newline would break the line, an escape would drive the terminal.
            if scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
                out += "\\x" + (scalar.value < 0x10 ? "0" : "") + String(scalar.value, radix: 16)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

/// One blocking connection to a Redis or Valkey server over TCP or a unix socket.
/// A class: a connection has identity (a socket, a buffer of unread replies).
public final class RedisConnection {
    public let options: ConnectionOptions
    private var descriptor: Int32 = -1
    private var reader = RESPReader()
    private var readChunk = [UInt8](repeating: 0, count: 64 * 1024)
    /// Why the connection cannot be used any more: after a timeout or a malformed reply, the
    /// next bytes would be taken for the next command's reply.
    private var broken: String?
    /// No reply is awaited past this moment (`monotonicSeconds`), whatever the timeout: a
    /// live session's end.
    public var notAfter: Double?

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

    package func fail(_ command: String?, _ detail: String) -> ServerError {
        ServerError(server: options.serverName, command: command, detail: detail)
    }

    package static func explain(_ message: String) -> String {
        if message.hasPrefix("WRONGPASS") || message.contains("invalid password") {
            return "authentication failed (wrong user or password)"
        }
        if let redirect = ClusterRedirect(message) { return "\(message): \(redirect.explanation)" }
        return message
    }

    package static func errnoText() -> String { String(cString: strerror(errno)) }

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

    /// Bounds `connect` (SO_SNDTIMEO bounds it on Linux); replies have their own deadline.
    private static func setTimeouts(_ fd: Int32, _ seconds: Double) {
        // Clamped: a timeval of zero would mean no timeout at all, a huge one would not convert.
        let bounded = min(max(seconds, 0.001), 1_000_000)
        let whole = bounded.rounded(.down)
        var tv = timeval(tv_sec: Int(whole), tv_usec: Int((bounded - whole) * 1_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    /// `--timeout` as the user wrote it: `5 s`, `0.5 s`.
    package var timeoutText: String {
        let t = options.timeout
        return (t == t.rounded() && t < 1e15 ? String(Int(t)) : String(t)) + " s"
    }

    /// When a round trip that starts now must be over: the timeout covers the whole exchange,
    /// not only the gaps between bytes, so a server that trickles or never ends a reply is cut off.
    private func roundTripDeadline() -> Deadline {
        let timeout = monotonicSeconds() + options.timeout
        if let notAfter, notAfter < timeout { return Deadline(at: notAfter, reason: "no complete reply before the session's end") }
        return Deadline(at: timeout, reason: "no complete reply within \(timeoutText)")
    }

    /// A moment (`monotonicSeconds`) and what to say when it passes.
    private struct Deadline {
        package var at: Double
        package var reason: String
    }

    /// Waits until the socket is ready for `events` or the deadline passes.
    private func wait(for events: Int32, until deadline: Deadline, label: String) throws(ServerError) {
        while true {
            let remaining = deadline.at - monotonicSeconds()
            guard remaining > 0 else { throw breaking(label, deadline.reason) }
            var fd = pollfd(fd: descriptor, events: Int16(events), revents: 0)
            let ready = poll(&fd, 1, Int32(min(remaining * 1000, 60_000).rounded(.up)))
            if ready > 0 { return }
            if ready < 0, errno != EINTR { throw breaking(label, "poll failed: \(Self.errnoText())") }
        }
    }

    /// Marks the connection unusable and says why.
    private func breaking(_ label: String, _ detail: String) -> ServerError {
        broken = detail
        return fail(label, detail)
    }

    /// Commands this connection sent, by the name the server counts them under in `INFO
    /// commandstats` (`TYPE`, `CLIENT|LIST`), so a session can say exactly what it cost.
    public private(set) var sentCommands: [String: Int] = [:]
    /// Commands whose second argument names the subcommand (`CLIENT`, `SCRIPT`, …): the table's.
    package static let containers = CommandTable.embeddedContainers

    /// Sends without reading the replies (a client that never reads, in tests).
    public func send(_ commands: [[[UInt8]]], label: String) throws(ServerError) {
        try send(commands, label: label, deadline: roundTripDeadline())
    }

    private func send(_ commands: [[[UInt8]]], label: String, deadline: Deadline) throws(ServerError) {
        if let broken { throw fail(label, "the connection failed earlier: \(broken)") }
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
                Glibc.send(descriptor, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT))
            }
            if written >= 0 {
                offset += written
            } else if errno == EAGAIN || errno == EWOULDBLOCK {
                // A server that does not read: wait for room, until the deadline.
                try wait(for: Int32(POLLOUT), until: deadline, label: label)
            } else if errno != EINTR {
                throw breaking(label, "write failed: \(Self.errnoText())")
            }
        }
    }

    /// The next reply without sending anything (a MONITOR line read as a reply), within the timeout.
    public func reply(label: String) throws(ServerError) -> RESPValue {
        try reply(label: label, deadline: roundTripDeadline())
    }

    /// The next reply; throws when it is not whole by the deadline, the connection closes, or
    /// the bytes are not RESP.
    private func reply(label: String, deadline: Deadline) throws(ServerError) -> RESPValue {
        if let broken { throw fail(label, "the connection failed earlier: \(broken)") }
        while true {
            do {
                if let value = try reader.next() { return value }
            } catch {
                throw breaking(label, error.description)
            }
            try wait(for: Int32(POLLIN), until: deadline, label: label)
            let count = readChunk.withUnsafeMutableBytes { raw in
                recv(descriptor, raw.baseAddress, raw.count, Int32(MSG_DONTWAIT))
            }
            if count > 0 {
                readChunk.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
            } else if count == 0 {
                throw breaking(label, "the server closed the connection")
            } else if errno != EINTR, errno != EAGAIN, errno != EWOULDBLOCK {
                throw breaking(label, "read failed: \(Self.errnoText())")
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
            if errno == EAGAIN || errno == EWOULDBLOCK { throw fail(label, "no data within \(timeoutText)") }
            throw fail(label, "read failed: \(Self.errnoText())")
        }
    }

    /// Sends all commands at once, then reads one reply per command (pipelining). The timeout
    /// covers the whole round trip.
    public func pipeline(_ commands: [[String]], label: String? = nil) throws(ServerError) -> [RESPValue] {
        try pipelineBytes(commands.map { $0.map { Array($0.utf8) } }, label: label ?? commands.first?.first ?? "pipeline")
    }

    public func pipelineBytes(_ commands: [[[UInt8]]], label: String) throws(ServerError) -> [RESPValue] {
        let deadline = roundTripDeadline()
        try send(commands, label: label, deadline: deadline)
        var replies: [RESPValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands { replies.append(try reply(label: label, deadline: deadline)) }
        return replies
    }

    /// How errors name a pipeline: its commands, `TYPE` or `SELECT/STRLEN/HLEN`.
    package static func label(of commands: [[[UInt8]]]) -> String {
        var names: [String] = []
        for argv in commands {
            guard let first = argv.first else { continue }
            let name = String(decoding: first, as: UTF8.self).uppercased()
            if !names.contains(name) { names.append(name) }
        }
        return names.joined(separator: "/")
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
