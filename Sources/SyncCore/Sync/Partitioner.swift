/// Splits a large collection into `_id` ranges that several workers work on at once
/// (migration-verifier's partitioning idea). Split points are found by walking the `_id`
/// index: from each split point, `find` skips `partitionDocuments` keys and takes the next
/// `_id` (`hint: {_id: 1}`, `min`, `skip`, `limit: 1`, projection `{_id: 1}`), so finding all
/// of them reads each index key once and no document.
struct Partitioner: Sendable {
    let connection: MongoConnection
    let database: String
    /// About how many documents one partition holds.
    var partitionDocuments: Int

    /// The ranges covering the whole collection, in `_id` order: one when the collection is
    /// smaller than two partitions.
    func partitions(of collection: String, count: Int) async throws -> [IDRange] {
        guard partitionDocuments > 0, count >= 2 * partitionDocuments else { return [.all] }
        var bounds: [DocumentID] = []
        var from: DocumentID?
        while true {
            var options = IDRange(lower: from).findOptions()
            options.skip = Int64(partitionDocuments)
            options.limit = 1
            options.projection = ["_id": 1]
            let found = try await connection.withFind(database: database, collection: collection, options: options) {
                try await $0.next(maxCount: 1)?.first
            }
            guard let id = found.flatMap(DocumentID.init(of:)) else { break }
            bounds.append(id)
            from = id
            try Task.checkCancellation()
        }
        var ranges: [IDRange] = []
        var lower: DocumentID?
        for bound in bounds {
            ranges.append(IDRange(lower: lower, upper: bound))
            lower = bound
        }
        ranges.append(IDRange(lower: lower, upper: nil))
        return ranges
    }
}

/// Hands out work items to a fixed number of workers.
actor WorkQueue<Item: Sendable> {
    private var items: [Item]
    private var next = 0

    init(_ items: [Item]) {
        self.items = items
    }

    func take() -> Item? {
        guard next < items.count else { return nil }
        defer { next += 1 }
        return items[next]
    }
}
