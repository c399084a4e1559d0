/// A collection's `<coll>.metadata.json`, as mongodump writes and mongorestore reads it: its
/// options, its indexes exactly as `listIndexes` reports them, its UUID and its type.
public struct CollectionMetadata: Sendable, Equatable {
    public var collectionName: String
    /// "collection", "view" or "timeseries".
    public var type: String
    /// Creation options as `listCollections` reports them (capped, validator, collation, …).
    public var options: BSONDocument
    /// Index specifications (`v`, `key`, `name`, options) in the server's order, `_id_` included.
    public var indexes: [BSONDocument]
    /// The collection's UUID as 32 hex digits (mongodump's form), when the server reports one.
    public var uuid: String?

    public init(collectionName: String, type: String = "collection", options: BSONDocument = .empty,
                indexes: [BSONDocument] = [], uuid: String? = nil) {
        self.collectionName = collectionName
        self.type = type
        self.options = options
        self.indexes = indexes
        self.uuid = uuid
    }

    /// The metadata of a live collection: `listCollections`' entry and `listIndexes`' reply.
    public init(info: CollectionInfo, indexes: [BSONDocument]) {
        var uuid: String?
        if case .binary(4, let bytes) = info.uuid {
            uuid = bytes.lowercaseHex
        }
        self.init(collectionName: info.name, type: info.type, options: info.options, indexes: indexes, uuid: uuid)
    }

    /// Reads a metadata file's text (canonical or relaxed Extended JSON; legacy dumps lack
    /// `collectionName` and `type`, hence `fallbackName`).
    public init(json: String, fallbackName: String) throws(BSONError) {
        let document = try BSONDocument(extendedJSON: json)
        var indexes: [BSONDocument] = []
        for value in document["indexes"]?.arrayValue ?? [] {
            guard let index = value.documentValue else { throw BSONError("an entry of \"indexes\" is not a document") }
            indexes.append(index)
        }
        self.init(
            collectionName: document["collectionName"]?.stringValue ?? fallbackName,
            type: document["type"]?.stringValue ?? "collection",
            options: document["options"]?.documentValue ?? .empty,
            indexes: indexes,
            uuid: document["uuid"]?.stringValue.flatMap { $0.isEmpty ? nil : $0 })
    }

    /// The metadata as a document with mongodump's keys in mongodump's order: `options` (only
    /// when non-empty), `indexes` (always), `uuid` (only when known), `collectionName`, `type`.
    public var document: BSONDocument {
        var pairs: [(String, BSONValue)] = []
        if options != .empty { pairs.append(("options", .document(options))) }
        pairs.append(("indexes", .array(indexes.map(BSONValue.document))))
        if let uuid { pairs.append(("uuid", .string(uuid))) }
        pairs.append(("collectionName", .string(collectionName)))
        pairs.append(("type", .string(type)))
        return BSONDocument(pairs: pairs)
    }

    /// The file's text: one line of canonical Extended JSON without insignificant whitespace,
    /// as mongodump writes it (libbson renders the values; only its spacing is removed).
    public var json: String {
        CollectionMetadata.compact(document.canonicalExtendedJSON)
    }

    /// JSON text with the whitespace between tokens removed; strings are left untouched.
    static func compact(_ json: String) -> String {
        var result: [UInt8] = []
        result.reserveCapacity(json.utf8.count)
        var inString = false
        var escaped = false
        for byte in json.utf8 {
            if inString {
                result.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                result.append(byte)
            } else if byte != UInt8(ascii: " ") && byte != UInt8(ascii: "\n") && byte != UInt8(ascii: "\t")
                && byte != UInt8(ascii: "\r")
            {
                result.append(byte)
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// The indexes to create on restore: every one but `_id_` (the server makes that one with
    /// the collection), without the legacy `ns` field that servers since 4.4 refuse.
    var indexesToCreate: [BSONDocument] {
        indexes.filter { $0["name"]?.stringValue != "_id_" }.map(\.creatableIndexSpec)
    }
}
