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
        // A short write (disk full) leaves a partial line: replay dead-letters it, never loses it silently.
        try AppendFile.append(data, to: path, what: "the queue file", fsync: durable)
    }
}
