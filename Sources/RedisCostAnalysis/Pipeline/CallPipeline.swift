import Foundation

/// Calls staged on one thread and costed on another. The thread that reads the input owns
/// the model (resolve, the sizes before each call, the replay of its write) and fills batches
/// of `StagedCall`s; a second thread owns what the costing stages change (cost, aggregation,
/// findings, a capture's clients and transactions) and takes the batches in order through a
/// bounded queue, handing each back emptied. No structure is touched by both: each side has its
/// own, and a batch belongs to whichever side holds it. A few batches are in flight at most, so
/// memory stays bounded and the reader waits when the costing falls behind.
///
/// Unthreaded (a live stream, which needs each chunk costed before the next is read; several
/// captures merged by time), the same batches are costed on the reading thread when handed
/// over, so both ways run the same code.
package final class CallPipeline: @unchecked Sendable {
    /// The batch being filled (the reading thread's).
    package private(set) var batch: CallBatch
    /// Offsets of the input before this are done with on both threads: its pages may go back.
    package private(set) var releasable = 0
    package let threaded: Bool
    private let cost: (CallBatch) -> Void
    private var spare: [CallBatch] = []
    private var inFlight = 0
    private let toCost: BatchQueue<CallBatch?>
    private let costed: BatchQueue<CallBatch>
    private var thread: Thread?
    private let stopped = DispatchSemaphore(value: 0)

    /// `cost` runs on the costing thread (on this one, unthreaded) for each batch, in order.
    /// `batches` of `callsPerBatch` calls at most are in flight.
    package init(threaded: Bool, batches: Int = 4, callsPerBatch: Int = 4096, cost: @escaping (CallBatch) -> Void) {
        self.threaded = threaded
        self.cost = cost
        toCost = BatchQueue(capacity: max(2, batches))
        costed = BatchQueue(capacity: max(2, batches))
        batch = CallBatch(callLimit: callsPerBatch)
        spare = (1..<max(2, batches)).map { _ in CallBatch(callLimit: callsPerBatch) }
    }

    /// What the batches' offsets point into from now on (a mapped file, a live chunk), and
    /// what keeps it mapped while they are in flight. Waits for the batches of the input before.
    package func startInput(base: UnsafeRawPointer?, owner: AnyObject?) {
        drain()
        releasable = 0
        self.base = base
        self.owner = owner
        batch.base = base
        batch.owner = owner
    }

    private var base: UnsafeRawPointer?
    private var owner: AnyObject?

    /// Hands the batch over when it is full.
    @inline(__always)
    package func submitIfFull() {
        if batch.isFull { submit() }
    }

    /// Hands the batch over (costs it here, unthreaded) and starts an empty one.
    package func submit() {
        guard !batch.calls.isEmpty else { return }
        guard threaded else {
            cost(batch)
            if batch.firstOffset != .max { releasable = max(releasable, batch.firstOffset) }
            batch.reset()
            batch.base = base
            batch.owner = owner
            return
        }
        startIfNeeded()
        toCost.put(batch)
        inFlight += 1
        batch = spare.popLast() ?? takeCosted()
        batch.base = base
        batch.owner = owner
    }

    /// Hands the batch over and waits until every call staged so far has been costed.
    package func drain() {
        submit()
        while inFlight > 0 { spare.append(takeCosted()) }
    }

    /// Costs what is left and stops the costing thread; call before reading what it owns.
    package func finish() {
        drain()
        guard let _ = thread else { return }
        toCost.put(nil)
        stopped.wait()
        thread = nil
    }

    private func takeCosted() -> CallBatch {
        let done = costed.take()
        inFlight -= 1
        // The costing thread may still read the input where the batch began (a capture's
        // previous line, whose gap the next line closes), not before.
        if done.firstOffset != .max { releasable = max(releasable, done.firstOffset) }
        done.reset()
        return done
    }

    private func startIfNeeded() {
        guard thread == nil else { return }
        // The thread holds the queues and the stage, not the pipeline: a driver that stops
        // on bad input and drops its pipeline still ends the thread (deinit).
        let toCost = self.toCost, costed = self.costed, stopped = self.stopped
        let cost = UncheckedSendable(self.cost)
        let thread = Thread {
            while let batch = toCost.take() {
                cost.value(batch)
                costed.put(batch)
            }
            stopped.signal()
        }
        // The formula evaluator and the findings rules recurse a little; the default stack
        // of a secondary thread is small.
        thread.stackSize = 8 << 20
        thread.name = "redis-cost: cost"
        self.thread = thread
        thread.start()
    }

    deinit {
        // A driver that stops on bad input still ends the thread it started.
        if thread != nil {
            toCost.put(nil)
            stopped.wait()
        }
    }
}
