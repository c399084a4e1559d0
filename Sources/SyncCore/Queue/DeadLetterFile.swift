import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A queue line replay gave up on: one that does not parse (or lacks a field), or an entry
/// that failed `SYNC_MAX_RETRIES` retries for a reason retrying does not fix. Kept with the
/// reason and where the line was, for review and `replay --retry-dead-letters`.
public struct DeadLetter: Sendable, Codable, Equatable {
    public struct Source: Sendable, Codable, Equatable {
        /// The queue file's name when the line was read (rotated files are renamed).
        public var file: String
        public var inode: UInt64
        /// Byte offset of the line in that file.
        public var offset: UInt64

        /// The line's identity: a rename changes the name, never the inode and offset.
        var position: [UInt64] { [inode, offset] }
    }

    public struct ErrorDetail: Sendable, Codable, Equatable {
        public var code: Int32?
        public var codeName: String?
        public var message: String
    }

    public var v = 1
    /// When it was dead-lettered.
    public var time: Date
    public var reason: String
    /// Attempts made before giving up (entries only).
    public var attempts: Int?
    /// The last error from MongoDB (entries only).
    public var error: ErrorDetail?
    public var source: Source
    /// The line as written (without its newline) when it is UTF-8; else `lineBase64`.
    public var line: String?
    public var lineBase64: String?
    /// From the entry, when the line parsed: for listing.
    public var collection: String?
    public var documentID: String?

    enum CodingKeys: String, CodingKey {
        case v, time, reason, attempts, error, source, line, lineBase64, collection
        case documentID = "_id"
    }

    init(line: QueueLine, segment: QueueSegment, reason: String, entry: QueueEntry?, attempts: Int? = nil,
         error: MongoError? = nil, time: Date = Date()) {
        self.time = time
        self.reason = reason
        self.attempts = attempts
        self.error = error.map { ErrorDetail(code: $0.code == 0 ? nil : $0.code, codeName: $0.codeName, message: $0.message) }
        self.source = Source(file: segment.name, inode: segment.inode, offset: line.offset)
        if let text = String(validating: line.bytes, as: UTF8.self) {
            self.line = text
        } else {
            self.lineBase64 = Data(line.bytes).base64EncodedString()
        }
        self.collection = entry?.collection
        self.documentID = entry.map { QueueEntry.canonicalJSON(of: $0.documentID) }
    }

    /// The line's bytes as recorded.
    var lineBytes: [UInt8]? {
        if let line { return Array(line.utf8) }
        return lineBase64.flatMap { Data(base64Encoded: $0) }.map { Array($0) }
    }
}

/// `<queue>.dead-letters.jsonl`: one JSON line per dead letter, appended and fsynced. Writers
/// (replay, and `--retry-dead-letters` while a worker runs) take a short lock of their own,
/// so the two never lose each other's changes.
public struct DeadLetterFile: Sendable {
    public let path: String
    let files: QueueFiles

    public init(files: QueueFiles) {
        self.files = files
        self.path = files.deadLetterPath
    }

    private func withLock<T>(_ body: () throws -> T) throws -> T {
        let lock = try RunLock.acquire("replay-dead-letters", in: files.state, waitSeconds: 30)
        defer { lock.release() }
        return try body()
    }

    /// Appends dead letters, skipping any already recorded for the same line (a replay killed
    /// after saving its dead letters but before committing reads the same lines again).
    func append(_ letters: [DeadLetter]) throws {
        guard !letters.isEmpty else { return }
        try withLock {
            let existing = Set(read().letters.map(\.source.position))
            let fresh = letters.filter { !existing.contains($0.source.position) }
            guard !fresh.isEmpty else { return }
            try write(fresh, appendingTo: path)
        }
    }

    /// One JSON line per dead letter.
    private static func lines(_ letters: [DeadLetter]) throws -> Data {
        let encoder = QueueState.encoder()
        var data = Data()
        for letter in letters {
            data.append(try encoder.encode(letter))
            data.append(UInt8(ascii: "\n"))
        }
        return data
    }

    private func write(_ letters: [DeadLetter], appendingTo path: String) throws {
        try AppendFile.append(try Self.lines(letters), to: path, what: "the dead-letter file", fsync: true, createDirectory: false)
    }

    /// Every dead letter, oldest first, and how many lines of the file do not parse.
    public func read() -> (letters: [DeadLetter], unreadable: Int) {
        let decoder = StateJSON.decoder()
        var letters: [DeadLetter] = []
        var unreadable = 0
        for line in recordLines() {
            if let letter = try? decoder.decode(DeadLetter.self, from: Data(line)) {
                letters.append(letter)
            } else {
                unreadable += 1
            }
        }
        return (letters, unreadable)
    }

    /// How many records the file holds, readable or not (what `read()` returns, counted
    /// without decoding: `status` and the metrics ask often).
    public func count() -> Int {
        recordLines().count
    }

    /// The file's non-blank lines: one record each.
    private func recordLines() -> [Data.SubSequence] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).filter { !$0.allSatisfy { $0 == 0x20 || $0 == 0x0D } }
    }

    /// What `retry` did.
    public struct RetryResult: Sendable, Equatable {
        /// Entries appended to the queue again.
        public var requeued = 0
        /// Dead letters left in place: their line still does not parse as an entry. Edit the
        /// `line` field in the dead-letter file and retry, or delete the record.
        public var kept = 0
    }

    /// Puts every dead letter whose line parses as an entry back on the queue (appended anew,
    /// with its original operation id and time) and removes it from the dead-letter file.
    /// Lines are appended before the file is rewritten: a crash in between leaves an entry in
    /// both places, and replaying it twice is harmless.
    public func retry(durable: Bool = true) throws -> RetryResult {
        try withLock {
            let (letters, unreadable) = read()
            guard unreadable == 0 else {
                throw StateError(.badInput, "\(path) has \(unreadable) line(s) that are not dead-letter records: fix or remove them, then retry")
            }
            var result = RetryResult()
            var back: [[UInt8]] = []
            var kept: [DeadLetter] = []
            for letter in letters {
                if let bytes = letter.lineBytes, (try? QueueEntry(line: bytes)) != nil {
                    back.append(bytes)
                } else {
                    kept.append(letter)
                }
            }
            result.requeued = back.count
            result.kept = kept.count
            guard !back.isEmpty else { return result }
            try QueueAppender(path: files.path, durable: durable).appendLines(back)
            try AtomicFile.write(try Self.lines(kept), to: path, mode: 0o600)
            return result
        }
    }
}
