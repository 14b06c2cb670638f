import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay
import RedisCostAnalysis
import RedisCostLive
import RedisCostReport
#if canImport(Glibc)
import Glibc
#endif

/// A fake server that misbehaves on demand: the one place a fake is right, since real servers
/// do not send hostile replies when asked. It listens on a free loopback port (127.0.0.1 only),
/// reads the commands the tool sends, and answers each with what `script` says, or else like a
/// polite Redis 7.0.15 with an empty data set. It stops itself after `lifetime` seconds and
/// sends at most `byteLimit` bytes on a connection, whatever the tool does.
final class HostileServer: @unchecked Sendable {
    enum Answer: Sendable {
        case bytes([UInt8])
        /// The bytes, then the connection is closed.
        case bytesThenClose([UInt8])
        /// The prefix, then `chunk` again and again (pausing `pause` seconds between chunks)
        /// until the tool closes the connection or a limit is reached.
        case endless(prefix: [UInt8], chunk: [UInt8], pause: Double)
        /// No answer, ever.
        case silence
    }

    /// The answer to one command (`["CLIENT", "SETNAME", "x"]`), nil for the polite one.
    typealias Script = @Sendable (_ argv: [String]) -> Answer?

    let port: Int
    var name: String { "127.0.0.1:\(port)" }
    private let listener: Int32
    private let script: Script
    private let deadline: Double
    private let byteLimit: Int
    private let lock = NSLock()
    private var stopped = false
    private var sessions: [Int32] = []

    init(lifetime: Double = 20, byteLimit: Int = 1 << 30, script: @escaping Script) throws {
        self.script = script
        self.byteLimit = byteLimit
        deadline = monotonicSeconds() + lifetime
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0  // the kernel picks a free port
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, bound == 0, listen(fd, 16) == 0 else {
            if fd >= 0 { close(fd) }
            throw TestServer.StartError(description: "the hostile server cannot listen: \(String(cString: strerror(errno)))")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread { [self] in acceptLoop() }.start()
    }

    deinit { stop() }

    /// Ends every connection; the threads notice within 100 ms.
    func stop() {
        lock.lock()
        stopped = true
        lock.unlock()
    }

    private var isOver: Bool {
        lock.lock()
        defer { lock.unlock() }
        return stopped || monotonicSeconds() > deadline
    }

    private func acceptLoop() {
        defer { close(listener) }
        while !isOver {
            var ready = pollfd(fd: listener, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            let fd = accept(listener, nil, nil)
            guard fd >= 0 else { continue }
            // Short socket timeouts: every blocked call comes back to check whether to stop.
            var tv = timeval(tv_sec: 0, tv_usec: 100_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            Thread { [self] in serve(fd) }.start()
        }
    }

    private func serve(_ fd: Int32) {
        defer { close(fd) }
        var reader = RESPReader()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var sent = 0
        /// Sends all of `bytes`; false when the connection is over.
        func write(_ bytes: [UInt8]) -> Bool {
            var offset = 0
            while offset < bytes.count {
                guard !isOver, sent < byteLimit else { return false }
                let n = bytes[offset...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if n > 0 {
                    offset += n
                    sent += n
                } else if n < 0, errno != EAGAIN, errno != EWOULDBLOCK, errno != EINTR {
                    return false
                }
            }
            return true
        }
        while !isOver {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return }
            if n < 0 {
                if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR { continue }
                return
            }
            chunk.withUnsafeBytes { reader.append(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            while let command = try? reader.next() {
                let argv = (command.array ?? []).compactMap(\.text)
                switch script(argv) ?? Self.polite(argv) {
                case .bytes(let bytes):
                    guard write(bytes) else { return }
                case .bytesThenClose(let bytes):
                    _ = write(bytes)
                    return
                case .endless(let prefix, let repeated, let pause):
                    guard write(prefix) else { return }
                    while write(repeated) {
                        if pause > 0 { usleep(useconds_t(pause * 1_000_000)) }
                    }
                    return
                case .silence:
                    continue
                }
            }
        }
    }

    /// What a polite Redis 7.0.15 with no keys answers.
    static func polite(_ argv: [String]) -> Answer {
        let words = argv.prefix(2).map { $0.uppercased() }
        switch (words.first ?? "", words.count > 1 ? words[1] : "") {
        case ("AUTH", _), ("SELECT", _), ("CLIENT", "SETNAME"), ("MONITOR", _): return .bytes(status("OK"))
        case ("CLIENT", "INFO"): return .bytes(bulk("id=7 addr=127.0.0.1:40000 laddr=127.0.0.1:6379 fd=8 name=redis-cost-sampler db=0\n"))
        case ("CLIENT", "ID"): return .bytes(Array(":8\r\n".utf8))
        case ("CLIENT", "LIST"): return .bytes(bulk("id=8 addr=127.0.0.1:40001 fd=9 name= db=0 flags=O omem=0 cmd=monitor\n"))
        case ("INFO", _): return .bytes(bulk("# Server\r\nredis_version:7.0.15\r\nuptime_in_seconds:100\r\n# Keyspace\r\n"))
        case ("ECHO", _): return .bytes(bulk(argv.count > 1 ? argv[1] : ""))
        case ("TYPE", _): return .bytes(status("none"))
        case ("DBSIZE", _), ("SLOWLOG", "LEN"): return .bytes(Array(":0\r\n".utf8))
        case ("SLOWLOG", "GET"), ("CONFIG", "GET"), ("LATENCY", "LATEST"): return .bytes(Array("*0\r\n".utf8))
        default: return .bytes(Array("-ERR unknown command '\(argv.first ?? "")'\r\n".utf8))
        }
    }

    static func status(_ text: String) -> [UInt8] { Array("+\(text)\r\n".utf8) }
    static func bulk(_ text: String) -> [UInt8] { Array("$\(text.utf8.count)\r\n\(text)\r\n".utf8) }
}
