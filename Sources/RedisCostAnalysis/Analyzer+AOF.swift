import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats
import RedisCostTable
import RedisCostReplay

/// The AOF driver: the base file (or an RDB snapshot or preamble) sets the sizes, the incr
/// files are the workload. `SELECT` and the `MULTI`/`EXEC` brackets are the AOF's framing.
extension Analyzer {
    /// Analyzes an input; `progress` is told the bytes done and the total. The calls are read
    /// and replayed on this thread and costed on a second one (`CallPipeline`).
    public func run(_ input: AOFInput, progress: ((Int, Int) -> Void)? = nil) throws(InputError) -> AnalysisResult {
        let started = Date()
        result = AnalysisResult(input: input.description)
        result.top = options.top
        let files = input.segments.map(\.path)
        let pipeline = CallPipeline(threaded: usesSecondThread, callsPerBatch: options.callsPerBatch) { [unowned self] batch in
            self.account(batch, files: files)
        }
        // On bad input the calls staged so far are costed and the thread ends before the error goes up.
        defer { pipeline.finish() }
        // One call and its entry and key positions, refilled for every command: no value is
        // built per call. Locals, not properties: handing them down then retains nothing.
        var call = Call(argv: Argv(), database: 0, origin: .init(file: "", position: 0))
        var resolved = CallResolver.Resolved(index: 0, keyPositions: [])
        var done = 0
        let total = input.segments.reduce(0) { total, segment in
            total + ((try? FileManager.default.attributesOfItem(atPath: segment.path)[.size] as? Int) ?? 0)
        }
        for (fileIndex, segment) in input.segments.enumerated() {
            currentNode = segment.node
            var record = AnalysisResult.Segment(path: segment.path, role: segment.role, format: segment.format, bytes: 0, commands: 0)
            let file: MappedFile
            do {
                file = try MappedFile(path: segment.path)
            } catch {
                throw InputError(file: segment.path, offset: 0, detail: error.detail)
            }
            record.bytes = file.bytes.count
            pipeline.startInput(base: file.bytes.baseAddress, owner: file)
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
                    try handle(&call, &resolved, role: segment.role, framing: &framing, file: fileIndex, pipeline: pipeline)
                    if reader.position - lastReport > 4 << 20 {
                        // Pages both threads are done with are not needed again: give them
                        // back, so the mapping of a many-gigabyte file does not grow the resident set.
                        file.release(upTo: min(reader.commandOffset, pipeline.releasable))
                        lastReport = reader.position
                        progress?(done + reader.position, total)
                    }
                }
            }
            pipeline.submit()
            done += file.bytes.count
            result.segments.append(record)
            if replayer.keyspace.namesOverflowed {
                throw InputError(file: segment.path, offset: reader.position,
                                 detail: "the key names of this data set exceed 4 GiB, more than this version can replay")
            }
            // Redis loads an AOF that ends inside MULTI as truncated too.
            if result.truncatedAt != nil { break }
        }
        pipeline.finish()
        progress?(total, total)
        finish()
        result.elapsedSeconds = Date().timeIntervalSince(started)
        return result
    }

    /// Whether the costing stages run on a second thread: asked for, and every formula that
    /// reads the model evaluable where the model is.
    package var usesSecondThread: Bool { options.costsOnSecondThread && stagesEveryFormula }

    /// The costing thread's side of an AOF: each staged call costed, aggregated and shown to
    /// the rules, in order.
    package func account(_ batch: CallBatch, files: [String]) {
        var buffers = StagedCallBuffers()
        let arena = batch.arena
        for staged in batch.calls {
            batch.arguments(of: staged, arena: arena, into: &buffers.call.argv)
            switch staged.kind {
            case .unknownCommand:
                countUnknownCommand(buffers.call.argv, node: staged.node)
            case .call:
                buffers.load(staged, from: batch, files: files)
                account(buffers.call, buffers.resolved, sizes: buffers.sizes, modelCost: batch.modelCost(of: staged),
                        documentBytes: staged.documentBytes >= 0 ? staged.documentBytes : nil,
                        elementBytes: staged.elementBytes >= 0 ? Double(staged.elementBytes) : nil, node: staged.node)
            case .wrongArity, .scriptEnd, .chunkEnd:
                break
            }
        }
    }

    /// What the AOF's own framing says about the calls that follow: the latest `#TS:`
    /// annotation, and whether they sit between a MULTI and its EXEC.
    package struct Framing {
        package var seconds: Int64?
        package var inTransaction = false
    }

    /// One command of an AOF: its framing, or a call (`call.argv` and `call.origin` are the
    /// reader's; the rest is filled here, `resolved` written over).
    package func handle(_ call: inout Call, _ resolved: inout CallResolver.Resolved, role: AOFInput.Role, framing: inout Framing,
                        file: Int, pipeline: CallPipeline) throws(InputError) {
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
        switch resolver.resolve(argv, into: &resolved) {
        case .unknownCommand:
            if role == .incremental {
                var staged = StagedCall(kind: .unknownCommand)
                staged.node = currentNode
                pipeline.batch.add(argv, to: &staged)
                pipeline.batch.calls.append(staged)
                pipeline.submitIfFull()
            }
            return
        case .wrongArity(_, let reason):
            countMalformed(at: "\((call.origin.file as NSString).lastPathComponent)@\(call.origin.position)", reason)
            return
        case .resolved:
            break
        }
        if role == .incremental {
            var staged = StagedCall(kind: .call)
            staged.database = replayer.database
            // `#TS:` seconds are bounded by the reader (latestUnixSecond): µs cannot overflow.
            if let seconds = framing.seconds {
                staged.hasTime = true
                staged.microseconds = seconds * 1_000_000
            }
            staged.context = framing.inTransaction ? .transaction : .topLevel
            staged.node = currentNode
            staged.file = file
            staged.position = call.origin.position
            let batch = pipeline.batch
            if batch.firstOffset == .max { batch.firstOffset = call.origin.position }
            batch.add(argv, to: &staged)
            stage(argv, resolved, &staged, into: batch)
            batch.calls.append(staged)
        }
        applyEffect(argv, index: resolved.index, positions: resolved.keyPositions)
        pipeline.submitIfFull()
    }
}
