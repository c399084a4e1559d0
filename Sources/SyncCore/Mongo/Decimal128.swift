internal import CLibMongoC

/// An IEEE 754-2008 128-bit decimal, kept as its two 64-bit halves exactly as BSON stores it.
public struct Decimal128: Sendable, Hashable, CustomStringConvertible {
    public let low: UInt64
    public let high: UInt64

    public init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// Parses a decimal string ("12.50", "-0", "NaN", "Infinity") as libbson does.
    public init?(_ string: String) {
        var value = bson_decimal128_t()
        guard bson_decimal128_from_string(string, &value) else { return nil }
        self.init(low: value.low, high: value.high)
    }

    init(_ value: bson_decimal128_t) {
        self.init(low: value.low, high: value.high)
    }

    var cValue: bson_decimal128_t {
        var value = bson_decimal128_t()
        value.low = low
        value.high = high
        return value
    }

    /// The canonical string form libbson produces (as in Extended JSON).
    public var description: String {
        var value = cValue
        // BSON_DECIMAL128_STRING is 43 bytes including the terminator.
        var buffer = [CChar](repeating: 0, count: 64)
        bson_decimal128_to_string(&value, &buffer)
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
