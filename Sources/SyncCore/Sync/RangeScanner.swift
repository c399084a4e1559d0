/// Where a scan hands what it finds, as it finds it. Full-sync writes; verify records.
protocol ScanSink: AnyObject {
    /// A local document Atlas does not have (no Atlas document with the same `_id` bytes).
    /// `emptyRange`: Atlas held no document at all in the range.
    /// `id` is nil in an empty range when the sink keeps documents (`keepDocuments`): it inserts.
    func missing(_ id: DocumentID?, local: BSONDocument?, emptyRange: Bool) async throws
    /// A document on both sides whose bytes differ.
    func different(_ id: DocumentID, local: BSONDocument?) async throws
    /// An Atlas document local does not have.
    func extra(_ id: DocumentID) async throws
    /// Every document below `upper` (nil: to the end of the scanned range) has been compared.
    func rangeDone(upper: DocumentID?, scanned: Int, equal: Int, atlasDocuments: Int) async throws
}

/// Compares one collection's documents on local and Atlas, range by range, in `_id` order.
///
/// The local side is read as one cursor, cut into ranges of at most `chunkDocuments`
/// documents or `chunkBytes` bytes; each range's bounds are the `_id`s where the local chunks
/// begin, so the Atlas side of a range (read with the same `min`/`max` bounds) also holds
/// whatever Atlas has between them that local does not. Atlas is read either as one sorted
/// cursor cut at those bounds (`IDOrder`), or range by range with `min`/`max` index bounds and
/// no sort (the comparison does not depend on the order of Atlas's side). Documents are
/// compared by their raw bytes, in order: an unchanged range is a straight run of identical
/// documents (no lookups, nothing written); at a mismatch, the two `_id`s in BSON order say
/// which side lacks a document (a merge of two sorted lists), or — Atlas read in no order —
/// the range is matched by `_id`. Both copies are in memory at that moment, so the bytes themselves
/// are compared — exact, and cheaper than hashing them (SHA-256 cost a fifth of verify's
/// time). Only one local range (and the one read ahead) is in memory; Atlas documents are
/// streamed and never kept.
struct RangeScanner: Sendable {
    let local: MongoConnection
    let atlas: MongoConnection
    let localDatabase: String
    let atlasDatabase: String
    let collection: String
    var chunkDocuments = 1_000
    var chunkBytes = 8 << 20
    /// Whether the sink needs the local documents (full-sync writes them; verify does not).
    var keepDocuments = true
    /// Atlas had no document of this collection when the run began: every range is empty
    /// there, so Atlas is not read (a straight copy).
    var atlasWasEmpty = false
    /// Read Atlas with one sorted cursor over the whole scanned range, cut at the local
    /// ranges' bounds by `IDOrder`, rather than one query per range. Turned off for collections
    /// with a collation (their string `_id`s sort by it); when `IDOrder` cannot order an `_id`,
    /// the scan throws `IDOrderUnknown` and the caller scans again range by range.
    var atlasInOneCursor = true

    /// Scans `range`, reporting every difference and each compared range to `sink`.
    func scan(_ range: IDRange, into sink: some ScanSink) async throws {
        let batchSize = Int32(clamping: chunkDocuments)
        let stream = try await local.find(
            database: localDatabase, collection: collection, options: range.findOptions(batchSize: batchSize))
        var cursor: AtlasCursor?
        do {
            if atlasInOneCursor && !atlasWasEmpty {
                cursor = AtlasCursor(try await atlas.find(
                    database: atlasDatabase, collection: collection, options: range.findOptions(batchSize: batchSize)))
            }
            try await scan(stream, range, cursor: cursor, into: sink)
            await cursor?.close()
            await stream.close()
        } catch {
            await cursor?.close()
            await stream.close()
            throw error
        }
    }

