import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The files of one sync queue, all beside the queue file so that renames stay on one file
/// system and a scratch queue (perf-test, resilience-test) is wholly separate:
///
///     sync-queue.jsonl                      the active file the application appends to
///     sync-queue.jsonl.rotated-<UTC time>   active files syncctl renamed once fully replayed
///     sync-queue.jsonl.state.json           replay progress (offset per file) and statistics
///     sync-queue.jsonl.dead-letters.jsonl   lines and entries given up on, with the reason
public struct QueueFiles: Sendable {
    /// The active queue file (`SYNC_QUEUE_FILE`).
    public let path: String
    /// Where the locks of this queue live.
    public let state: StateDirectory

    public init(path: String, state: StateDirectory) {
        self.path = path
        self.state = state
    }

    public init(settings: Settings) {
        self.init(path: settings.queueFile, state: StateDirectory(settings: settings))
    }

    public var statePath: String { path + ".state.json" }
    public var deadLetterPath: String { path + ".dead-letters.jsonl" }
    var directory: String {
        let directory = PathParts.parent(path)
        return directory.isEmpty ? "." : directory
    }
    var baseName: String { PathParts.name(path) }
    var rotatedPrefix: String { baseName + ".rotated-" }

    /// The name a rotation gives the active file: sortable by time.
    func rotatedPath(at date: Date) -> String {
        var seconds = time_t(date.timeIntervalSince1970)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(date.timeIntervalSince1970 * 1000) % 1000
        let stamp = String(format: "%04d%02d%02dT%02d%02d%02d%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                           parts.tm_hour, parts.tm_min, parts.tm_sec, millis)
        return "\(directory)/\(rotatedPrefix)\(stamp)"
    }

    /// The queue's data files, oldest first: rotated files in name (time) order, then the
    /// active file if it exists.
    func segments() throws(StateError) -> [QueueSegment] {
        var result: [QueueSegment] = []
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory)
        } catch {
            if !FileManager.default.fileExists(atPath: directory) { return [] }
            throw StateError(.cannotWrite, "cannot list \(directory): \(error.localizedDescription)")
        }
        for name in names.filter({ $0.hasPrefix(rotatedPrefix) && !$0.hasSuffix(".tmp") }).sorted() {
            if let segment = QueueSegment(path: "\(directory)/\(name)", isActive: false) { result.append(segment) }
        }
        if let active = QueueSegment(path: path, isActive: true) { result.append(active) }
        return result
    }

    /// Removes every file of this queue (for scratch queues only).
    public func removeAll() {
        let segments = (try? segments()) ?? []
        for segment in segments { unlink(segment.path) }
        unlink(statePath)
        unlink(deadLetterPath)
    }
}

/// One data file of the queue, identified by device and inode: a rename keeps the identity,
/// so progress recorded against it survives rotation.
struct QueueSegment: Sendable {
    let path: String
    let device: UInt64
    let inode: UInt64
    let size: UInt64
    let modified: Date
    let isActive: Bool

    var name: String { PathParts.name(path) }

    init?(path: String, isActive: Bool) {
        var info = stat()
        guard stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return nil }
        self.path = path
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
        self.size = UInt64(info.st_size)
        self.modified = Date(timeIntervalSince1970: Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9)
        self.isActive = isActive
    }
}
