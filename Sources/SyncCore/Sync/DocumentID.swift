internal import CLibMongoC
import Foundation

/// A document's `_id`, kept as the raw BSON document `{_id: <value>}` and never decoded: it
/// is at once a lookup key (two ids are the same key when their bytes are), a filter for
/// writes by `_id`, and an index bound for `find`'s `min`/`max`.
public struct DocumentID: Sendable, Hashable, CustomStringConvertible {
    /// `{_id: <value>}`, byte for byte as the server sent the value.
    public let filter: BSONDocument

    init(filter: BSONDocument) {
        self.filter = filter
    }

    /// The `_id` of `document`, or nil when it has none.
    public init?(of document: BSONDocument) {
        guard let filter = document.idFilter else { return nil }
        self.filter = filter
    }

    /// The value as relaxed Extended JSON, e.g. `{"$oid": "…"}`, `42`, `"abc"`.
    public var description: String { filter.onlyValueJSON }
}

extension DocumentID: Codable {
    // Stored exactly (base64 of the BSON), with the JSON form alongside for people reading it.
    private enum CodingKeys: String, CodingKey { case bson, json }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let text = try container.decode(String.self, forKey: .bson)
        guard let data = Data(base64Encoded: text), let document = try? BSONDocument(bytes: [UInt8](data)),
            document.keys == ["_id"]
        else {
            throw DecodingError.dataCorruptedError(forKey: .bson, in: container, debugDescription: "not an {_id: …} document")
        }
        filter = document
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(Data(filter.bytes).base64EncodedString(), forKey: .bson)
        try container.encode(description, forKey: .json)
    }
}

extension BSONDocument {
    /// The value of a one-field document as relaxed Extended JSON (libbson writes the
    /// document as `{ "key" : <value> }`; this is the `<value>`).
    var onlyValueJSON: String {
        let json = relaxedExtendedJSON
        guard let colon = json.firstIndex(of: ":") else { return json }
        var value = json[json.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        if value.hasSuffix("}") { value.removeLast() }
        return value.trimmingCharacters(in: .whitespaces)
    }

    /// `{_id: <this document's _id>}`, the value copied byte for byte by libbson; nil when
    /// the document has no `_id`.
    public var idFilter: BSONDocument? {
        var result: BSONDocument?
        forEachElement { key, iter in
            guard key == "_id" else { return true }
            let builder = bson_new()!
            defer { bson_destroy(builder) }
            _ = bson_append_iter(builder, "_id", 3, iter)
            result = BSONDocument(copying: builder)
            return false
        }
        return result
    }
}

extension DocumentID {
    /// `{_id: {$in: [<values>]}}` with every value copied byte for byte (no decoding, so no
    /// value can change on the way).
    static func inFilter(_ ids: [DocumentID]) -> BSONDocument {
        let builder = bson_new()!
        defer { bson_destroy(builder) }
        let condition = bson_new()!
        defer { bson_destroy(condition) }
        let values = bson_new()!
        defer { bson_destroy(values) }
        for (index, id) in ids.enumerated() {
            id.filter.forEachElement { _, iter in
                let key = String(index)
                _ = bson_append_iter(values, key, Int32(key.utf8.count), iter)
                return false
            }
        }
        _ = bson_append_array(condition, "$in", 3, values)
        _ = bson_append_document(builder, "_id", 3, condition)
        return BSONDocument(copying: builder)
    }
}