    private func scan(_ stream: DocumentStream, _ range: IDRange, cursor: AtlasCursor?, into sink: some ScanSink) async throws {
        var lower = range.lower
        var chunk = try await stream.next(maxCount: chunkDocuments, maxBytes: chunkBytes) ?? []
        while true {
            try Task.checkCancellation()
            // The first document of the next chunk bounds this one.
            let boundary = chunk.isEmpty ? nil : try await stream.next(maxCount: 1)?.first
            let upper = boundary.flatMap(DocumentID.init(of:)) ?? range.upper
            let current = IDRange(lower: lower, upper: upper)
            guard let boundary else {
                let (equal, seen) = try await compare(chunk, in: current, last: true, cursor: cursor, sink: sink)
                try await sink.rangeDone(upper: upper, scanned: chunk.count, equal: equal, atlasDocuments: seen)
                return
            }
            // Read the rest of the next chunk from local while this one is compared with Atlas.
            async let rest = stream.next(maxCount: max(1, chunkDocuments - 1), maxBytes: max(1, chunkBytes - boundary.byteCount))
            let (equal, seen) = try await compare(chunk, in: current, last: false, cursor: cursor, sink: sink)
            let more = try await rest ?? []
            try await sink.rangeDone(upper: upper, scanned: chunk.count, equal: equal, atlasDocuments: seen)
            chunk = [boundary] + more
            lower = upper
        }
    }

    /// Compares a local chunk with Atlas's documents in the same range; returns how many were
    /// equal and how many Atlas documents the range held.
    private func compare(_ chunk: [BSONDocument], in range: IDRange, last: Bool, cursor: AtlasCursor?, sink: some ScanSink)
        async throws -> (Int, Int)
    {
        if atlasWasEmpty {
            for document in chunk { try await missing(document, emptyRange: true, sink: sink) }
            return (0, 0)
        }
        let (equal, seen, unmatched) = if let cursor {
            try await merge(chunk, in: range, last: last, cursor: cursor, sink: sink)
        } else {
            try await match(chunk, in: range, sink: sink)
        }
        for index in chunk.indices where !unmatched.matched(index) {
            try await missing(chunk[index], emptyRange: seen == 0, sink: sink)
        }
        return (equal, seen)
    }

    /// Both sides in `_id` order (Atlas's sorted cursor, up to `range.upper`): one merge pass.
    /// An unchanged run is a straight run of identical bytes; at a mismatch the two `_id`s say
    /// which side lacks a document, so a changed range costs no lookups either.
    private func merge(_ chunk: [BSONDocument], in range: IDRange, last: Bool, cursor: AtlasCursor, sink: some ScanSink)
        async throws -> (equal: Int, seen: Int, unmatched: Unmatched)
    {
        var position = 0
        var equal = 0
        var seen = 0
        while let document = try await cursor.peek() {
            if !last, let upper = range.upper {
                guard let order = IDOrder.compare(document, to: upper) else { throw IDOrderUnknown() }
                if order >= 0 { break }
            }
            cursor.advance()
            seen += 1
            // Equal bytes, `_id` included: the same document, unchanged.
            if position < chunk.count && chunk[position] == document {
                position += 1
                equal += 1
                continue
            }
            // Local documents that sort before this Atlas document are missing in Atlas.
            while true {
                guard position < chunk.count else {
                    try await extra(document, sink: sink)
                    break
                }
                guard let (order, same) = IDOrder.compareIDs(chunk[position], document) else { throw IDOrderUnknown() }
                if order < 0 {
                    try await missing(chunk[position], emptyRange: false, sink: sink)
                    position += 1
                    continue
                }
                if same {
                    // After local documents Atlas lacks: possibly the same bytes again.
                    if chunk[position] == document {
                        equal += 1
                    } else if let id = DocumentID(of: document) {
                        try await sink.different(id, local: keepDocuments ? chunk[position] : nil)
                    }
                    position += 1
                    break
                }
                // Atlas's sorts before the local one, or is the same key of another type (1 and
                // 1.0): it is extra; a same-key local one is then missing (deletes go first).
                try await extra(document, sink: sink)
                if order == 0 {
                    try await missing(chunk[position], emptyRange: false, sink: sink)
                    position += 1
                }
                break
            }
        }
        return (equal, seen, .from(position))
    }

    /// Atlas's side of the range in any order (a query for the range): documents are matched
    /// in order while they agree, then by `_id`.
    private func match(_ chunk: [BSONDocument], in range: IDRange, sink: some ScanSink)
        async throws -> (equal: Int, seen: Int, unmatched: Unmatched)
    {
        var matched = [Bool](repeating: false, count: chunk.count)
        var position = 0
        var byID: [DocumentID: Int]?
        var equal = 0
        var seen = 0
        try await atlas.withFind(
            database: atlasDatabase, collection: collection,
            options: range.findOptions(batchSize: Int32(clamping: max(chunkDocuments, 101)), sorted: false)
        ) { stream in
            while let batch = try await stream.next(maxCount: chunkDocuments, maxBytes: chunkBytes) {
                for document in batch {
                    seen += 1
                    if byID == nil {
                        if position < chunk.count && chunk[position] == document {
                            matched[position] = true
                            position += 1
                            equal += 1
                            continue
                        }
                        byID = Dictionary(
                            chunk.enumerated().compactMap { item in DocumentID(of: item.element).map { ($0, item.offset) } },
                            uniquingKeysWith: { first, _ in first })
                    }
                    guard let id = DocumentID(of: document) else { continue }
                    guard let index = byID?[id] else {
                        try await sink.extra(id)
                        continue
                    }
                    matched[index] = true
                    if chunk[index] == document {
                        equal += 1
                    } else {
                        try await sink.different(id, local: keepDocuments ? chunk[index] : nil)
                    }
                }
            }
        }
        return (equal, seen, .flags(matched))
    }

