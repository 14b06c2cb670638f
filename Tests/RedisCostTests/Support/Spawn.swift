import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A child process started with posix_spawn and reaped with waitpid. (Foundation's
/// Process.waitUntilExit can hang on Linux when tests run in parallel.)
struct Spawned {
    let pid: pid_t

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    /// Starts `path` with `arguments`; stdout and stderr go to the given files (or /dev/null).
    init(_ path: String, _ arguments: [String], environment: [String: String]? = nil, directory: String? = nil,
         stdout: String = "/dev/null", stderr: String = "/dev/null") throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // posix_spawn_file_actions_addchdir_np is not visible from Swift: GNU env -C changes directory.
        let program = directory == nil ? path : "/usr/bin/env"
        let words = directory.map { ["-C", $0, path] + arguments } ?? arguments
        let argv = ([program] + words).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        let env = (environment ?? ProcessInfo.processInfo.environment).map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { env.forEach { free($0) } }
        // Test threads run with signals blocked (libdispatch); a child inherits that mask and
        // would then ignore SIGTERM. Give it an empty mask and default handlers.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        var defaults = sigset_t()
        sigemptyset(&defaults)
        for signal in [SIGTERM, SIGINT, SIGPIPE, SIGCHLD, SIGHUP] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let status = posix_spawn(&pid, program, &actions, &attributes, argv, env)
        guard status == 0 else { throw SpawnError(description: "cannot start \(path): \(String(cString: strerror(status)))") }
        self.pid = pid
    }

    var isRunning: Bool {
        var status: Int32 = 0
        return waitpid(pid, &status, WNOHANG) == 0
    }

    /// Waits for the exit and returns the exit status (128 + signal if killed).
    @discardableResult
    func wait() -> Int32 { waitMeasured().status }

    /// The exit status, and the most memory the process ever held (its peak resident set).
    func waitMeasured() -> (status: Int32, maxResidentBytes: Int) {
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0, errno == EINTR {}
        let resident = usage.ru_maxrss * 1024
        if status & 0x7f == 0 { return ((status >> 8) & 0xff, resident) }
        return (128 + (status & 0x7f), resident)
    }

    func stop() {
        kill(pid, SIGTERM)
        wait()
    }
}
