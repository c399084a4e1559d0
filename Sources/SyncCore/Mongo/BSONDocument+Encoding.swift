internal import CLibMongoC

// Building documents with libbson's append functions: the encoding is libbson's, not ours.
extension BSONDocument {
    /// A copy of this document with `value` appended under `key` (no check for duplicates).
    public func appending(_ key: String, _ value: BSONValue) -> BSONDocument {
        let builder = bson_new()!
        defer { bson_destroy(builder) }
        withBSON { _ = bson_concat(builder, $0) }
        BSONDocument.append(value, key: key, to: builder)
        return BSONDocument(copying: builder)
    }

    static func append(_ value: BSONValue, key: String, to bson: OpaquePointer) {
        let keyLength = Int32(key.utf8.count)
        switch value {
        case .double(let v):
            bson_append_double(bson, key, keyLength, v)
        case .string(let s):
            // Explicit length: a Swift string may hold NUL, which BSON strings allow.
            var utf8 = Array(s.utf8CString)
            let length = Int32(utf8.count - 1)
            utf8.withUnsafeMutableBufferPointer { buffer in
                _ = bson_append_utf8(bson, key, keyLength, buffer.baseAddress, length)
            }
        case .document(let d):
            d.withBSON { _ = bson_append_document(bson, key, keyLength, $0) }
        case .array(let values):
            let array = BSONDocument(pairs: values.enumerated().map { (String($0.offset), $0.element) })
            array.withBSON { _ = bson_append_array(bson, key, keyLength, $0) }
        case .binary(let subtype, let data):
            data.withUnsafeBufferPointer {
                _ = bson_append_binary(bson, key, keyLength, bson_subtype_t(UInt32(subtype)), $0.baseAddress, UInt32($0.count))
            }
        case .undefined:
            bson_append_undefined(bson, key, keyLength)
        case .objectID(let id):
            var oid = id.cValue
            bson_append_oid(bson, key, keyLength, &oid)
        case .bool(let b):
            bson_append_bool(bson, key, keyLength, b)
        case .datetime(let ms):
            bson_append_date_time(bson, key, keyLength, ms)
        case .null:
            bson_append_null(bson, key, keyLength)
        case .regex(let pattern, let options):
            bson_append_regex(bson, key, keyLength, pattern, options)
        case .dbPointer(let namespace, let id):
            var oid = id.cValue
            bson_append_dbpointer(bson, key, keyLength, namespace, &oid)
        case .javascript(let code):
            bson_append_code(bson, key, keyLength, code)
        case .symbol(let s):
            bson_append_symbol(bson, key, keyLength, s, Int32(s.utf8.count))
        case .javascriptWithScope(let code, let scope):
            scope.withBSON { _ = bson_append_code_with_scope(bson, key, keyLength, code, $0) }
        case .int32(let v):
            bson_append_int32(bson, key, keyLength, v)
        case .timestamp(let seconds, let increment):
            bson_append_timestamp(bson, key, keyLength, seconds, increment)
        case .int64(let v):
            bson_append_int64(bson, key, keyLength, v)
        case .decimal128(let d):
            var value = d.cValue
            bson_append_decimal128(bson, key, keyLength, &value)
        case .minKey:
            bson_append_minkey(bson, key, keyLength)
        case .maxKey:
            bson_append_maxkey(bson, key, keyLength)
        }
    }
}
