/// CRC-64 as Redis computes its RDB checksum (crc64.c: the "Jones" polynomial
/// 0xad93d23594c935a9, reflected, initial value 0). crc64("123456789") == 0xe9c6d914c4b8d9ca.
enum CRC64 {
    static let table: [UInt64] = (0..<256).map { n -> UInt64 in
        var crc = UInt64(n)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x95AC_9329_AC4B_C9B5 : crc >> 1 }
        return crc
    }

    static func checksum(_ bytes: UnsafeRawBufferPointer, initial: UInt64 = 0) -> UInt64 {
        var crc = initial
        table.withUnsafeBufferPointer { t in
            for byte in bytes { crc = t[Int((crc ^ UInt64(byte)) & 0xFF)] ^ (crc >> 8) }
        }
        return crc
    }
}
