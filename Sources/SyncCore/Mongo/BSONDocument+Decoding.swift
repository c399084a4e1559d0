internal import CLibMongoC

// Reading documents with libbson's iterator. bson_iter_t is 128-byte aligned, so it lives on
// the heap (syncctl_iter_alloc), never on the Swift stack.
extension BSONDocument {
    /// The document's elements in order.
    public var elements: [(key: String, value: BSONValue)] {
        var result: [(key: String, value: BSONValue)] = []
        forEachElement { key, iter in
            result.append((key, BSONDocument.value(at: iter)))
            return true
        }
        return result
    }

    /// The top-level keys in order.
    public var keys: [String] {
        var result: [String] = []
        forEachElement { key, _ in
            result.append(key)
            return true
        }
        return result
    }

    /// The value of the first element named `key`, decoded.
    public subscript(key: String) -> BSONValue? {
        var found: BSONValue?
        forEachElement { elementKey, iter in
            guard elementKey == key else { return true }
            found = BSONDocument.value(at: iter)
            return false
        }
        return found
    }

    /// The BSON type byte and raw value bytes of the first element named `key`, undecoded:
    /// used to lift `_id` out of a document without decoding it.
    public func rawValue(of key: String) -> (type: UInt8, bytes: [UInt8])? {
        var found: (UInt8, [UInt8])?
        forEachElement { elementKey, iter in
            guard elementKey == key else { return true }
            let type = UInt8(truncatingIfNeeded: bson_iter_type(iter).rawValue)
            let start = Int(syncctl_iter_value_start(iter))
            let end = Int(syncctl_iter_next_offset(iter))
            found = (type, Array(bytes[start..<end]))
            return false
        }
        return found
    }

    /// Visits each element with its key; `body` returns false to stop.
    func forEachElement(_ body: (String, OpaquePointer) -> Bool) {
        let iter = syncctl_iter_alloc()!
        defer { syncctl_iter_free(iter) }
        bytes.withUnsafeBufferPointer { buffer in
            guard bson_iter_init_from_data(iter, buffer.baseAddress, buffer.count) else { return }
            while bson_iter_next(iter) {
                let key = String(cString: bson_iter_key(iter))
                if !body(key, iter) { break }
            }
        }
    }

    static func value(at iter: OpaquePointer) -> BSONValue {
        func string(_ pointer: UnsafePointer<CChar>?, _ length: UInt32) -> String {
            guard let pointer else { return "" }
            return pointer.withMemoryRebound(to: UInt8.self, capacity: Int(length)) {
                String(decoding: UnsafeBufferPointer(start: $0, count: Int(length)), as: UTF8.self)
            }
        }
        func subdocument(_ read: (UnsafeMutablePointer<UInt32>, UnsafeMutablePointer<UnsafePointer<UInt8>?>) -> Void)
            -> BSONDocument
        {
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            read(&length, &data)
            guard let data else { return .empty }
            return BSONDocument(unchecked: Array(UnsafeBufferPointer(start: data, count: Int(length))))
        }

        switch bson_iter_type(iter) {
        case BSON_TYPE_DOUBLE:
            return .double(bson_iter_double(iter))
        case BSON_TYPE_UTF8:
            var length: UInt32 = 0
            let pointer = bson_iter_utf8(iter, &length)
            return .string(string(pointer, length))
        case BSON_TYPE_DOCUMENT:
            return .document(subdocument { bson_iter_document(iter, $0, $1) })
        case BSON_TYPE_ARRAY:
            let array = subdocument { bson_iter_array(iter, $0, $1) }
            return .array(array.elements.map(\.value))
        case BSON_TYPE_BINARY:
            var subtype = BSON_SUBTYPE_BINARY
            var length: UInt32 = 0
            var data: UnsafePointer<UInt8>?
            bson_iter_binary(iter, &subtype, &length, &data)
            let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: Int(length))) } ?? []
            return .binary(subtype: UInt8(truncatingIfNeeded: subtype.rawValue), data: bytes)
        case BSON_TYPE_UNDEFINED:
            return .undefined
        case BSON_TYPE_OID:
            return .objectID(ObjectID(bson_iter_oid(iter)!.pointee))
        case BSON_TYPE_BOOL:
            return .bool(bson_iter_bool(iter))
        case BSON_TYPE_DATE_TIME:
            return .datetime(bson_iter_date_time(iter))
        case BSON_TYPE_NULL:
            return .null
        case BSON_TYPE_REGEX:
            var options: UnsafePointer<CChar>?
            let pattern = bson_iter_regex(iter, &options)
            return .regex(
                pattern: pattern.map { String(cString: $0) } ?? "", options: options.map { String(cString: $0) } ?? "")
        case BSON_TYPE_DBPOINTER:
            var length: UInt32 = 0
            var collection: UnsafePointer<CChar>?
            var oid: UnsafePointer<bson_oid_t>?
            bson_iter_dbpointer(iter, &length, &collection, &oid)
            return .dbPointer(
                namespace: string(collection, length), id: oid.map { ObjectID($0.pointee) } ?? ObjectID(bson_oid_t()))
        case BSON_TYPE_CODE:
            var length: UInt32 = 0
            return .javascript(string(bson_iter_code(iter, &length), length))
        case BSON_TYPE_SYMBOL:
            var length: UInt32 = 0
            return .symbol(string(bson_iter_symbol(iter, &length), length))
        case BSON_TYPE_CODEWSCOPE:
            var length: UInt32 = 0
            var scopeLength: UInt32 = 0
            var scope: UnsafePointer<UInt8>?
            let code = bson_iter_codewscope(iter, &length, &scopeLength, &scope)
            let scopeDocument =
                scope.map { BSONDocument(unchecked: Array(UnsafeBufferPointer(start: $0, count: Int(scopeLength)))) }
                ?? .empty
            return .javascriptWithScope(code: string(code, length), scope: scopeDocument)
        case BSON_TYPE_INT32:
            return .int32(bson_iter_int32(iter))
        case BSON_TYPE_TIMESTAMP:
            var seconds: UInt32 = 0
            var increment: UInt32 = 0
            bson_iter_timestamp(iter, &seconds, &increment)
            return .timestamp(seconds: seconds, increment: increment)
        case BSON_TYPE_INT64:
            return .int64(bson_iter_int64(iter))
        case BSON_TYPE_DECIMAL128:
            var value = bson_decimal128_t()
            bson_iter_decimal128(iter, &value)
            return .decimal128(Decimal128(value))
        case BSON_TYPE_MINKEY:
            return .minKey
        case BSON_TYPE_MAXKEY:
            return .maxKey
        default:
            return .undefined
        }
    }
}
