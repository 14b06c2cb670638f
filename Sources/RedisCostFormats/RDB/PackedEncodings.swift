import RedisCostCore
import RedisCostKeyspace

/// The compact encodings Redis stores small collections in. Each walker checks every bound
/// and reports a problem as "<format>: <what> at byte N of the blob"; the caller turns that
/// into an error naming the file and the blob's offset.
package struct BlobError: Error {
    package var detail: String
}

/// A little-endian two's-complement integer of 1 to 8 bytes (both packed encodings use them).
package func littleEndianSigned(_ blob: UnsafeRawBufferPointer, at i: Int, count: Int) -> Int64 {
    var value: UInt64 = 0
    for k in 0..<count { value |= UInt64(blob[i + k]) << (8 * UInt64(k)) }
    let shift = UInt64(64 - 8 * count)
    return Int64(bitPattern: value << shift) >> Int64(shift)
}

/// The header both packed encodings start with: total bytes (4, little endian) must be the blob.
package func checkTotalBytes(_ blob: UnsafeRawBufferPointer, format: String, headerSize: Int) throws(BlobError) {
    guard blob.count > headerSize else { throw BlobError(detail: "\(format): shorter than its header") }
    let total = Int(blob.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian)
    guard total == blob.count else { throw BlobError(detail: "\(format): header says \(total) bytes, blob has \(blob.count)") }
}

package enum Listpack {
    /// listpack.c: a 6-byte header (total bytes, element count), entries (encoding, data,
    /// back-length), then 0xFF.
    package static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (PackedEntry) throws(BlobError) -> Void) throws(BlobError) {
        try checkTotalBytes(blob, format: "listpack", headerSize: 6)
        var i = 6
        while true {
            guard i < blob.count else { throw BlobError(detail: "listpack: no end marker") }
            let b = blob[i]
            if b == 0xFF { return }
            let start = i
            func need(_ n: Int) throws(BlobError) {
                guard i + n <= blob.count - 1 else { throw BlobError(detail: "listpack: entry at byte \(start) runs past the end") }
            }
            func signed(_ count: Int) -> Int64 { littleEndianSigned(blob, at: i, count: count) }
            var entry: PackedEntry
            if b & 0x80 == 0 {
                entry = .integer(Int64(b & 0x7F))
                i += 1
            } else if b & 0xC0 == 0x80 {
                let n = Int(b & 0x3F)
                i += 1
                try need(n)
                entry = .bytes(UnsafeRawBufferPointer(rebasing: blob[i..<(i + n)]))
                i += n
            } else if b & 0xE0 == 0xC0 {
                try need(2)
                var v = Int64(Int(b & 0x1F) << 8 | Int(blob[i + 1]))
                if v >= 1 << 12 { v -= 1 << 13 }
                entry = .integer(v)
                i += 2
            } else if b & 0xF0 == 0xE0 {
                try need(2)
                let n = Int(b & 0x0F) << 8 | Int(blob[i + 1])
                i += 2
                try need(n)
                entry = .bytes(UnsafeRawBufferPointer(rebasing: blob[i..<(i + n)]))
                i += n
            } else {
                i += 1
                switch b {
                case 0xF0:
                    try need(4)
                    let n = Int(blob.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian)
                    i += 4
                    try need(n)
                    entry = .bytes(UnsafeRawBufferPointer(rebasing: blob[i..<(i + n)]))
                    i += n
                case 0xF1: try need(2); entry = .integer(signed(2)); i += 2
                case 0xF2: try need(3); entry = .integer(signed(3)); i += 3
                case 0xF3: try need(4); entry = .integer(signed(4)); i += 4
                case 0xF4: try need(8); entry = .integer(signed(8)); i += 8
                default: throw BlobError(detail: "listpack: unknown encoding byte 0x\(String(b, radix: 16)) at byte \(start)")
                }
            }
            // The back-length: the entry's size in 7-bit groups (lpEncodeBacklen).
            let size = i - start
            let backlen = size <= 127 ? 1 : size < 16383 ? 2 : size < 2_097_151 ? 3 : size < 268_435_455 ? 4 : 5
            try need(backlen)
            i += backlen
            try body(entry)
        }
    }
}

