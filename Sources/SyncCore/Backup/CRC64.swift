/// CRC-64 with the ECMA-182 polynomial in its reflected form, as Go's `hash/crc64` computes
/// it with `crc64.ECMA`: mongodump writes it in each archive namespace's EOF block over the
/// namespace's documents, and mongorestore checks it. No library on our list offers it (zlib
/// has CRC-32 only), and it is twenty lines.
struct CRC64 {
    private static let table: [UInt64] = (0..<256).map { index in
        var value = UInt64(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? (value >> 1) ^ 0xC96C_5795_D787_0F42 : value >> 1
        }
        return value
    }

    private var state: UInt64 = ~0

    init() {}

    mutating func update(_ bytes: [UInt8]) {
        var crc = state
        CRC64.table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
            }
        }
        state = crc
    }

    /// The checksum of everything so far, as a signed 64-bit value (how it sits in the BSON).
    var value: Int64 { Int64(bitPattern: ~state) }
}
