internal import CLibMongoC

/// One field that differs between the local and the Atlas copy of a document.
public struct FieldDifference: Sendable, Codable, Equatable {
    /// Dotted path (`address.city`, `items.2.qty`); `(field order)` suffix when only the
    /// order of a document's fields differs; `(int32 → int64)` when only the type does.
    public let path: String
    /// The values as relaxed Extended JSON, only with `--show-values` (they may be personal data).
    public var local: String?
    public var atlas: String?
}

/// Which fields of two documents differ, by their raw bytes, walking into embedded documents
/// and arrays. Used for the few differences verify shows, never for comparing.
enum DocumentDiff {
    static func differences(local: BSONDocument, atlas: BSONDocument, values: Bool) -> [FieldDifference] {
        var result: [FieldDifference] = []
        walk(local, atlas, prefix: "", values: values, into: &result)
        return result
    }

    private struct Element {
        let key: String
        let type: UInt8
        /// `{v: <value>}`: exact bytes to compare, and JSON to show.
        let wrapped: BSONDocument
        /// The raw embedded document or array, for walking into.
        let nested: BSONDocument?
    }

    private static func elements(_ document: BSONDocument) -> [Element] {
        var result: [Element] = []
        document.forEachElement { key, iter in
            let type = UInt8(truncatingIfNeeded: bson_iter_type(iter).rawValue)
            let builder = bson_new()!
            defer { bson_destroy(builder) }
            _ = bson_append_iter(builder, "v", 1, iter)
            var nested: BSONDocument?
            if type == 0x03 || type == 0x04 {
                var length: UInt32 = 0
                var data: UnsafePointer<UInt8>?
                if type == 0x03 { bson_iter_document(iter, &length, &data) } else { bson_iter_array(iter, &length, &data) }
                if let data { nested = BSONDocument(unchecked: Array(UnsafeBufferPointer(start: data, count: Int(length)))) }
            }
            result.append(Element(key: key, type: type, wrapped: BSONDocument(copying: builder), nested: nested))
            return true
        }
        return result
    }

    private static func walk(_ local: BSONDocument, _ atlas: BSONDocument, prefix: String, values: Bool,
                             into result: inout [FieldDifference]) {
        let left = elements(local)
        let right = elements(atlas)
        let rightByKey = Dictionary(right.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        let leftKeys = Set(left.map(\.key))
        var sameValues = true
        for element in left {
            let path = prefix.isEmpty ? element.key : "\(prefix).\(element.key)"
            guard let other = rightByKey[element.key] else {
                result.append(field(path, element, nil, values: values))
                sameValues = false
                continue
            }
            if element.wrapped == other.wrapped { continue }
            sameValues = false
            if element.type == other.type, let a = element.nested, let b = other.nested {
                walk(a, b, prefix: path, values: values, into: &result)
            } else if element.type != other.type {
                result.append(field("\(path) (\(typeName(element.type)) → \(typeName(other.type)))", element, other, values: values))
            } else {
                result.append(field(path, element, other, values: values))
            }
        }
        for element in right where !leftKeys.contains(element.key) {
            result.append(field(prefix.isEmpty ? element.key : "\(prefix).\(element.key)", nil, element, values: values))
            sameValues = false
        }
        if sameValues && left.map(\.key) != right.map(\.key) {
            result.append(FieldDifference(path: prefix.isEmpty ? "(field order)" : "\(prefix) (field order)"))
        }
    }

    private static func field(_ path: String, _ local: Element?, _ atlas: Element?, values: Bool) -> FieldDifference {
        var difference = FieldDifference(path: path)
        if values {
            difference.local = local.map(\.wrapped.onlyValueJSON) ?? "(absent)"
            difference.atlas = atlas.map(\.wrapped.onlyValueJSON) ?? "(absent)"
        }
        return difference
    }

    static func typeName(_ type: UInt8) -> String {
        switch type {
        case 0x01: "double"
        case 0x02: "string"
        case 0x03: "object"
        case 0x04: "array"
        case 0x05: "binData"
        case 0x06: "undefined"
        case 0x07: "objectId"
        case 0x08: "bool"
        case 0x09: "date"
        case 0x0A: "null"
        case 0x0B: "regex"
        case 0x0C: "dbPointer"
        case 0x0D: "javascript"
        case 0x0E: "symbol"
        case 0x0F: "javascriptWithScope"
        case 0x10: "int32"
        case 0x11: "timestamp"
        case 0x12: "int64"
        case 0x13: "decimal128"
        case 0xFF: "minKey"
        case 0x7F: "maxKey"
        default: "type \(type)"
        }
    }
}
