extension Array {
    /// Empties a per-call buffer that holds a few elements, keeping its storage.
    /// `removeAll(keepingCapacity: true)` takes the generic `replaceSubrange` (about 80
    /// instructions, once per call on the hot paths); `removeLast` is a few for each element.
    @inlinable package mutating func removeFewKeepingCapacity() {
        while !isEmpty { removeLast() }
    }
}