package enum Ziplist {
    /// ziplist.c: a 10-byte header, entries (previous length, encoding, data), then 0xFF.
    package static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (PackedEntry) throws(BlobError) -> Void) throws(BlobError) {
        try checkTotalBytes(blob, format: "ziplist", headerSize: 10)
        var i = 10
        while true {
            guard i < blob.count else { throw BlobError(detail: "ziplist: no end marker") }
            if blob[i] == 0xFF { return }
            let start = i
            func need(_ n: Int) throws(BlobError) {
                guard i + n <= blob.count - 1 else { throw BlobError(detail: "ziplist: entry at byte \(start) runs past the end") }
            }
            // Previous entry length: 1 byte, or 0xFE and 4 bytes.
            try need(1)
            if blob[i] == 0xFE { try need(5); i += 5 } else { i += 1 }
            try need(1)
            let b = blob[i]
            var entry: PackedEntry
            switch b >> 6 {
            case 0:
                let n = Int(b & 0x3F)
                i += 1
                try need(n)
                entry = .bytes(UnsafeRawBufferPointer(rebasing: blob[i..<(i + n)]))
                i += n
            case 1:
                try need(2)
                let n = Int(b & 0x3F) << 8 | Int(blob[i + 1])
                i += 2
                try need(n)
                entry = .bytes(UnsafeRawBufferPointer(rebasing: blob[i..<(i + n)]))
                i += n
            case 2:
                try need(5)
                let n = Int(UInt32(bigEndian: blob.loadUnaligned(fromByteOffset: i + 1, as: UInt32.self)))
                i += 5
                try need(n)
                entry = .bytes(UnsafeRawBufferPointer(rebasing: blob[i..<(i + n)]))
                i += n
            default:
                i += 1
                func signed(_ count: Int) -> Int64 { littleEndianSigned(blob, at: i, count: count) }
                switch b {
                case 0xC0: try need(2); entry = .integer(signed(2)); i += 2
                case 0xD0: try need(4); entry = .integer(signed(4)); i += 4
                case 0xE0: try need(8); entry = .integer(signed(8)); i += 8
                case 0xF0: try need(3); entry = .integer(signed(3)); i += 3
                case 0xFE: try need(1); entry = .integer(signed(1)); i += 1
                case 0xF1...0xFD: entry = .integer(Int64(b & 0x0F) - 1)
                default: throw BlobError(detail: "ziplist: unknown encoding byte 0x\(String(b, radix: 16)) at byte \(start)")
                }
            }
            try body(entry)
        }
    }
}

package enum Intset {
    /// intset.c: element width (2, 4 or 8), count, then sorted little-endian integers.
    package static func forEach(_ blob: UnsafeRawBufferPointer, _ body: (Int64) throws(BlobError) -> Void) throws(BlobError) {
        guard blob.count >= 8 else { throw BlobError(detail: "intset: shorter than its header") }
        let width = Int(blob.loadUnaligned(fromByteOffset: 0, as: UInt32.self).littleEndian)
        let count = Int(blob.loadUnaligned(fromByteOffset: 4, as: UInt32.self).littleEndian)
        guard [2, 4, 8].contains(width) else { throw BlobError(detail: "intset: element width \(width)") }
        guard 8 + width * count == blob.count else { throw BlobError(detail: "intset: \(count) elements of \(width) bytes do not fill \(blob.count) bytes") }
        for k in 0..<count {
            let at = 8 + k * width
            switch width {
            case 2: try body(Int64(Int16(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int16.self))))
            case 4: try body(Int64(Int32(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int32.self))))
            default: try body(Int64(littleEndian: blob.loadUnaligned(fromByteOffset: at, as: Int64.self)))
            }
        }
    }
}

package enum Zipmap {
    /// zipmap.c (hashes before Redis 2.6): a count byte, then (length, key, length, free,
    /// value, free bytes) pairs, then 0xFF. Lengths are one byte, or 254 and four bytes.
    package static func forEachPair(_ blob: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws(BlobError) -> Void) throws(BlobError) {
        var i = 1
        func length() throws(BlobError) -> Int {
            guard i < blob.count else { throw BlobError(detail: "zipmap: runs past the end") }
            let b = blob[i]
            if b < 254 { i += 1; return Int(b) }
            guard b == 254, i + 5 <= blob.count else { throw BlobError(detail: "zipmap: bad length at byte \(i)") }
            let n = Int(blob.loadUnaligned(fromByteOffset: i + 1, as: UInt32.self).littleEndian)
            i += 5
            return n
        }
        func bytes(_ n: Int) throws(BlobError) -> UnsafeRawBufferPointer {
            guard i + n <= blob.count else { throw BlobError(detail: "zipmap: runs past the end") }
            defer { i += n }
            return UnsafeRawBufferPointer(rebasing: blob[i..<(i + n)])
        }
        while true {
            guard i < blob.count else { throw BlobError(detail: "zipmap: no end marker") }
            if blob[i] == 0xFF { return }
            let key = try bytes(try length())
            let valueLength = try length()
            guard i < blob.count else { throw BlobError(detail: "zipmap: runs past the end") }
            let free = Int(blob[i])
            i += 1
            let value = try bytes(valueLength)
            _ = try bytes(free)
            try body(key, value)
        }
    }
}
