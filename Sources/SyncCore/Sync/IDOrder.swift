/// BSON's comparison order (MongoDB's "BSON type comparison order") for the `_id` values
/// full-sync can order by itself, so that one sorted Atlas cursor per partition can be cut at
/// the local ranges' bounds instead of querying Atlas once per range.
///
/// Known: MinKey, null, Int32/Int64/Double (by value across the three; NaN excluded), String and
/// Symbol (binary UTF-8 order, as without a collation), binData (length, subtype, bytes),
/// ObjectId, Boolean, Date, Timestamp, MaxKey — and any two values of different type brackets.
/// Anything else (Decimal128, NaN, embedded documents, …) answers nil, and the caller reads
/// Atlas range by range with index bounds instead, where the server does the ordering.
enum IDOrder {
    /// -1, 0 or 1 as `a` sorts before, with, or after `b`; nil when this cannot tell.
    static func compare(_ a: DocumentID, _ b: DocumentID) -> Int? {
        guard let left = Value(a), let right = Value(b) else { return nil }
        return compare(left, right)
    }

    private static func compare(_ left: Value, _ right: Value) -> Int? {
        guard let leftRank = left.rank, let rightRank = right.rank else { return nil }
        if leftRank != rightRank { return leftRank < rightRank ? -1 : 1 }
        switch leftRank {
        case 1, 2, 100: return 0  // MinKey, null, MaxKey: one value each
        case 3: return compareNumbers(left, right)
        case 4: return compareBytes(left.stringBytes, right.stringBytes)
        case 7:
            guard let l = left.binary, let r = right.binary else { return nil }
            if l.count != r.count { return l.count < r.count ? -1 : 1 }
            return compareBytes(l.subtypeAndData, r.subtypeAndData)
        case 8, 9: return compareBytes(left.payload, right.payload)  // ObjectId bytes; bool 0 < 1
        case 10: return compareOrdered(left.int64, right.int64)  // Date: signed milliseconds
        case 11: return compareOrdered(left.uint64, right.uint64)  // Timestamp: (seconds, increment)
        default: return nil
        }
    }

    /// The `_id` of a whole document (MongoDB stores `_id` first) against a bound, without
    /// copying the `_id` out.
    static func compare(_ document: BSONDocument, to bound: DocumentID) -> Int? {
        if let left = Value(document.bytes), let right = Value(bound.filter.bytes) { return compare(left, right) }
        guard let id = DocumentID(of: document) else { return nil }
        return compare(id, bound)
    }

    /// The `_id`s of two whole documents, without copying them out: the order, and whether
    /// they are the same `_id` exactly (same type and bytes: 1 and 1.0 are equal in order but
    /// not the same). nil when this cannot tell.
    static func compareIDs(_ a: BSONDocument, _ b: BSONDocument) -> (order: Int, same: Bool)? {
        guard let left = Value(a.bytes), let right = Value(b.bytes), let order = compare(left, right) else { return nil }
        return (order, order == 0 && left.type == right.type && left.payload == right.payload)
    }

    /// The first element's value when it is `_id`: its type byte and exactly its bytes.
    private struct Value {
        let type: UInt8
        let payload: ArraySlice<UInt8>

        init?(_ id: DocumentID) {
            self.init(id.filter.bytes)
        }

        init?(_ bytes: [UInt8]) {
            // int32 length, type, "_id\0", value, …
            guard bytes.count >= 10, bytes[5] == 0x5F, bytes[6] == 0x69, bytes[7] == 0x64, bytes[8] == 0 else { return nil }
            type = bytes[4]
            let start = 9
            func int32(at offset: Int) -> Int? {
                guard offset + 4 <= bytes.count else { return nil }
                return Int(Int32(bitPattern: UInt32(bytes[offset]) | UInt32(bytes[offset + 1]) << 8
                    | UInt32(bytes[offset + 2]) << 16 | UInt32(bytes[offset + 3]) << 24))
            }
            let length: Int? = switch type {
            case 0xFF, 0x7F, 0x0A: 0
            case 0x08: 1
            case 0x10: 4
            case 0x01, 0x12, 0x09, 0x11: 8
            case 0x07: 12
            case 0x02, 0x0E: int32(at: start).map { 4 + $0 }
            case 0x05: int32(at: start).map { 5 + $0 }
            default: nil
            }
            guard let length, length >= 0, start + length <= bytes.count else { return nil }
            payload = bytes[start..<(start + length)]
        }

