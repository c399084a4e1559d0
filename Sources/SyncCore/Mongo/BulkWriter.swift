internal import CLibMongoC

/// One write in a bulk.
public enum WriteOperation: Sendable {
    case insert(BSONDocument)
    /// Replace the document matching `filter` with `document`, inserting it when absent.
    case upsert(filter: BSONDocument, document: BSONDocument)
    case deleteOne(filter: BSONDocument)

    var approximateBytes: Int {
        switch self {
        case .insert(let d): d.byteCount + 16
        case .upsert(let f, let d): f.byteCount + d.byteCount + 32
        case .deleteOne(let f): f.byteCount + 16
        }
    }
}

/// What a flushed bulk did.
public struct BulkWriteResult: Sendable, Equatable {
    public var inserted = 0
    public var matched = 0
    public var modified = 0
    public var upserted = 0
    public var deleted = 0
    /// Per-operation failures (index into the flushed batch, server code, message).
    public var writeErrors: [WriteError] = []

    public init() {}

    public struct WriteError: Sendable, Equatable {
        public let index: Int
        public let code: Int32
        public let message: String
    }

    mutating func add(_ other: BulkWriteResult) {
        inserted += other.inserted
        matched += other.matched
        modified += other.modified
        upserted += other.upserted
        deleted += other.deleted
        writeErrors += other.writeErrors
    }
}

/// Flush thresholds: a bulk goes to the server when it reaches either.
public struct BulkLimits: Sendable {
    public var maxCount: Int
    public var maxBytes: Int

    public init(maxCount: Int = 1_000, maxBytes: Int = 8 << 20) {
        self.maxCount = maxCount
        self.maxBytes = maxBytes
    }

    /// Limits clamped to what the server accepts in one message (`hello`'s
    /// `maxWriteBatchSize` and `maxMessageSizeBytes`, less room for the command itself).
    public func clamped(toHello hello: BSONDocument) -> BulkLimits {
        let serverCount = hello["maxWriteBatchSize"]?.intValue ?? 100_000
        let serverBytes = (hello["maxMessageSizeBytes"]?.intValue ?? 48_000_000) - (1 << 20)
        return BulkLimits(maxCount: min(maxCount, serverCount), maxBytes: min(maxBytes, serverBytes))
    }
}

/// Collects writes for one collection and sends them as unordered bulk writes when the batch
/// reaches its count or byte limit (mongo-tools' BufferedBulkInserter idea). Not shared
/// between tasks: one writer per worker.
public final class BulkWriter {
    public let database: String
    public let collection: String
    public let limits: BulkLimits
    private let connection: MongoConnection
    private var pending: [WriteOperation] = []
    private var pendingBytes = 0
    /// Totals over every flush so far.
    public private(set) var total = BulkWriteResult()

    public init(connection: MongoConnection, database: String, collection: String, limits: BulkLimits = BulkLimits()) {
        self.connection = connection
        self.database = database
        self.collection = collection
        self.limits = limits
    }

    /// Operations waiting for the next flush.
    public var pendingCount: Int { pending.count }

    /// Whether adding `operation` would first send what is pending: the batch is full by
    /// count, or the operation would take it past the byte limit.
    public func mustFlush(before operation: WriteOperation) -> Bool {
        !pending.isEmpty && (pending.count >= limits.maxCount || pendingBytes + operation.approximateBytes > limits.maxBytes)
    }

    /// Adds a write; flushes first if it would push the batch over a limit. Returns the
    /// result of that flush, if one happened.
    @discardableResult
    public func add(_ operation: WriteOperation) async throws -> BulkWriteResult? {
        var flushed: BulkWriteResult?
        if mustFlush(before: operation) {
            flushed = try await flush()
        }
        pending.append(operation)
        pendingBytes += operation.approximateBytes
        return flushed
    }