    /// A local document Atlas lacks. Into a range Atlas holds nothing of, a sink that keeps
    /// documents inserts them and needs no `_id` (not built: it is per document of a copy).
    private func missing(_ document: BSONDocument, emptyRange: Bool, sink: some ScanSink) async throws {
        let id = keepDocuments && emptyRange ? nil : DocumentID(of: document)
        try await sink.missing(id, local: keepDocuments ? document : nil, emptyRange: emptyRange)
    }

    /// An Atlas document local lacks.
    private func extra(_ document: BSONDocument, sink: some ScanSink) async throws {
        if let id = DocumentID(of: document) { try await sink.extra(id) }
    }
}

/// The local documents of a chunk no Atlas document matched: every one from a position on
/// (a merge), or those not flagged (a match by `_id`).
private enum Unmatched {
    case from(Int)
    case flags([Bool])

    func matched(_ index: Int) -> Bool {
        switch self {
        case .from(let position): index < position
        case .flags(let flags): flags[index]
        }
    }
}

/// `IDOrder` could not order an `_id` against a range bound: scan again range by range.
struct IDOrderUnknown: Error {}

extension RangeScanner {
    /// Scans `range` into `sink` to its end, each attempt starting at `resumeFrom()` (the sink's
    /// last good bound). A transient failure drops what the sink has not made good (`discard`)
    /// and tries again after a pause, up to `retry.maxRetries` times in a row — a run of
    /// failures ends when `progress()` moved; an `_id` the one-cursor reading cannot order
    /// switches to reading range by range. `finish` runs after the scan, inside the retries.
    mutating func scanUntilDone(
        _ range: IDRange, into sink: some ScanSink, retry: TransientRetry, what: String, resumeFrom: () -> DocumentID?,
        progress: () -> Int, discard: () -> Void, finish: () async throws -> Void = {}
    ) async throws {
        var failures = 0
        var progressAtLastFailure = progress()
        while true {
            do {
                try await scan(IDRange(lower: resumeFrom() ?? range.lower, upper: range.upper), into: sink)
                try await finish()
                return
            } catch is IDOrderUnknown {
                atlasInOneCursor = false
                discard()
            } catch where TransientRetry.isTransient(error) {
                if progress() > progressAtLastFailure { failures = 0 }
                progressAtLastFailure = progress()
                failures += 1
                guard failures <= retry.maxRetries else { throw error }
                discard()
                try await retry.pause(after: error, attempt: failures, what: what)
            }
        }
    }
}

/// The Atlas side of a partition as one sorted cursor that ranges take documents from in turn.
/// The next batch is always being read while the current one is compared.
final class AtlasCursor {
    private let stream: DocumentStream
    private var buffer: [BSONDocument] = []
    private var index = 0
    private var exhausted = false
    private var nextBatch: Task<[BSONDocument]?, any Error>?

    init(_ stream: DocumentStream) {
        self.stream = stream
    }

    /// The next document, without taking it.
    func peek() async throws -> BSONDocument? {
        while index >= buffer.count {
            if exhausted { return nil }
            let pending = nextBatch ?? read()
            nextBatch = nil
            guard let batch = try await pending.value else {
                exhausted = true
                return nil
            }
            buffer = batch
            index = 0
            // One read at a time on the stream: the next one starts once this one is done.
            nextBatch = read()
        }
        return buffer[index]
    }

    private func read() -> Task<[BSONDocument]?, any Error> {
        let stream = self.stream
        return Task { try await stream.next(maxCount: 2_000) }
    }

    func advance() {
        index += 1
    }

    func close() async {
        if let nextBatch { _ = try? await nextBatch.value }
        nextBatch = nil
        await stream.close()
    }
}
