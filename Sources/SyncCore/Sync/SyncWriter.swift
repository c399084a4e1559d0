/// One worker's writes to one Atlas collection: deletes and upserts in two unordered bulks
/// (`BulkWriter`), committed together, deletes first. The order matters: `_id` 1 (Int32) and
/// 1.0 (Double) are the same key to MongoDB, so when local holds the one and Atlas the other,
/// Atlas's document must be deleted before the local one is upserted, or the upsert would
/// replace it and keep its `_id`. Commits are triggered here, never by `BulkWriter.add`'s own
/// threshold, which would send upserts ahead of pending deletes.
final class SyncWriter {
    let limits: BulkLimits
    private let deletes: BulkWriter
    private let upserts: BulkWriter
    private var deleteBytes = 0
    private var upsertBytes = 0

    init(connection: MongoConnection, database: String, collection: String, limits: BulkLimits) {
        self.limits = limits
        deletes = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
        upserts = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
    }

    var pendingCount: Int { deletes.pendingCount + upserts.pendingCount }

    /// Whether `operation` must wait for a commit: the same rule `BulkWriter.add` flushes by.
    func mustCommit(before operation: WriteOperation) -> Bool {
        let (count, bytes) = operation.isDelete ? (deletes.pendingCount, deleteBytes) : (upserts.pendingCount, upsertBytes)
        return count > 0 && (count >= limits.maxCount || bytes + operation.approximateBytes > limits.maxBytes)
    }

    /// Queues a write; call `commit` first when `mustCommit(before:)` says so.
    func add(_ operation: WriteOperation) async throws {
        if operation.isDelete {
            try await deletes.add(operation)
            deleteBytes += operation.approximateBytes
        } else {
            try await upserts.add(operation)
            upsertBytes += operation.approximateBytes
        }
    }

    /// Sends the pending deletes, then the pending upserts. On a thrown error whatever was not
    /// acknowledged stays pending (and may be resent or discarded).
    func commit() async throws -> BulkWriteResult {
        var result = try await deletes.flush()
        deleteBytes = 0
        result.add(try await upserts.flush())
        upsertBytes = 0
        return result
    }

    func discardPending() {
        deletes.discardPending()
        upserts.discardPending()
        deleteBytes = 0
        upsertBytes = 0
    }
}

extension WriteOperation {
    var isDelete: Bool {
        if case .deleteOne = self { return true }
        return false
    }
}
