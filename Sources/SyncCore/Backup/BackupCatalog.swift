import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One backup found in the backup directory.
public struct BackupSummary: Sendable, Encodable {
    public let path: String
    public let name: String
    public let format: DumpFormat
    /// When the backup started (syncctl manifests), else when its newest file was written.
    public let time: Date
    /// Bytes on disk.
    public let bytes: Int64
    public let database: String?
    /// Collection and document counts, from the manifest (unknown for mongodump output).
    public let collections: Int?
    public let documents: Int64?
    public let gzip: Bool?
    /// Whether `--verify` restored it and found it equal to the source: nil when never
    /// verified (or not a syncctl backup).
    public let verified: Bool?
}

/// The backups in `SYNC_BACKUP_DIR`: listing them, keeping the newest N, and clearing away
/// what interrupted backups left behind.
public enum BackupCatalog {
    /// `<dir>/<UTC time>` for a new backup, e.g. `backups/2026-05-01T09-30-00Z`, with `-2`,
    /// `-3`… appended if that name is taken.
    public static func newBackupPath(in directory: String, now: Date = Date()) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd'T'HH-mm-ss'Z'"
        let base = "\(directory)/\(formatter.string(from: now))"
        var candidate = base
        var suffix = 2
        while FileManager.default.fileExists(atPath: candidate) || FileManager.default.fileExists(atPath: partialPath(for: candidate)) {
            candidate = "\(base)-\(suffix)"
            suffix += 1
        }
        return candidate
    }

    /// Where a backup is written before it is complete: hidden, named after its process.
    static func partialPath(for final: String) -> String {
        "\(PathParts.parent(final))/.\(PathParts.name(final)).partial-\(getpid())"
    }

    /// Removes what runs that are gone (killed or crashed) left behind: backups half
    /// written, old backups half removed. Those of a live process are left alone.
    @discardableResult
    public static func removeStalePartials(in directory: String) -> [String] {
        var removed: [String] = []
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".") {
            guard let marker = name.range(of: ".partial-", options: .backwards) ?? name.range(of: ".deleting-", options: .backwards),
                let pid = Int32(name[marker.upperBound...])
            else { continue }
            if pid == getpid() || kill(pid, 0) == 0 || errno != ESRCH { continue }
            if (try? FileManager.default.removeItem(atPath: "\(directory)/\(name)")) != nil {
                removed.append("\(directory)/\(name)")
            }
        }
        return removed
    }

    /// Every complete backup in `directory` (syncctl backups and mongodump output; hidden
    /// directories, such as backups being written, are not backups), oldest first.
    public static func list(in directory: String) -> [BackupSummary] {
        let manager = FileManager.default
        var summaries: [BackupSummary] = []
        for name in (try? manager.contentsOfDirectory(atPath: directory)) ?? [] where !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { continue }
            if let summary = summary(of: path, name: name) { summaries.append(summary) }
        }
        return summaries.sorted { ($0.time, $0.name) < ($1.time, $1.name) }
    }

    private static func summary(of path: String, name: String) -> BackupSummary? {
        if let manifest = try? BackupManifest.load(from: path) {
            return BackupSummary(
                path: path, name: name, format: .syncctl, time: manifest.startedAt, bytes: diskUsage(path),
                database: manifest.database, collections: manifest.collections.count, documents: manifest.documents,
                gzip: manifest.gzip, verified: manifest.verification?.verified)
        }
        guard FileManager.default.fileExists(atPath: "\(path)/\(BackupManifest.fileName)") == false,
            let input = try? DumpInput.open(path), input.format == .mongodumpDirectory
        else { return nil }
        return BackupSummary(
            path: path, name: name, format: .mongodumpDirectory, time: newestModification(path) ?? Date.distantPast,
            bytes: diskUsage(path), database: input.databases.count == 1 ? input.databases[0] : nil,
            collections: input.collections.count, documents: nil, gzip: nil, verified: nil)
    }

    /// The directory a backup is in (where `prune` looks for its older siblings).
    public static func directory(of backup: String) -> String {
        PathParts.parent(backup)
    }

    /// Removes the oldest syncctl backups so that `keep` remain, never `protecting` (the one
    /// just written). mongodump output and anything else in the directory is left alone.
    /// Each backup is first renamed to a hidden name, so a removal cut short never leaves a
    /// half-deleted backup that looks complete.
    public static func prune(in directory: String, keep: Int, protecting: String) throws(BackupError) -> [String] {
        let protected = PathParts.canonical(protecting)
        let ours = list(in: directory).filter { $0.format == .syncctl }
        let excess = ours.count - max(keep, 1)
        guard excess > 0 else { return [] }
        var removed: [String] = []
        for backup in ours.prefix(excess) where PathParts.canonical(backup.path) != protected {
            let hidden = "\(directory)/.\(backup.name).deleting-\(getpid())"
            guard rename(backup.path, hidden) == 0 else {
                throw BackupError(.cannotWrite, "cannot remove the old backup \(backup.path): \(String(cString: strerror(errno)))", path: backup.path)
            }
            do {
                try FileManager.default.removeItem(atPath: hidden)
            } catch {
                throw BackupError(.cannotWrite, "cannot remove the old backup \(backup.path): \(error.localizedDescription)", path: backup.path)
            }
            removed.append(backup.path)
        }
        return removed
    }

    static func diskUsage(_ path: String) -> Int64 {
        var total: Int64 = 0
        for file in FileManager.default.enumerator(atPath: path)?.compactMap({ $0 as? String }) ?? [] {
            let attributes = try? FileManager.default.attributesOfItem(atPath: "\(path)/\(file)")
            if attributes?[.type] as? FileAttributeType == .typeRegular {
                total += (attributes?[.size] as? NSNumber)?.int64Value ?? 0
            }
        }
        return total
    }

    private static func newestModification(_ path: String) -> Date? {
        var newest: Date?
        for file in [""] + (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String } ?? []) {
            let date = (try? FileManager.default.attributesOfItem(atPath: file.isEmpty ? path : "\(path)/\(file)"))?[.modificationDate] as? Date
            if let date, newest.map({ date > $0 }) ?? true { newest = date }
        }
        return newest
    }
}
