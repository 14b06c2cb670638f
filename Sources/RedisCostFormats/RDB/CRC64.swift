import RedisCostCore
import RedisCostKeyspace

/// CRC-64 as Redis computes its RDB checksum (crc64.c: the "Jones" polynomial
/// 0xad93d23594c935a9, reflected, initial value 0). crc64("123456789") == 0xe9c6d914c4b8d9ca.
/// Slicing-by-8: eight tables let the loop consume a 64-bit word per step.
package enum CRC64 {
    package static let tables: [[UInt64]] = {
        var tables = [[UInt64]](repeating: [UInt64](repeating: 0, count: 256), count: 8)
        for n in 0..<256 {
            var crc = UInt64(n)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x95AC_9329_AC4B_C9B5 : crc >> 1 }
            tables[0][n] = crc
        }
        for n in 0..<256 {
            for k in 1..<8 { tables[k][n] = tables[0][Int(tables[k - 1][n] & 0xFF)] ^ (tables[k - 1][n] >> 8) }
        }
        return tables
    }()
    package static let flat: [UInt64] = tables.flatMap { $0 }

    package static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt64 = 0) -> UInt64 {
        var crc = initial
        flat.withUnsafeBufferPointer { t in
            var i = 0
            let count = bytes.count
            while i + 8 <= count {
                crc ^= UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self))
                crc = t[7 * 256 + Int(crc & 0xFF)] ^ t[6 * 256 + Int((crc >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((crc >> 16) & 0xFF)] ^ t[4 * 256 + Int((crc >> 24) & 0xFF)]
                    ^ t[3 * 256 + Int((crc >> 32) & 0xFF)] ^ t[2 * 256 + Int((crc >> 40) & 0xFF)]
                    ^ t[1 * 256 + Int((crc >> 48) & 0xFF)] ^ t[Int(crc >> 56)]
                i += 8
            }
            while i < count {
                crc = t[Int((crc ^ UInt64(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        return crc
    }
}
