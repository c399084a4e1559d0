/// One BSON value. Used to build commands and read replies; document contents that are only
/// copied (sync, backup, restore) stay raw bytes in `BSONDocument` and are never decoded.
public enum BSONValue: Sendable, Hashable {
    case double(Double)
    case string(String)
    case document(BSONDocument)
    case array([BSONValue])
    case binary(subtype: UInt8, data: [UInt8])
    case undefined
    case objectID(ObjectID)
    case bool(Bool)
    /// Milliseconds since the Unix epoch (may be negative or far in the future).
    case datetime(Int64)
    case null
    case regex(pattern: String, options: String)
    case dbPointer(namespace: String, id: ObjectID)
    case javascript(String)
    case symbol(String)
    case javascriptWithScope(code: String, scope: BSONDocument)
    case int32(Int32)
    case timestamp(seconds: UInt32, increment: UInt32)
    case int64(Int64)
    case decimal128(Decimal128)
    case minKey
    case maxKey

    /// The value as a Swift integer when it is any BSON number with an integral value.
    public var intValue: Int? {
        switch self {
        case .int32(let v): Int(v)
        case .int64(let v): Int(v)
        case .double(let v) where v.rounded() == v && abs(v) < 9.0e15: Int(v)
        default: nil
        }
    }

    /// The value as a Double when it is any BSON number.
    public var doubleValue: Double? {
        switch self {
        case .int32(let v): Double(v)
        case .int64(let v): Double(v)
        case .double(let v): v
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var documentValue: BSONDocument? {
        if case .document(let d) = self { return d }
        return nil
    }

    public var arrayValue: [BSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }

    /// True for bool true and for non-zero numbers, as MongoDB reads `ok`.
    public var isTruthy: Bool {
        switch self {
        case .bool(let b): b
        case .int32, .int64, .double: (doubleValue ?? 0) != 0
        default: false
        }
    }
}

extension BSONValue: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByFloatLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    /// Integer literals become Int32 when they fit, as the shell does.
    public init(integerLiteral value: Int) {
        self = Int32(exactly: value).map(BSONValue.int32) ?? .int64(Int64(value))
    }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
}