    /// Sends everything pending. On a thrown error nothing is dropped: the batch stays pending
    /// so the caller may retry (every operation syncctl issues is idempotent).
    @discardableResult
    public func flush() async throws -> BulkWriteResult {
        guard !pending.isEmpty else { return BulkWriteResult() }
        let batch = pending
        let (database, collection) = (self.database, self.collection)
        let result = try await connection.withClient { client in
            try BulkWriter.execute(batch, client: client, database: database, collection: collection)
        }
        pending.removeAll(keepingCapacity: true)
        pendingBytes = 0
        total.add(result)
        return result
    }

    /// Drops what is pending without sending it.
    public func discardPending() {
        pending.removeAll()
        pendingBytes = 0
    }

    static func execute(_ batch: [WriteOperation], client: OpaquePointer, database: String, collection: String) throws
        -> BulkWriteResult
    {
        let coll = mongoc_client_get_collection(client, database, collection)!
        defer { mongoc_collection_destroy(coll) }
        let options: BSONDocument = ["ordered": false]
        let bulk = options.withBSON { mongoc_collection_create_bulk_operation_with_opts(coll, $0)! }
        defer { mongoc_bulk_operation_destroy(bulk) }
        // No client-side validation (`validate: false`): every document syncctl writes was
        // read from a MongoDB server or from a backup checked to be well-formed, and the
        // server judges what it stores. The driver's default check re-reads every string for
        // valid UTF-8 (40 % of a full copy's CPU time) and refuses names a server may already
        // hold (empty field names; before libmongoc 1.18 also `$`-prefixed and dotted ones,
        // which MongoDB 5.0+ stores): a mirror must copy whatever local has.
        let insert: BSONDocument = ["validate": false]
        let upsert: BSONDocument = ["upsert": true, "validate": false]
        var error = bson_error_t()
        // Two bson_t shells for the whole batch (filter, document), each pointed at the next
        // document's bytes; the bulk copies what it is given.
        let filterShell = syncctl_bson_alloc()!
        let documentShell = syncctl_bson_alloc()!
        defer {
            syncctl_bson_free(filterShell)
            syncctl_bson_free(documentShell)
        }
        try insert.withBSON { insertOptions in
            try upsert.withBSON { upsertOptions in
                for operation in batch {
                    let ok: Bool
                    switch operation {
                    case .insert(let document):
                        ok = document.withBSON(in: documentShell) { mongoc_bulk_operation_insert_with_opts(bulk, $0, insertOptions, &error) }
                    case .upsert(let filter, let document):
                        ok = filter.withBSON(in: filterShell) { f in
                            document.withBSON(in: documentShell) { d in
                                mongoc_bulk_operation_replace_one_with_opts(bulk, f, d, upsertOptions, &error)
                            }
                        }
                    case .deleteOne(let filter):
                        ok = filter.withBSON(in: filterShell) { mongoc_bulk_operation_remove_one_with_opts(bulk, $0, nil, &error) }
                    }
                    guard ok else { throw MongoError(error) }
                }
            }
        }
        let (succeeded, reply, failureError) = replyOf { reply, error in mongoc_bulk_operation_execute(bulk, reply, error) != 0 }
        let result = BulkWriter.result(from: reply)
        if succeeded { return result }
        let failure = MongoError(failureError, reply: reply)
        // Per-document write errors are results for the caller to judge; anything else
        // (network, server down, a whole-command error) is a failure of the batch.
        if !result.writeErrors.isEmpty && !failure.isTransient {
            return result
        }
        throw failure
    }

    static func result(from reply: BSONDocument) -> BulkWriteResult {
        var result = BulkWriteResult()
        result.inserted = reply["nInserted"]?.intValue ?? 0
        result.matched = reply["nMatched"]?.intValue ?? 0
        result.modified = reply["nModified"]?.intValue ?? 0
        result.upserted = reply["nUpserted"]?.intValue ?? 0
        result.deleted = reply["nRemoved"]?.intValue ?? 0
        result.writeErrors = (reply["writeErrors"]?.arrayValue ?? []).compactMap { value in
            guard let e = value.documentValue else { return nil }
            return BulkWriteResult.WriteError(
                index: e["index"]?.intValue ?? 0, code: Int32(e["code"]?.intValue ?? 0), message: e["errmsg"]?.stringValue ?? "")
        }
        return result
    }
}
