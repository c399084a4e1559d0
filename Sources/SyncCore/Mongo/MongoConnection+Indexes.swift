internal import CLibMongoC

// What a backup reads and a restore recreates besides documents: indexes and collections
// with their options.
extension MongoConnection {
    /// The collection's index specifications as `listIndexes` reports them, in the server's
    /// order; empty for a collection that does not exist.
    public func indexes(database: String, collection: String) async throws -> [BSONDocument] {
        try await withClient { client in
            let coll = mongoc_client_get_collection(client, database, collection)!
            defer { mongoc_collection_destroy(coll) }
            let cursor = mongoc_collection_find_indexes_with_opts(coll, nil)!
            defer { mongoc_cursor_destroy(cursor) }
            var specs: [BSONDocument] = []
            var document: OpaquePointer?
            while mongoc_cursor_next(cursor, &document) {
                if let document { specs.append(BSONDocument(copying: document)) }
            }
            var error = bson_error_t()
            var reply: OpaquePointer?
            if mongoc_cursor_error_document(cursor, &error, &reply) {
                throw MongoError(error, reply: reply.map { BSONDocument(copying: $0) })
            }
            return specs
        }
    }

    /// Creates indexes from their specifications (`key`, `name` and options, as
    /// `listIndexes` gives them) in one `createIndexes` command.
    public func createIndexes(_ specs: [BSONDocument], database: String, collection: String) async throws {
        guard !specs.isEmpty else { return }
        _ = try await runCommand(
            BSONDocument(pairs: [("createIndexes", .string(collection)), ("indexes", .array(specs.map(BSONValue.document)))]),
            database: database)
    }

    /// Creates a collection (or view) with the options `listCollections` reported for it.
    public func createCollection(_ collection: String, options: BSONDocument, database: String) async throws {
        // The options' bytes are appended as they are, never decoded and re-encoded.
        let builder = bson_new()!
        defer { bson_destroy(builder) }
        BSONDocument(pairs: [("create", .string(collection))]).withBSON { _ = bson_concat(builder, $0) }
        options.withBSON { _ = bson_concat(builder, $0) }
        _ = try await runCommand(BSONDocument(copying: builder), database: database)
    }
}

extension BSONDocument {
    /// An index spec as `listIndexes` gave it, ready for `createIndexes`: without the legacy
    /// `ns` field that servers since 4.4 refuse.
    var creatableIndexSpec: BSONDocument {
        guard self["ns"] != nil else { return self }
        // Every other element copied as it is (bson_append_iter), never decoded and re-encoded.
        let builder = bson_new()!
        defer { bson_destroy(builder) }
        forEachElement { key, iter in
            if key != "ns" { _ = bson_append_iter(builder, key, Int32(key.utf8.count), iter) }
            return true
        }
        return BSONDocument(copying: builder)
    }
}
