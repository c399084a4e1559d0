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
    /// The pending inserts, to turn the ones that meet a duplicate key into upserts.
    private var pendingInserts: [BSONDocument] = []

    init(connection: MongoConnection, database: String, collection: String, limits: BulkLimits) {
        self.limits = limits
        deletes = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
        inserts = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
        upserts = BulkWriter(connection: connection, database: database, collection: collection, limits: limits)
    }

    var pendingCount: Int { deletes.pendingCount + inserts.pendingCount + upserts.pendingCount }

    private func writer(for operation: WriteOperation) -> BulkWriter {
        switch operation {
        case .deleteOne: deletes
        case .insert: inserts
        case .upsert: upserts
        }
    }

    /// Whether `operation` must wait for a commit: its bulk would flush (`BulkWriter`'s rule),
    /// or an insert may become an upsert at commit and the upserts need room for all of them.
    func mustCommit(before operation: WriteOperation) -> Bool {
        let writer = writer(for: operation)
        let upsertRoom = upserts.pendingCount + inserts.pendingCount < limits.maxCount
        return writer.pendingCount > 0 && (writer.mustFlush(before: operation) || !upsertRoom)
    }

    /// Queues a write; call `commit` first when `mustCommit(before:)` says so.
    func add(_ operation: WriteOperation) async throws {
        try await writer(for: operation).add(operation)
        if case .insert(let document) = operation { pendingInserts.append(document) }
    }

    /// Sends the pending deletes, then the pending upserts. On a thrown error whatever was not
    /// acknowledged stays pending (and may be resent or discarded).
    func commit() async throws -> BulkWriteResult {
        var result = try await deletes.flush()
        if inserts.pendingCount > 0 {
            var inserted = try await inserts.flush()
            let duplicates = inserted.writeErrors.filter { $0.code == 11000 }
            for duplicate in duplicates where duplicate.index < pendingInserts.count {
                let document = pendingInserts[duplicate.index]
                guard let filter = document.idFilter else { continue }
                // Converted upserts can exceed the byte limit: then the bulk flushes on its own.
                if let flushed = try await upserts.add(.upsert(filter: filter, document: document)) { result.add(flushed) }
            }
            inserted.writeErrors.removeAll { $0.code == 11000 }
            result.add(inserted)
            pendingInserts.removeAll(keepingCapacity: true)
        }
        result.add(try await upserts.flush())
        return result
    }

    func discardPending() {
        deletes.discardPending()
        inserts.discardPending()
        upserts.discardPending()
        pendingInserts.removeAll()
    }
}
