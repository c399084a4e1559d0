import Crypto

/// Where a scan hands what it finds, as it finds it. Full-sync writes; verify records.
protocol ScanSink: AnyObject {
    /// A local document Atlas does not have (no Atlas document with the same `_id` bytes).
    /// `emptyRange`: Atlas held no document at all in the range.
    func missing(_ id: DocumentID, local: BSONDocument?, emptyRange: Bool) async throws
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
/// whatever Atlas has between them that local does not (read without a sort: the comparison
/// does not depend on Atlas's order, and a server need not sort). Every document is reduced to the
/// SHA-256 of its raw bytes. The digests of a range are compared in order: an unchanged
/// range is a straight run of equal digests (no lookups, nothing written); from the first
/// mismatch on, the range is narrowed to documents by `_id`. Only one local range (and the
/// one read ahead) is in memory; Atlas documents are streamed and never kept.
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

    /// Scans `range`, reporting every difference and each compared range to `sink`.
    func scan(_ range: IDRange, into sink: some ScanSink) async throws {
        let batchSize = Int32(clamping: chunkDocuments)
        let stream = try await local.find(
            database: localDatabase, collection: collection, options: range.findOptions(batchSize: batchSize))
        do {
            try await scan(stream, range, into: sink)
            await stream.close()
        } catch {
            await stream.close()
            throw error
        }
    }

    private func scan(_ stream: DocumentStream, _ range: IDRange, into sink: some ScanSink) async throws {
        var lower = range.lower
        var chunk = try await stream.next(maxCount: chunkDocuments, maxBytes: chunkBytes) ?? []
        while true {
            try Task.checkCancellation()
            // The first document of the next chunk bounds this one.
            let boundary = chunk.isEmpty ? nil : try await stream.next(maxCount: 1)?.first
            let upper = boundary.flatMap(DocumentID.init(of:)) ?? range.upper
            let current = IDRange(lower: lower, upper: upper)
            guard let boundary else {
                let (equal, seen) = try await compare(chunk, in: current, sink: sink)
                try await sink.rangeDone(upper: upper, scanned: chunk.count, equal: equal, atlasDocuments: seen)
                return
            }
            // Read the rest of the next chunk from local while this one is compared with Atlas.
            async let rest = stream.next(maxCount: max(1, chunkDocuments - 1), maxBytes: max(1, chunkBytes - boundary.byteCount))
            let (equal, seen) = try await compare(chunk, in: current, sink: sink)
            let more = try await rest ?? []
            try await sink.rangeDone(upper: upper, scanned: chunk.count, equal: equal, atlasDocuments: seen)
            chunk = [boundary] + more
            lower = upper
        }
    }

    /// Compares a local chunk with Atlas's documents in the same range; returns how many were
    /// equal and how many Atlas documents the range held.
    private func compare(_ chunk: [BSONDocument], in range: IDRange, sink: some ScanSink) async throws -> (Int, Int) {
        let digests = chunk.map { SHA256.hash(data: $0.bytes) }
        var matched = [Bool](repeating: false, count: chunk.count)
        var position = 0
        var byID: [DocumentID: Int]?
        var equal = 0
        var seen = 0
        if atlasWasEmpty {
            for document in chunk {
                guard let id = DocumentID(of: document) else { continue }
                try await sink.missing(id, local: keepDocuments ? document : nil, emptyRange: true)
            }
            return (0, 0)
        }
        // In any order: the digests are matched in order while they agree, then by `_id`.
        let stream = try await atlas.find(
            database: atlasDatabase, collection: collection,
            options: range.findOptions(batchSize: Int32(clamping: max(chunkDocuments, 101)), sorted: false))
        do {
            while let batch = try await stream.next(maxCount: chunkDocuments, maxBytes: chunkBytes) {
                for document in batch {
                    seen += 1
                    let digest = SHA256.hash(data: document.bytes)
                    // Equal digests mean equal bytes, `_id` included: the same document.
                    if byID == nil {
                        if position < chunk.count && digests[position] == digest {
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
                    if digests[index] == digest {
                        equal += 1
                    } else {
                        try await sink.different(id, local: keepDocuments ? chunk[index] : nil)
                    }
                }
            }
            await stream.close()
        } catch {
            await stream.close()
            throw error
        }
        for index in chunk.indices where !matched[index] {
            guard let id = DocumentID(of: chunk[index]) else { continue }
            try await sink.missing(id, local: keepDocuments ? chunk[index] : nil, emptyRange: seen == 0)
        }
        return (equal, seen)
    }
}
