import Foundation

/// A bounded first-in, first-out queue between two threads, one putting and one taking:
/// `put` waits while it is full, `take` while it is empty. The lock both take is what makes
/// an item's contents, written by one thread before `put`, whole for the other after `take`.
package final class BatchQueue<Element>: @unchecked Sendable {
    private let condition = NSCondition()
    private var items: [Element?]
    private var head = 0
    private var stored = 0
    package let capacity: Int

    package init(capacity: Int) {
        precondition(capacity > 0, "a queue holds at least one item")
        self.capacity = capacity
        items = Array(repeating: nil, count: capacity)
    }

    package func put(_ item: Element) {
        condition.lock()
        defer { condition.unlock() }
        while stored == capacity { condition.wait() }
        items[(head + stored) % capacity] = item
        stored += 1
        condition.broadcast()
    }

    package func take() -> Element {
        condition.lock()
        defer { condition.unlock() }
        while stored == 0 { condition.wait() }
        let item = items[head].unsafelyUnwrapped
        items[head] = nil
        head = (head + 1) % capacity
        stored -= 1
        condition.broadcast()
        return item
    }

    /// Items waiting now (another thread may change it the moment after).
    package var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return stored
    }
}

/// A value handed to a second thread, which alone uses it from then on (`CallPipeline`'s
/// costing stage, `SnapshotPipeline`'s decoder).
package struct UncheckedSendable<Value>: @unchecked Sendable {
    package let value: Value
    package init(_ value: Value) { self.value = value }
}
