import RedisCostCore
import RedisCostKeyspace

/// LZF decompression, the format of Redis's compressed strings (lzf_d.c): a control byte
/// below 32 starts a literal run of control+1 bytes; otherwise the top 3 bits are a length
/// (7 means "plus the next byte") and the rest with the next byte a back reference.
package enum LZF {
    package static func decompress(_ input: UnsafeRawBufferPointer, expectedLength: Int) -> [UInt8]? {
        // Three input bytes (a long back reference) make at most 264 output bytes: a longer
        // claim is corrupt, and is refused before it is allocated.
        guard expectedLength >= 0, expectedLength <= 512 << 20, expectedLength <= input.count * 88 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(expectedLength)
        var i = 0
        while i < input.count {
            let control = Int(input[i])
            i += 1
            if control < 32 {
                let run = control + 1
                guard i + run <= input.count, out.count + run <= expectedLength else { return nil }
                out.append(contentsOf: input[i..<(i + run)])
                i += run
            } else {
                var length = control >> 5
                guard i < input.count else { return nil }
                if length == 7 {
                    length += Int(input[i])
                    i += 1
                    guard i < input.count else { return nil }
                }
                let distance = ((control & 0x1F) << 8) + Int(input[i]) + 1
                i += 1
                length += 2
                guard distance <= out.count, out.count + length <= expectedLength else { return nil }
                // Byte by byte: the reference may overlap what it produces.
                var from = out.count - distance
                for _ in 0..<length {
                    out.append(out[from])
                    from += 1
                }
            }
        }
        return out.count == expectedLength ? out : nil
    }
}
