import RedisCostCore

/// One call as the thread that owns the model hands it to the thread that costs it: what the
/// cost, aggregation and findings stages need and can no longer ask the model for — the table
/// entry, the sizes its keys had just before it ran, the cost of a formula that reads more of
/// the model than those sizes — and where its arguments are. Plain values, no references: a
/// batch of them is reused from call to call.
package struct StagedCall {
    package enum Kind: UInt8 {
        /// A call the table knows and the server would run: costed.
        case call
        /// A command the table does not know: counted, cost unknown.
        case unknownCommand
        /// The server would refuse it (arity); already counted as malformed where it was read.
        case wrongArity
        /// The end of a script's calls: the script (EVAL, FCALL) is costed now, with them.
        case scriptEnd
        /// A live stream's chunk ends: what refers to its bytes must be copied out.
        case chunkEnd
    }

    package var kind: Kind
    package var context: Call.Context = .topLevel
    /// Whether the arguments were copied into the batch's arena (a capture's unescaped
    /// arguments) or are offsets into its `base` (an AOF's mapped bytes).
    package var argumentsInArena = false
    package var hasTime = false
    /// A capture's line of a script's call (client `lua`).
    package var isScript = false
    /// The table entry; -1 for an unknown command.
    package var index = -1
    package var database = 0
    package var node = 0
    /// Which of the driver's files it was read from.
    package var file = 0
    package var argumentStart = 0
    package var argumentCount = 0
    /// Its keys' positions and their sizes before it ran, at the same index in the batch.
    package var keyStart = 0
    package var keyCount = 0
    /// The index of its formula's cost in `CallBatch.modelCosts` when the formula reads the
    /// model (evaluated where the model is); -1: the costing thread evaluates it.
    package var modelCost = -1
    /// The serialized length of the JSON document at its first key (`semantics.reads ==
    /// .document`, when the model has it); -1: none.
    package var documentBytes = -1
    /// The bytes per element of its first key (`Keyspace.elementBytes`) when its reply carries
    /// the elements it walks and the time model prices them (`CostModel.repliesElements`); -1: none.
    package var elementBytes: Float = -1
    package var microseconds: Int64 = 0
    /// Where it was read: an AOF's byte offset, a capture's line number.
    package var position = 0
    /// A capture's line: its bytes in `base`, and its client's.
    package var lineStart = 0
    package var lineEnd = 0
    package var clientStart = 0
    package var clientLength = 0

    package init(kind: Kind) { self.kind = kind }

    package var time: Int64? { hasTime ? microseconds : nil }
}

