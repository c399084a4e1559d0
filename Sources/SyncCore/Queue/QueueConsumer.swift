import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A queue file with the offset replay has reached in it.
struct QueuePosition: Sendable {
    let segment: QueueSegment
    let offset: UInt64
    /// Set when recorded progress had to be discarded (the file was replaced or shrank).
    let note: String?
}

extension QueueState {
    /// Where replay stands in each file: the recorded offset when the file is the one it was
    /// recorded for (same device, inode and first line, and at least that long), else 0.
    func positions(of segments: [QueueSegment]) -> [QueuePosition] {
        segments.map { segment in
            guard let progress = progress(device: segment.device, inode: segment.inode) else {
                return QueuePosition(segment: segment, offset: 0, note: nil)
            }
            let head = (try? QueueReader(segment: segment).head(length: progress.headLength)) ?? []
            guard Fingerprint.of(head) == progress.headHash, head.count == progress.headLength else {
                return QueuePosition(segment: segment, offset: 0,
                                     note: "\(segment.path) is not the file replay read before (it was replaced): reading it from the start")
            }
            guard progress.offset <= segment.size else {
                return QueuePosition(segment: segment, offset: 0,
                                     note: "\(segment.path) is shorter than the offset replay reached (it was truncated): reading it from the start")
            }
            return QueuePosition(segment: segment, offset: progress.offset, note: nil)
        }
    }
}

/// The consuming side of the queue: reads pending lines in order (rotated files first),
/// commits progress after the caller has dealt with them, rotates the active file once it
/// is fully replayed and deletes rotated files that are done. Only one consumer may run per
/// queue (the replay lock); appenders never wait for it.
final class QueueConsumer {
    let files: QueueFiles
    private(set) var state: QueueState
    private let logger: Logger

    init(files: QueueFiles, logger: Logger) throws(StateError) {
        self.files = files
        self.logger = logger
        self.state = try QueueState.load(files, logger: logger)
    }

    /// Pending lines, and the progress that committing them records.
    struct Batch {
        struct Item {
            let line: QueueLine
            let segment: QueueSegment
            /// The unfinished last line of a rotated file nobody has written to for the grace
            /// period: its writer stopped mid-line.
            let torn: Bool
        }
        var items: [Item] = []
        var progress: [QueueState.FileProgress] = []
        /// True when the batch stopped at `maxLines`: more lines are waiting.
        var isFull = false
        var isEmpty: Bool { items.isEmpty && progress.isEmpty }
    }

    /// Up to `maxLines` pending lines (blank lines are passed over and not counted).
    func readBatch(maxLines: Int, tornLineGrace: TimeInterval, now: Date = Date()) throws -> Batch {
        var batch = Batch()
        for position in state.positions(of: try files.segments()) {
            if let note = position.note { logger.warning("\(note)") }
            let segment = position.segment
            guard position.offset < segment.size else { continue }
            let reader = QueueReader(segment: segment)
            var count = batch.items.filter { !$0.line.isBlank }.count
            var firstLength: UInt64?
            let (end, tail) = try reader.forEachLine(from: position.offset) { line in
                if count >= maxLines {
                    batch.isFull = true
                    return false
                }
                if line.offset == 0 { firstLength = line.length }
                if !line.isBlank { count += 1 }
                batch.items.append(.init(line: line, segment: segment, torn: false))
                return true
            }
            var reached = end
            if !batch.isFull, tail > 0, !segment.isActive, now.timeIntervalSince(segment.modified) > tornLineGrace {
                // Nobody has touched this rotated file for the grace period: its unfinished
                // line will never be finished. Dead-letter it rather than wait forever.
                let torn = try tornTail(of: segment, from: reached)
                batch.items.append(.init(line: torn, segment: segment, torn: true))
                reached = segment.size
            }
            if reached > position.offset {
                batch.progress.append(try progress(for: segment, offset: reached, firstLineLength: firstLength))
            }
            if batch.isFull { break }
        }
        return batch
    }

    private func tornTail(of segment: QueueSegment, from offset: UInt64) throws -> QueueLine {
        let length = Int(segment.size - offset)
        let fd = open(segment.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StateError(.cannotWrite, "cannot read \(segment.path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: min(length, 1024))
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(offset)) }
        return QueueLine(offset: offset, bytes: Array(bytes.prefix(max(0, count))), length: UInt64(length), truncated: length > 1024)
    }

    private func progress(for segment: QueueSegment, offset: UInt64, firstLineLength: UInt64?) throws -> QueueState.FileProgress {
        if let known = state.progress(device: segment.device, inode: segment.inode), firstLineLength == nil {
            var updated = known
            updated.offset = offset
            return updated
        }
        // First progress in this file: fingerprint its first line.
        let length = Int(firstLineLength ?? offset)
        let head = try QueueReader(segment: segment).head(length: length)
        return QueueState.FileProgress(device: segment.device, inode: segment.inode, headLength: head.count,
                                       headHash: Fingerprint.of(head), offset: offset)
    }

    /// Records the batch as done, together with whatever `update` changes (counters), in one
    /// atomic write. Call only after Atlas acknowledged the batch and dead letters are saved.
    func commit(_ batch: Batch, now: Date = Date(), _ update: (inout QueueState) -> Void = { _ in }) throws(StateError) {
        var next = state
        for progress in batch.progress { next.setProgress(progress) }
        update(&next)
        next.lastCommit = now
        next.lastActivity = now
        try next.save(files)
        state = next
    }

    /// Saves a change that is not progress (what replay last saw of Atlas).
    func record(_ update: (inout QueueState) -> Void) throws(StateError) {
        var next = state
        update(&next)
        try next.save(files)
        state = next
    }

    /// Housekeeping between batches: renames the active file aside once it is at least
    /// `rotateBytes` long, and deletes rotated files that are fully replayed and that nobody
    /// has written to for `grace` seconds (an appender that opened the file just before it
    /// was renamed may still be writing its line). A rename keeps the file's identity, so no
    /// progress is lost by it; the application's next append simply creates a new active file.
    func maintain(rotateBytes: UInt64, grace: TimeInterval, now: Date = Date()) throws {
        for position in state.positions(of: try files.segments()) {
            let segment = position.segment
            if segment.isActive {
                // Rotated whether or not it is fully replayed (under steady writes it never
                // is): a rotated file is read like the active one until it is done.
                guard segment.size >= rotateBytes && segment.size > 0 else { continue }
                var target = files.rotatedPath(at: now)
                while FileManager.default.fileExists(atPath: target) { target += "0" }
                guard rename(segment.path, target) == 0 else {
                    throw StateError(.cannotWrite, "cannot rename \(segment.path) to \(target): \(String(cString: strerror(errno)))")
                }
                AtomicFile.syncDirectory(files.directory)
                logger.info("rotated the queue file to \(target)")
            } else if position.offset == segment.size {
                guard now.timeIntervalSince(segment.modified) > grace else { continue }
                // Forget the progress first: should the unlink not happen, the file is read
                // again (harmless); the other order could leave progress for an inode number
                // that a new queue file then reuses.
                try record { $0.files.removeAll { $0.device == segment.device && $0.inode == segment.inode } }
                unlink(segment.path)
                logger.info("deleted the replayed queue file \(segment.path)")
            }
        }
    }
}
