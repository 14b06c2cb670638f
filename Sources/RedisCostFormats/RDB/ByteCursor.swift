import RedisCostCore
import RedisCostKeyspace

/// Reads an RDB file (or an embedded payload) front to back. Every failure names the file
/// and the byte offset where the expected thing was not found.
public struct ByteCursor {
    package let bytes: UnsafeRawBufferPointer
    package let file: String
    /// Offset of `bytes[0]` in the file (for payloads embedded in another file).
    package let base: Int
    public private(set) var offset = 0

    public init(bytes: UnsafeRawBufferPointer, file: String, base: Int = 0, offset: Int = 0) {
        self.bytes = bytes
        self.file = file
        self.base = base
        self.offset = offset
    }

    public var isAtEnd: Bool { offset >= bytes.count }
    public var remaining: Int { bytes.count - offset }

    public func fail(_ detail: String, at position: Int? = nil) -> InputError {
        InputError(file: file, offset: base + (position ?? offset), detail: detail)
    }

    @inline(__always)
    package mutating func byte(_ what: @autoclosure () -> String) throws(InputError) -> UInt8 {
        guard offset < bytes.count else { throw fail("the file ends where \(what()) should be") }
        defer { offset += 1 }
        return bytes[offset]
    }

    @inline(__always)
    package mutating func take(_ count: Int, _ what: @autoclosure () -> String) throws(InputError) -> UnsafeRawBufferPointer {
        guard count >= 0, count <= bytes.count - offset else {
            throw fail("the file ends inside \(what()) (\(count) bytes needed, \(max(bytes.count - offset, 0)) left)")
        }
        defer { offset += count }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + count)])
    }

    package mutating func littleEndian<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws(InputError) -> T {
        let raw = try take(MemoryLayout<T>.size, what())
        return T(littleEndian: raw.loadUnaligned(as: T.self))
    }

    package mutating func bigEndian<T: FixedWidthInteger>(_ type: T.Type, _ what: @autoclosure () -> String) throws(InputError) -> T {
        let raw = try take(MemoryLayout<T>.size, what())
        return T(bigEndian: raw.loadUnaligned(as: T.self))
    }

    package mutating func skip(_ count: Int, _ what: @autoclosure () -> String) throws(InputError) {
        _ = try take(count, what())
    }
}