/// Staged calls in order, with the arrays their ranges point into. The thread that stages
/// fills it, hands it over whole, and gets it back emptied: the arrays keep their capacity, so
/// no call allocates.
package final class CallBatch: @unchecked Sendable {
    package var calls: [StagedCall] = []
    package var spans: [(start: Int, length: Int)] = []
    package var keyPositions: [Int] = []
    package var sizes: [KeySize] = []
    /// Argument bytes copied in (a capture's unescaped arguments, a script's copy).
    private var arenaStorage = UnsafeMutableRawBufferPointer.allocate(byteCount: CallBatch.arenaStart, alignment: 8)
    package private(set) var arenaCount = 0
    package var modelCosts: [Cost] = []
    /// What the offsets that are not in the arena point into: the mapped file, a live chunk.
    package var base: UnsafeRawPointer?
    /// Holds the mapping `base` points into while the batch is in flight.
    package var owner: AnyObject?
    /// Where its first call begins in its file: what the costing thread may still read of the
    /// file once it is done with the batches before (a capture's previous line).
    package var firstOffset = Int.max

    /// Calls per batch; a batch is handed over sooner when its arena holds `arenaLimit` bytes.
    package let callLimit: Int
    package static let arenaLimit = 4 << 20
    private static let arenaStart = 64 << 10

    package init(callLimit: Int) {
        self.callLimit = max(1, callLimit)
        calls.reserveCapacity(self.callLimit)
        spans.reserveCapacity(self.callLimit * 3)
        keyPositions.reserveCapacity(self.callLimit)
        sizes.reserveCapacity(self.callLimit)
    }

    package var isFull: Bool { calls.count >= callLimit || arenaCount >= Self.arenaLimit }

    /// The arena's bytes, valid until the batch is reset.
    package var arena: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: arenaStorage[..<arenaCount]) }

    deinit { arenaStorage.deallocate() }

    /// Copies `bytes` into the arena; returns where they start.
    @inline(__always)
    private func copyToArena(_ bytes: UnsafeRawBufferPointer) -> Int {
        let start = arenaCount
        if bytes.count > arenaStorage.count - start {
            // An argument of up to 512 MB (a capture's line limit) grows it; `reset` gives that back.
            let grown = UnsafeMutableRawBufferPointer.allocate(byteCount: max(arenaStorage.count * 2, start + bytes.count), alignment: 8)
            if start > 0 { grown.baseAddress!.copyMemory(from: arenaStorage.baseAddress!, byteCount: start) }
            arenaStorage.deallocate()
            arenaStorage = grown
        }
        if bytes.count > 0 { (arenaStorage.baseAddress! + start).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
        arenaCount = start + bytes.count
        return start
    }

    package func reset() {
        calls.removeAll(keepingCapacity: true)
        spans.removeAll(keepingCapacity: true)
        keyPositions.removeAll(keepingCapacity: true)
        sizes.removeAll(keepingCapacity: true)
        arenaCount = 0
        if arenaStorage.count > 4 * Self.arenaLimit {
            arenaStorage.deallocate()
            arenaStorage = .allocate(byteCount: Self.arenaStart, alignment: 8)
        }
        modelCosts.removeAll(keepingCapacity: true)
        base = nil
        owner = nil
        firstOffset = .max
    }

    /// Records `argv`'s arguments for `call`: as offsets when they point into `base`, else
    /// copied into the arena (their buffer is reused for the next call).
    @inline(__always)
    package func add(_ argv: Argv, to call: inout StagedCall) {
        call.argumentStart = spans.count
        call.argumentCount = argv.count
        if let base, argv.base == base {
            for i in 0..<argv.count { spans.append(argv.span(i)) }
            return
        }
        call.argumentsInArena = true
        for i in 0..<argv.count {
            let argument = argv[i]
            spans.append((copyToArena(argument), argument.count))
        }
    }

    /// Points `argv` at `call`'s arguments; `arena` is the arena's bytes.
    @inline(__always)
    package func arguments(of call: StagedCall, arena: UnsafeRawBufferPointer, into argv: inout Argv) {
        argv.reload(base: call.argumentsInArena ? arena.baseAddress : base, spans: spans,
                    range: call.argumentStart..<(call.argumentStart + call.argumentCount))
    }

    /// Fills `positions` and `sizes` with `call`'s keys, written over in place when there are as
    /// many as before (most calls).
    @inline(__always)
    package func keys(of call: StagedCall, positions: inout [Int], sizes: inout [KeySize]) {
        let start = call.keyStart, count = call.keyCount
        if positions.count == count, sizes.count == count {
            for i in 0..<count {
                positions[i] = keyPositions[start + i]
                sizes[i] = self.sizes[start + i]
            }
            return
        }
        positions.removeAll(keepingCapacity: true)
        sizes.removeAll(keepingCapacity: true)
        for i in start..<(start + count) {
            positions.append(keyPositions[i])
            sizes.append(self.sizes[i])
        }
    }
}

extension CallBatch {
    /// The cost `call`'s formula had where the model is, if it reads the model.
    @inline(__always)
    package func modelCost(of call: StagedCall) -> Cost? { call.modelCost >= 0 ? modelCosts[call.modelCost] : nil }
}

/// The costing thread's call, keys and sizes, refilled for every staged call of a batch (no
/// allocation). A local of the loop over a batch, so that handing them to the stages copies
/// nothing.
package struct StagedCallBuffers {
    package var call = Call(argv: Argv(), database: 0, origin: .init(file: "", position: 0))
    package var resolved = CallResolver.Resolved(index: 0, keyPositions: [])
    package var sizes: [KeySize] = []
    private var file = -1

    package init() {}

    /// `staged`'s facts into `call` and `resolved` (its arguments are loaded apart);
    /// `files`: the driver's, which `staged.file` indexes.
    @inline(__always)
    package mutating func load(_ staged: StagedCall, from batch: CallBatch, files: [String]) {
        batch.keys(of: staged, positions: &resolved.keyPositions, sizes: &sizes)
        resolved.index = staged.index
        call.database = staged.database
        call.microseconds = staged.time
        call.context = staged.context
        if staged.file != file, staged.file < files.count {
            file = staged.file
            call.origin.file = files[file]
        }
        call.origin.position = staged.position
    }
}