        var rank: Int? {
            switch type {
            case 0xFF: 1
            case 0x0A: 2
            case 0x01, 0x10, 0x12: 3
            case 0x02, 0x0E: 4
            case 0x05: 7
            case 0x07: 8
            case 0x08: 9
            case 0x09: 10
            case 0x11: 11
            case 0x7F: 100
            default: nil  // Decimal128, documents, arrays, regex, code, …: not ordered here
            }
        }

        private func littleEndian(_ count: Int) -> UInt64? {
            guard payload.count >= count else { return nil }
            var value: UInt64 = 0
            for (shift, byte) in payload.prefix(count).enumerated() { value |= UInt64(byte) << (8 * UInt64(shift)) }
            return value
        }

        var int64: Int64? { littleEndian(8).map { Int64(bitPattern: $0) } }
        var uint64: UInt64? { littleEndian(8) }
        var int32: Int32? { littleEndian(4).map { Int32(bitPattern: UInt32(truncatingIfNeeded: $0)) } }
        var double: Double? { littleEndian(8).map { Double(bitPattern: $0) } }

        /// A string's UTF-8 bytes without its length and trailing NUL.
        var stringBytes: ArraySlice<UInt8>? {
            guard let length = int32, length >= 1, payload.count >= 4 + Int(length) else { return nil }
            let start = payload.startIndex + 4
            return payload[start..<(start + Int(length) - 1)]
        }

        /// Binary: the data's length, then subtype and data.
        var binary: (count: Int32, subtypeAndData: ArraySlice<UInt8>)? {
            guard let length = int32, payload.count >= 5 else { return nil }
            return (length, payload.dropFirst(4))
        }
    }

    private enum Number {
        case integer(Int64)
        case double(Double)
    }

    private static func number(_ value: Value) -> Number? {
        switch value.type {
        case 0x10: value.int32.map { .integer(Int64($0)) }
        case 0x12: value.int64.map(Number.integer)
        case 0x01: value.double.flatMap { $0.isNaN ? nil : .double($0) }
        default: nil
        }
    }

    private static func compareNumbers(_ a: Value, _ b: Value) -> Int? {
        guard let left = number(a), let right = number(b) else { return nil }
        switch (left, right) {
        case (.integer(let l), .integer(let r)): return compareOrdered(l, r)
        case (.double(let l), .double(let r)): return compareOrdered(l, r)
        case (.integer(let l), .double(let r)): return compareIntegerToDouble(l, r)
        case (.double(let l), .integer(let r)): return -compareIntegerToDouble(r, l)
        }
    }

    /// Exact, also where Double(integer) would round.
    private static func compareIntegerToDouble(_ integer: Int64, _ double: Double) -> Int {
        if double >= 9_223_372_036_854_775_808.0 { return -1 }
        if double < -9_223_372_036_854_775_808.0 { return 1 }
        let floor = double.rounded(.down)
        let whole = Int64(floor)
        if integer != whole { return integer < whole ? -1 : 1 }
        return double > floor ? -1 : 0
    }

    private static func compareOrdered<T: Comparable>(_ a: T?, _ b: T?) -> Int? {
        guard let a, let b else { return nil }
        return a < b ? -1 : a > b ? 1 : 0
    }

    private static func compareBytes(_ a: ArraySlice<UInt8>?, _ b: ArraySlice<UInt8>?) -> Int? {
        guard let a, let b else { return nil }
        for (x, y) in zip(a, b) where x != y { return x < y ? -1 : 1 }
        return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
    }
}
