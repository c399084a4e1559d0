internal import CLibMongoC

/// What to read with `find`.
public struct FindOptions: Sendable {
    public var filter: BSONDocument = .empty
    public var sort: BSONDocument?
    public var projection: BSONDocument?
    /// Documents per server round trip (`batchSize`).
    public var batchSize: Int32?
    public var limit: Int64?
    public var skip: Int64?
    /// Index bounds (`min`/`max` with `hint`): unlike `$gt`/`$lt`, these cross BSON types,
    /// which is how a range of mixed-type `_id`s is read in BSON order.
    public var hint: BSONDocument?
    public var min: BSONDocument?
    public var max: BSONDocument?

    public init(filter: BSONDocument = .empty) {
        self.filter = filter
    }

    /// Every document in `_id` order.
    public static func byID(batchSize: Int32? = nil) -> FindOptions {
        var options = FindOptions()
        options.sort = ["_id": 1]
        options.batchSize = batchSize
        return options
    }

    var driverOptions: BSONDocument {
        var pairs: [(String, BSONValue)] = []
        if let sort { pairs.append(("sort", .document(sort))) }
        if let projection { pairs.append(("projection", .document(projection))) }
        if let batchSize { pairs.append(("batchSize", .int32(batchSize))) }
        if let limit { pairs.append(("limit", .int64(limit))) }
        if let skip { pairs.append(("skip", .int64(skip))) }
        if let hint { pairs.append(("hint", .document(hint))) }
        if let min { pairs.append(("min", .document(min))) }
        if let max { pairs.append(("max", .document(max))) }
        return BSONDocument(pairs: pairs)
    }
}

/// A server-side cursor read batch by batch: only one batch is ever in memory. The stream
/// holds one pooled client for its lifetime (a cursor never outlives its client) and every
/// driver call runs on the connection's driver threads.
public final class DocumentStream: @unchecked Sendable {
    // Invariant: `client` and `cursor` are touched only by one call at a time (callers await
    // each `next` before the next one) and only on driver threads, as libmongoc requires.
    private let connection: MongoConnection
    private var client: OpaquePointer?
    private var collection: OpaquePointer?
    private var cursor: OpaquePointer?
    private var finished = false

    init(connection: MongoConnection, client: OpaquePointer, collection: OpaquePointer, cursor: OpaquePointer) {
        self.connection = connection
        self.client = client
        self.collection = collection
        self.cursor = cursor
    }

    /// The next documents, up to `maxCount` of them or about `maxBytes`; nil when exhausted.
    public func next(maxCount: Int = 1_000, maxBytes: Int = 16 << 20) async throws -> [BSONDocument]? {
        if finished { return nil }
        return try await connection.executor.run { [self] in try self.readBatch(maxCount: maxCount, maxBytes: maxBytes) }
    }

    private func readBatch(maxCount: Int, maxBytes: Int) throws -> [BSONDocument]? {
        guard let cursor else { return nil }
        var batch: [BSONDocument] = []
        var bytes = 0
        var document: OpaquePointer?
        while batch.count < maxCount && bytes < maxBytes {
            guard mongoc_cursor_next(cursor, &document), let document else { break }
            let copied = BSONDocument(copying: document)
            bytes += copied.byteCount
            batch.append(copied)
        }
        if batch.count < maxCount && bytes < maxBytes {
            // The loop stopped because the cursor did: an error, or the end.
            var error = bson_error_t()
            var replyPointer: OpaquePointer?
            if mongoc_cursor_error_document(cursor, &error, &replyPointer) {
                let reply = replyPointer.map { BSONDocument(copying: $0) }
                finished = true
                throw MongoError(error, reply: reply)
            }
            finished = true
        }
        return batch.isEmpty && finished ? nil : batch
    }

    /// Ends the cursor (the driver kills it on the server if needed) and returns the client.
    public func close() async {
        guard client != nil else { return }
        _ = try? await connection.executor.run { [self] in self.release() }
    }

    private func release() {
        if let cursor { mongoc_cursor_destroy(cursor) }
        if let collection { mongoc_collection_destroy(collection) }
        if let client { connection.pool.push(client) }
        cursor = nil
        collection = nil
        client = nil
    }

    deinit {
        // A forgotten close still returns the client, on whatever thread drops the stream.
        release()
    }
}

extension MongoConnection {
    /// Opens a cursor over `collection`; read it with `next`, then `close` it.
    public func find(database: String, collection: String, options: FindOptions = FindOptions()) async throws
        -> DocumentStream
    {
        let pool = self.pool
        let handles = try await executor.run { () -> UncheckedHandles in
            let client = pool.pop()
            let coll = mongoc_client_get_collection(client, database, collection)!
            let cursor = options.filter.withBSON { filter in
                options.driverOptions.withBSON { opts in
                    mongoc_collection_find_with_opts(coll, filter, opts, nil)!
                }
            }
            return UncheckedHandles(client: client, collection: coll, cursor: cursor)
        }
        return DocumentStream(connection: self, client: handles.client, collection: handles.collection, cursor: handles.cursor)
    }

    /// Opens a cursor, hands it to `body`, and closes it whatever happens.
    public func withFind<T>(
        database: String, collection: String, options: FindOptions = FindOptions(),
        _ body: (DocumentStream) async throws -> T
    ) async throws -> T {
        let stream = try await find(database: database, collection: collection, options: options)
        do {
            let result = try await body(stream)
            await stream.close()
            return result
        } catch {
            await stream.close()
            throw error
        }
    }
}

/// C handles moving from a driver thread to the stream that will own them.
private struct UncheckedHandles: @unchecked Sendable {
    let client: OpaquePointer
    let collection: OpaquePointer
    let cursor: OpaquePointer
}
