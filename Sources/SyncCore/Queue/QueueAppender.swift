import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes entries to the queue file exactly as the README asks of any application: open
/// with O_APPEND, one `write` of whole lines, close. One write per call means lines from
/// concurrent writers never interleave; closing each time means a rotation (rename) by
/// replay is never written past. Nothing here waits for Atlas or for replay.
///
/// `durable` is `SYNC_PERSIST_QUEUE`: true fsyncs every append, so an entry survives a
/// power cut or a kernel crash; false leaves it in the page cache, which survives the
/// application crashing or being killed but not the machine going down.
public struct QueueAppender: Sendable {
    public let path: String
    public let durable: Bool

    public init(path: String, durable: Bool = true) {
        self.path = path
        self.durable = durable
    }

    public init(settings: Settings) {
        self.init(path: settings.queueFile, durable: settings.persistQueue)
    }

    /// Appends one entry for a write the application just made locally.
    @discardableResult
    public func append(_ operation: QueueEntry.Operation, database: String, collection: String, id: BSONValue,
                       time: Date = Date()) throws(StateError) -> QueueEntry {
        let entry = QueueEntry(time: time, database: database, collection: collection, operation: operation, documentID: id)
        try append(entry)
        return entry
    }

    public func append(_ entry: QueueEntry) throws(StateError) {
        try appendLines([Array(entry.jsonLine.utf8)])
    }

    public func append(_ entries: [QueueEntry]) throws(StateError) {
        try appendLines(entries.map { Array($0.jsonLine.utf8) })
    }

    /// Appends raw lines (each without its newline) in one write.
    func appendLines(_ lines: [[UInt8]]) throws(StateError) {
        guard !lines.isEmpty else { return }
        var data: [UInt8] = []
        data.reserveCapacity(lines.reduce(0) { $0 + $1.count + 1 })
        for line in lines {
            data.append(contentsOf: line)
            data.append(0x0A)
        }
        var fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 && errno == ENOENT {
            try AtomicFile.makeDirectory(PathParts.parent(path))
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { throw StateError(.cannotWrite, "cannot open the queue file \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var written: Int
        repeat {
            written = data.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        } while written < 0 && errno == EINTR
        // A short write (disk full) cannot be finished safely: another writer may append in
        // between. The partial line is then dead-lettered by replay, not lost silently.
        guard written == data.count else {
            throw StateError(.cannotWrite, "cannot append to the queue file \(path): \(written < 0 ? String(cString: strerror(errno)) : "only \(written) of \(data.count) bytes written (disk full?)")")
        }
        if durable && fsync(fd) != 0 {
            throw StateError(.cannotWrite, "cannot fsync the queue file \(path): \(String(cString: strerror(errno)))")
        }
    }
}
