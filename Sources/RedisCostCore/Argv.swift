/// One command's argv as ranges into the mapped file: no copy, no String.
public struct Argv {
    public private(set) var base: UnsafeRawPointer?
    /// Where each argument starts in `base` and how long it is: one array, so that a copy
    /// of an argv (a `Call`, a formula's input) retains one buffer. Only the first `used`
    /// are this call's: the array keeps the spans of longer calls before, so that the next
    /// call is written over them in place (emptying an array costs more than a short call's
    /// whole parse).
    @usableFromInline var spans: [(start: Int, length: Int)] = []
    @usableFromInline var used = 0

    @inlinable public var count: Int { used }

    public init() {
        spans.reserveCapacity(64)
    }

    /// The bytes of all its arguments (within the buffer they point into: no overflow).
    public var byteCount: Int { spans[..<used].reduce(0) { $0 + $1.length } }

    @inlinable public subscript(index: Int) -> UnsafeRawBufferPointer {
        let span = self.span(index)
        return UnsafeRawBufferPointer(start: base.map { $0 + span.start }, count: span.length)
    }

    /// Where argument `index` starts in `base`, and its length.
    @inlinable package func span(_ index: Int) -> (start: Int, length: Int) {
        precondition(index >= 0 && index < used, "an argument index beyond the call's")
        return spans[index]
    }

    /// Points the argv at `base` with the spans `source[range]` (a staged call's), written over
    /// its own in one pass (the costing thread does this for every call).
    package mutating func reload(base: UnsafeRawPointer?, spans source: [(start: Int, length: Int)], range: Range<Int>) {
        self.base = base
        while spans.count < range.count { spans.append((0, 0)) }
        spans.withUnsafeMutableBufferPointer { target in
            for i in range { target[i - range.lowerBound] = source[i] }
        }
        used = range.count
    }

    package mutating func reset(base: UnsafeRawPointer?) {
        self.base = base
        used = 0
    }

    @inlinable @inline(__always) package mutating func append(start: Int, length: Int) {
        if used < spans.count {
            spans[used] = (start, length)
        } else {
            spans.append((start, length))
        }
        used += 1
    }

    /// An argv over copies of the arguments, valid inside `body` (a SLOWLOG entry, tests).
    public static func with<R>(_ arguments: [[UInt8]], _ body: (Argv) throws -> R) rethrows -> R {
        try Copy(bytes: arguments.flatMap { $0 }, ends: arguments.reduce(into: []) { $0.append(($0.last ?? 0) + $1.count) }).with(body)
    }

    /// The arguments copied out of the buffer they point into, all in one array: a call
    /// kept after its line is gone (a script call waiting for its nested calls) costs its
    /// bytes once, not an array per argument.
    public struct Copy {
        package let bytes: [UInt8]
        /// Where each argument ends in `bytes`; it starts where the one before ends.
        package let ends: [Int]

        /// An argv over the copy, valid inside `body`.
        public func with<R>(_ body: (Argv) throws -> R) rethrows -> R {
            try bytes.withUnsafeBytes { raw in
                var argv = Argv()
                argv.reset(base: raw.baseAddress)
                var start = 0
                for end in ends {
                    argv.append(start: start, length: end - start)
                    start = end
                }
                return try body(argv)
            }
        }
    }

    public func copy() -> Copy {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(byteCount)
        var ends: [Int] = []
        ends.reserveCapacity(count)
        for index in 0..<count {
            bytes.append(contentsOf: self[index])
            ends.append(bytes.count)
        }
        return Copy(bytes: bytes, ends: ends)
    }

    public func bytes(_ index: Int) -> [UInt8] { Array(self[index]) }
}
