import Foundation

/// A list of `_id`s whose memory use does not grow with its length: the first `memoryLimit`
/// stay in memory, the rest go to a file (the raw `{_id: …}` documents one after another),
/// read back in batches. Verify keeps its recheck candidates and its confirmed differences
/// here, so a collection with millions of differences costs disk, not memory.
final class IDQueue: @unchecked Sendable {
    // Invariant: every stored property is read and written only while holding `lock`.
    private let lock = NSLock()
    private let memoryLimit: Int
    private let spillPath: String
    private var memory: [DocumentID] = []
    private var file: FileHandle?
    private var spilled = 0

    /// `spillPath` is created only if the queue outgrows memory.
    init(spillPath: String, memoryLimit: Int = 1_000) {
        self.spillPath = spillPath
        self.memoryLimit = memoryLimit
    }

    var count: Int { lock.withLock { memory.count + spilled } }
    var isEmpty: Bool { count == 0 }

    func append(_ id: DocumentID) throws {
        try lock.withLock {
            if memory.count < memoryLimit {
                memory.append(id)
                return
            }
            if file == nil {
                let directory = PathParts.parent(spillPath)
                try AtomicFile.makeDirectory(directory)
                guard FileManager.default.createFile(atPath: spillPath, contents: nil, attributes: [.posixPermissions: 0o600]),
                    let handle = FileHandle(forUpdatingAtPath: spillPath)
                else {
                    throw StateError(.cannotWrite, "cannot create \(spillPath): check that SYNC_STATE_DIR is writable")
                }
                file = handle
            }
            try file?.write(contentsOf: id.filter.bytes)
            spilled += 1
        }
    }

    /// Calls `body` with the ids in batches of at most `size`, in the order appended.
    func forEachBatch(of size: Int, _ body: ([DocumentID]) async throws -> Void) async throws {
        let (inMemory, handle, total) = lock.withLock { (memory, file, spilled) }
        var start = 0
        while start < inMemory.count {
            try await body(Array(inMemory[start..<min(start + size, inMemory.count)]))
            start += size
        }
        guard let handle, total > 0 else { return }
        try handle.seek(toOffset: 0)
        var read = 0
        while read < total {
            var batch: [DocumentID] = []
            while batch.count < size && read < total {
                guard let header = try handle.read(upToCount: 4), header.count == 4 else { break }
                let length = Int(UInt32(header[header.startIndex]) | UInt32(header[header.startIndex + 1]) << 8
                    | UInt32(header[header.startIndex + 2]) << 16 | UInt32(header[header.startIndex + 3]) << 24)
                guard length > 4, let body = try handle.read(upToCount: length - 4), body.count == length - 4 else { break }
                batch.append(DocumentID(filter: BSONDocument(unchecked: [UInt8](header) + [UInt8](body))))
                read += 1
            }
            if batch.isEmpty { break }
            try await body(batch)
        }
        try handle.seekToEnd()
    }

    /// Deletes the spill file.
    func close() {
        lock.withLock {
            try? file?.close()
            file = nil
            if spilled > 0 { try? FileManager.default.removeItem(atPath: spillPath) }
            memory.removeAll()
            spilled = 0
        }
    }

    deinit { close() }
}
