import Foundation
import Logging

/// Entries replay has finished with, counted since the queue's state was created.
public struct ReplayTotals: Sendable, Codable, Equatable {
    /// Entries whose document was written to (or deleted from) Atlas.
    public var applied = 0
    /// Failed attempts to apply an entry (each entry, each time; Atlas being down counts
    /// here). A failed attempt loses nothing: the entry is tried again.
    public var failed = 0
    /// Entries and lines given up on: in the dead-letter file.
    public var deadLettered = 0
    /// Entries for collections in `SYNC_EXCLUDED_COLLECTIONS`.
    public var skipped = 0
    /// Entries that needed no write of their own: another entry for the same document in the
    /// same batch carried it.
    public var coalesced = 0
    /// Writes sent to Atlas.
    public var upserts = 0
    public var deletes = 0

    public init() {}

    /// Share of finished entries that reached Atlas: applied / (applied + dead-lettered).
    /// Failed attempts that were retried successfully do not lower it (nothing was lost);
    /// nil before anything finished.
    public var successRatio: Double? {
        let finished = applied + deadLettered
        return finished == 0 ? nil : Double(applied) / Double(finished)
    }

    mutating func add(_ other: ReplayTotals) {
        applied += other.applied
        failed += other.failed
        deadLettered += other.deadLettered
        skipped += other.skipped
        coalesced += other.coalesced
        upserts += other.upserts
        deletes += other.deletes
    }
}

/// Replay's progress and statistics, `<queue>.state.json`, replaced atomically: the offset
/// up to which each queue file is done, keyed by the file's identity, and the counters that
/// status and the metrics show. Advancing the offsets and the counters in one write means a
/// kill -9 at any moment leaves both consistent.
struct QueueState: Codable, Sendable {
    static let currentVersion = 1
    /// Sync times kept for the average and p95 (the most recent ones).
    static let recentSyncLimit = 1_000

    var version = QueueState.currentVersion
    var files: [FileProgress] = []
    var totals = ReplayTotals()
    /// Milliseconds from entry time to Atlas acknowledgement, most recent last.
    var recentSyncMillis: [Int] = []
    var atlas = AtlasContact()
    /// When a replay last committed progress, and when one last looked at the queue.
    var lastCommit: Date?
    var lastActivity: Date?

    /// How far one queue file has been replayed. `head` fingerprints its first line: a file
    /// with the same inode but another first line is a different file, read from the start.
    struct FileProgress: Codable, Sendable, Equatable {
        var device: UInt64
        var inode: UInt64
        var headLength: Int
        var headHash: String
        var offset: UInt64
    }

    /// What replay last saw of Atlas.
    struct AtlasContact: Codable, Sendable, Equatable {
        var up: Bool?
        var lastReachable: Date?
        var lastError: String?
    }

    func progress(device: UInt64, inode: UInt64) -> FileProgress? {
        files.first { $0.device == device && $0.inode == inode }
    }

    mutating func setProgress(_ progress: FileProgress) {
        files.removeAll { $0.device == progress.device && $0.inode == progress.inode }
        files.append(progress)
    }

    mutating func recordSyncTimes(_ millis: [Int]) {
        recentSyncMillis.append(contentsOf: millis)
        if recentSyncMillis.count > QueueState.recentSyncLimit {
            recentSyncMillis.removeFirst(recentSyncMillis.count - QueueState.recentSyncLimit)
        }
    }

    static func encoder() -> JSONEncoder {
        StateJSON.encoder()
    }

    /// The state of `files`; a fresh one when there is none yet. A state file that does not
    /// parse is set aside (renamed `.corrupt-…`) and replay starts over from the beginning
    /// of every queue file: replaying an entry twice is harmless, skipping one is not.
    static func load(_ files: QueueFiles, logger: Logger? = nil) throws(StateError) -> QueueState {
        if access(files.statePath, F_OK) == 0 && access(files.statePath, R_OK) != 0 {
            throw StateError(.cannotWrite, "cannot read \(files.statePath): check its permissions")
        }
        do {
            return try read(files)
        } catch {
            let aside = files.statePath + ".corrupt-\(Int(Date().timeIntervalSince1970))"
            rename(files.statePath, aside)
            logger?.warning("replay state \(files.statePath) does not parse: set aside as \(aside); replaying the queue from its start (entries replayed twice are harmless)")
            return QueueState()
        }
    }

    func save(_ files: QueueFiles) throws(StateError) {
        guard let data = try? QueueState.encoder().encode(self) else {
            throw StateError(.unexpected, "cannot encode the replay state")
        }
        try AtomicFile.write(data, to: files.statePath, mode: 0o600)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
