import Foundation
import RedisCostCore
import RedisCostKeyspace
import RedisCostFormats

/// An RDB snapshot decoded on one thread and loaded on another. A second thread runs the
/// reader (opcodes, values, names, the checksum) and hands its keys over in batches of owned
/// copies through a bounded queue; the calling thread, which owns the keyspace, loads each
/// key in file order exactly as the reader would have handed it. So the result, and the first
/// error (by file order: a bad byte the decoder met, or a key the loader refused), are those
/// of one thread.
package enum SnapshotPipeline {
    /// Reads `bytes` as `RDBReader.read` does, with `onKey` on this thread. `threaded`: decode
    /// on a second thread (else it is `RDBReader.read` itself); `keysPerBatch` keys are handed
    /// over at a time, a few batches in flight at most. `progress` runs on the decoding thread.
    package static func read(_ bytes: UnsafeRawBufferPointer, file: String, threaded: Bool, keysPerBatch: Int = 4096,
                             progress: ((Int) -> Void)? = nil,
                             onKey: (RDBReader.Key) throws(InputError) -> Void) throws(InputError) -> RDBReader.Summary {
        guard threaded else { return try RDBReader.read(bytes, file: file, progress: progress, onKey: onKey) }
        let queue = BatchQueue<Item>(capacity: 4)
        let stop = StopFlag()
        let done = DispatchSemaphore(value: 0)
        let decoding = UncheckedSendable((bytes, progress))
        let limit = max(1, keysPerBatch)
        let thread = Thread {
            let (bytes, progress) = decoding.value
            var batch = KeyBatch(capacity: limit)
            do throws(InputError) {
                let summary = try RDBReader.read(bytes, file: file, progress: progress) { (key) throws(InputError) -> Void in
                    batch.append(key)
                    guard batch.keys.count >= limit else { return }
                    // The loader refused a key: what follows is not needed (this error is not shown).
                    if stop.isSet { throw InputError(file: file, offset: key.offset, detail: "stopped") }
                    queue.put(.keys(batch))
                    batch = KeyBatch(capacity: limit)
                }
                if !batch.keys.isEmpty { queue.put(.keys(batch)) }
                queue.put(.end(summary))
            } catch {
                // The keys before the bad byte are loaded first: one of them may be refused,
                // an error earlier in the file.
                if !batch.keys.isEmpty { queue.put(.keys(batch)) }
                queue.put(.failed(error))
            }
            done.signal()
        }
        // The module and stream decoders recurse a little; a secondary thread's default stack is small.
        thread.stackSize = 8 << 20
        thread.name = "redis-cost: decode"
        thread.start()
        // The decoding thread reads the file until it has put its last item: it ends before this returns.
        defer { done.wait() }
        var refused: InputError?
        while true {
            switch queue.take() {
            case .keys(let batch):
                guard refused == nil else { continue }
                do throws(InputError) {
                    try batch.load(onKey)
                } catch {
                    refused = error
                    stop.set()
                }
            case .end(let summary):
                if let refused { throw refused }
                return summary
            case .failed(let error):
                // A key refused comes before the decoder's error in the file: it is the first.
                throw refused ?? error
            }
        }
    }

    private enum Item {
        case keys(KeyBatch)
        case end(RDBReader.Summary)
        case failed(InputError)
    }

    /// Keys as the reader gave them, their names copied into one buffer (a name the reader
    /// gives may be a decompressed one it reuses).
    private struct KeyBatch {
        /// A key without its name (`name` empty), and where its name is in `names`.
        struct Key {
            var key: RDBReader.Key
            var name: Range<Int>
        }
        var keys: [Key] = []
        var names: [UInt8] = []

        init(capacity: Int) {
            keys.reserveCapacity(capacity)
            names.reserveCapacity(capacity * 16)
        }

        mutating func append(_ key: RDBReader.Key) {
            var owned = key
            owned.name = UnsafeRawBufferPointer(start: nil, count: 0)
            keys.append(Key(key: owned, name: names.count..<(names.count + key.name.count)))
            names.append(contentsOf: key.name)
        }

        /// Each key to `onKey`, in order, its name in this batch's buffer.
        func load(_ onKey: (RDBReader.Key) throws(InputError) -> Void) throws(InputError) {
            // (`withUnsafeBytes` rethrows an untyped error: the loader's is carried out of it.)
            var refused: InputError?
            names.withUnsafeBytes { names in
                for staged in keys {
                    var key = staged.key
                    key.name = UnsafeRawBufferPointer(rebasing: names[staged.name])
                    do throws(InputError) { try onKey(key) } catch { refused = error; return }
                }
            }
            if let refused { throw refused }
        }
    }

    /// Set by the loading thread when it refuses a key, read by the decoding one.
    private final class StopFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var stopped = false
        var isSet: Bool { lock.withLock { stopped } }
        func set() { lock.withLock { stopped = true } }
    }
}
