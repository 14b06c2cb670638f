import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// The AOF driver: the base file (or an RDB snapshot or preamble) sets the sizes, the incr
/// files are the workload. `SELECT` and the `MULTI`/`EXEC` brackets are the AOF's framing.
extension Analyzer {
    /// Analyzes an input; `progress` is told the bytes done and the total.
    public func run(_ input: AOFInput, progress: ((Int, Int) -> Void)? = nil) throws(InputError) -> AnalysisResult {
        let started = Date()
        result = AnalysisResult(input: input.description)
        result.top = options.top
        // One call, refilled by the reader for every command: no value is built per call.
        var call = Call(argv: Argv(), database: 0, origin: .init(file: "", position: 0))
        var done = 0
        let total = input.segments.reduce(0) { total, segment in
            total + ((try? FileManager.default.attributesOfItem(atPath: segment.path)[.size] as? Int) ?? 0)
        }
        for segment in input.segments {
            currentNode = segment.node
            var record = AnalysisResult.Segment(path: segment.path, role: segment.role, format: segment.format, bytes: 0, commands: 0)
            let file: MappedFile
            do {
                file = try MappedFile(path: segment.path)
            } catch {
                throw InputError(file: segment.path, offset: 0, detail: error.detail)
            }
            record.bytes = file.bytes.count
            var start = 0
            if segment.format == .rdb {
                // An RDB file, an RDB base, or the RDB preamble of an AOF: a snapshot that sets
                // the sizes. Its keys are not calls.
                let (profile, end) = try loadSnapshot(file, path: segment.path, dropsExpired: input.manifest == nil && segment.role == .base)
                result.snapshots.append(profile)
                record.commands = 0
                start = end
            }
            // After an RDB preamble, the rest of the file is AOF: the workload of a single AOF.
            var reader = AOFCommandReader(bytes: file.bytes, file: segment.path, startingAt: start)
            var lastReport = 0
            var framing = Framing()
            call.origin.file = segment.path
            loop: while true {
                switch try reader.next(into: &call.argv) {
                case .end:
                    break loop
                case .truncated(let offset):
                    result.truncatedAt = (segment.path, offset)
                    break loop
                case .timestamp(let seconds):
                    framing.seconds = seconds
                    replayer.nowMilliseconds = seconds * 1000
                    if segment.role == .incremental {
                        result.firstTime = result.firstTime ?? seconds
                        result.lastTime = seconds
                    }
                case .command:
                    record.commands += 1
                    call.origin.position = reader.commandOffset
                    try handle(&call, role: segment.role, framing: &framing)
                    if reader.position - lastReport > 4 << 20 {
                        // Pages already read are not needed again: give them back, so the
                        // mapping of a many-gigabyte file does not grow the resident set.
                        file.release(upTo: reader.commandOffset)
                        lastReport = reader.position
                        progress?(done + reader.position, total)
                    }
                }
            }
            done += file.bytes.count
            result.segments.append(record)
            if replayer.keyspace.namesOverflowed {
                throw InputError(file: segment.path, offset: reader.position,
                                 detail: "the key names of this data set exceed 4 GiB, more than this version can replay")
            }
            // Redis loads an AOF that ends inside MULTI as truncated too.
            if result.truncatedAt != nil { break }
        }
        progress?(total, total)
        finish()
        result.elapsedSeconds = Date().timeIntervalSince(started)
        return result
    }


    /// What the AOF's own framing says about the calls that follow: the latest `#TS:`
    /// annotation, and whether they sit between a MULTI and its EXEC.
    package struct Framing {
        package var seconds: Int64?
        package var inTransaction = false
    }

    /// One command of an AOF: its framing, or a call (`call.argv` and `call.origin` are the
    /// reader's; the rest is filled here).
    package func handle(_ call: inout Call, role: AOFInput.Role, framing: inout Framing) throws(InputError) {
        let argv = call.argv
        // The AOF's own framing: database switches and transaction brackets are not calls.
        // (StaticString tokens: the length is compared first, so most calls pass at once.)
        if argv.token(0, "SELECT") {
            // The server writes a SELECT only for a database it has: another is no AOF it wrote.
            guard argv.count == 2, let db = argv.int(1).flatMap(Keyspace.databaseNumber) else {
                throw InputError(file: call.origin.file, offset: call.origin.position, detail: "expected SELECT and a database number from 0 to \(Keyspace.databaseLimit - 1)")
            }
            replayer.database = db
            return
        }
        if argv.token(0, "MULTI") { framing.inTransaction = true; return }
        if argv.token(0, "EXEC") {
            if framing.inTransaction, role == .incremental { result.transactions += 1 }
            framing.inTransaction = false
            return
        }
        let resolved: CallResolver.Resolved
        switch resolver.resolve(argv) {
        case .unknownCommand:
            if role == .incremental { countUnknownCommand(argv) }
            return
        case .wrongArity(_, let reason):
            countMalformed(at: "\((call.origin.file as NSString).lastPathComponent)@\(call.origin.position)", reason)
            return
        case .resolved(let found):
            resolved = found
        }
        if role == .incremental {
            // `#TS:` seconds are bounded by the reader (latestUnixSecond): µs cannot overflow.
            call.database = replayer.database
            call.microseconds = framing.seconds.map { $0 * 1_000_000 }
            call.context = framing.inTransaction ? .transaction : .topLevel
            cost(call, resolved)
        }
        applyEffect(argv, index: resolved.index, positions: resolved.keyPositions)
    }
}
