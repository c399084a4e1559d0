/// One worker's writes to one Atlas collection: deletes, inserts and upserts in three
/// unordered bulks (`BulkWriter`), committed together in that order. Inserts are for ranges
/// Atlas held nothing of (cheaper than upserts for the server); an insert that meets a document
/// created meanwhile (duplicate key) is turned into an upsert by `_id` in the same commit.
/// Deletes go first because `_id` 1 (Int32) and
/// 1.0 (Double) are the same key to MongoDB, so when local holds the one and Atlas the other,
/// Atlas's document must be deleted before the local one is upserted, or the upsert would
/// replace it and keep its `_id`. Commits are triggered here, never by `BulkWriter.add`'s own
/// threshold, which would send upserts ahead of pending deletes.
final class SyncWriter {
    let limits: BulkLimits
    private let deletes: BulkWriter
    private let inserts: BulkWriter
    private let upserts: BulkWriter
    private var deleteBytes = 0
    private var insertBytes = 0
    private var upsertBytes = 0
    /// The pending inserts, to turn the ones that meet a duplicate key into upserts.
    private var pendingInserts: [BSONDocument] = []

    init(connection: MongoConnection, database: String, collection: String, limits: BulkLimits) {
        self.limits = limits
        deletes = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
        inserts = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
        upserts = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
    }

    var pendingCount: Int { deletes.pendingCount + inserts.pendingCount + upserts.pendingCount }

    /// Whether `operation` must wait for a commit: the same rule `BulkWriter.add` flushes by.
    func mustCommit(before operation: WriteOperation) -> Bool {
        let (count, bytes) = switch operation {
        case .deleteOne: (deletes.pendingCount, deleteBytes)
        case .insert: (inserts.pendingCount, insertBytes)
        case .upsert: (upserts.pendingCount, upsertBytes)
        }
        // An insert may become an upsert at commit: keep room for all of them there.
        let upsertRoom = upserts.pendingCount + inserts.pendingCount < limits.maxCount
        return count > 0 && (count >= limits.maxCount || bytes + operation.approximateBytes > limits.maxBytes || !upsertRoom)
    }

    /// Queues a write; call `commit` first when `mustCommit(before:)` says so.
    func add(_ operation: WriteOperation) async throws {
        switch operation {
        case .deleteOne:
            try await deletes.add(operation)
            deleteBytes += operation.approximateBytes
        case .insert(let document):
            try await inserts.add(operation)
            insertBytes += operation.approximateBytes
            pendingInserts.append(document)
        case .upsert:
            try await upserts.add(operation)
            upsertBytes += operation.approximateBytes
        }
    }

    /// Sends the pending deletes, then the pending upserts. On a thrown error whatever was not
    /// acknowledged stays pending (and may be resent or discarded).
    func commit() async throws -> BulkWriteResult {
        var result = try await deletes.flush()
        deleteBytes = 0
        if inserts.pendingCount > 0 {
            var inserted = try await inserts.flush()
            let duplicates = inserted.writeErrors.filter { $0.code == 11000 }
            for duplicate in duplicates where duplicate.index < pendingInserts.count {
                let document = pendingInserts[duplicate.index]
                if let filter = document.idFilter { try await upserts.add(.upsert(filter: filter, document: document)) }
            }
            inserted.writeErrors.removeAll { $0.code == 11000 }
            result.add(inserted)
            pendingInserts.removeAll(keepingCapacity: true)
            insertBytes = 0
        }
        result.add(try await upserts.flush())
        upsertBytes = 0
        return result
    }

    func discardPending() {
        deletes.discardPending()
        inserts.discardPending()
        upserts.discardPending()
        pendingInserts.removeAll()
        deleteBytes = 0
        insertBytes = 0
        upsertBytes = 0
    }
}
