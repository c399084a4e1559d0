import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A planned edit of a dotenv file: the text as read, the text to write, and which settings
/// change. Making a plan writes nothing; `DotenvEditor.apply` writes it.
public struct DotenvEditPlan: Sendable {
    /// The path as the operator named it (possibly a symlink).
    public let path: String
    /// The file that is edited: `path` with every symlink resolved, so the link stays a link.
    public let target: String
    /// The file as read when the plan was made.
    public let original: DotenvFile
    /// The full text to write.
    public let updated: String
    /// The keys whose value dotenv reads changes: old → new (old nil when the key was missing).
    public let changes: [String: JournalEntry.Change]

    /// True when the file already says what was asked: nothing would be written.
    public var isNoOp: Bool { updated == original.text }

    /// The edit as a unified diff (`--- path` / `+++ path`), with connection strings in context
    /// lines redacted; empty for a no-op.
    public func diff(context: Int = 1) -> String {
        UnifiedDiff.make(
            old: original.text, new: updated, oldLabel: path, newLabel: "\(path) (new)", context: context,
            display: DotenvEditPlan.redactingURIs)
    }

    /// The line with any `scheme://…` part shown as `URIRedactor` shows it. Context lines of a
    /// diff may be a neighbouring `MONGODB_ATLAS_URI=` line, which holds the password.
    static func redactingURIs(_ line: String) -> String {
        guard let marker = line.range(of: "://") else { return line }
        var start = marker.lowerBound
        while start > line.startIndex {
            let before = line.index(before: start)
            guard line[before].isLetter || line[before].isNumber || "+-.".contains(line[before]) else { break }
            start = before
        }
        guard start < marker.lowerBound else { return line }
        return String(line[..<start]) + URIRedactor.redact(String(line[start...]))
    }
}

/// What `DotenvEditor.apply` did.
public struct DotenvEditResult: Sendable {
    /// True when the file was replaced (false for a no-op plan).
    public let written: Bool
    /// The timestamped copy of the file as it was before the edit (mode 0600), if one was made.
    public let backupPath: String?
    /// Things that went wrong without stopping an emergency edit (no lock, no backup).
    public let warnings: [String]
}

/// Edits a dotenv file the way an operator would want at 3 AM: only the target values change
/// (`DotenvFile.updating` keeps every other byte), and a crash or a concurrent edit at any moment
/// leaves either the old file or the new one, never a mix.
///
/// `apply` takes the `env-edit` lock in the state directory, reads the file again and aborts if
/// it is no longer what the plan was made from (another syncctl, or an editor, changed it),
/// keeps a timestamped 0600 copy in `<state>/env-backups/`, writes the new text to a temporary
/// file in the same directory with the original's mode and owner (written and fsynced by
/// `AtomicFile`), checks once more that the file was not replaced meanwhile, renames the
/// temporary file over it and fsyncs the directory. A symlinked file is edited at its target.
public struct DotenvEditor: Sendable {
    /// How hard to insist on the safety steps around the edit itself.
    public enum Policy: Sendable {
        /// A missing lock or backup stops the edit.
        case normal
        /// `disable`: a state directory that cannot be written costs the lock and the backup
        /// (reported as warnings), never the edit. A lock held by another run still stops it.
        case emergency
    }

    /// Points inside `apply` where a test can interrupt it, to prove that a crash there leaves the
    /// old file in place.
    public enum Step: Sendable {
        /// The temporary file is complete and fsynced; the rename has not happened yet.
        case temporaryFileWritten(path: String)
    }

    /// The lock taken around every edit.
    public static let lockName = "env-edit"
    /// Backups kept per file name; older ones are removed after a successful edit.
    public static let backupsKept = 20

    public let state: StateDirectory
    public let policy: Policy
    /// Seconds to wait for another run's edit (edits hold the lock for milliseconds).
    public let lockWaitSeconds: Double

    public init(state: StateDirectory, policy: Policy = .normal, lockWaitSeconds: Double = 5) {
        self.state = state
        self.policy = policy
        self.lockWaitSeconds = lockWaitSeconds
    }

    public var backupDirectory: String { "\(state.path)/env-backups" }

    /// Reads the file at `path` (following symlinks) and works out the edit.
    ///
    /// - Throws: `ConfigError` `.inputMissing` when the file does not exist, `.badInput` when it is
    ///   not UTF-8, `.configuration` when a value cannot be written.
    public func plan(path: String, changes: [(key: String, value: String)]) throws(ConfigError) -> DotenvEditPlan {
        try plan(path: path) { _ in changes }
    }

    /// Like `plan(path:changes:)`, with changes that depend on what the file holds.
    public func plan(
        path: String, changes: (DotenvFile) -> [(key: String, value: String)]
    ) throws(ConfigError) -> DotenvEditPlan {
        let target = try Self.resolveSymlinks(path)
        let file = try DotenvFile.load(path: target)
        let changes = changes(file)
        let updated = try file.updating(changes)
        let after = DotenvFile(text: updated).values
        let before = file.values
        var changed: [String: JournalEntry.Change] = [:]
        for key in Set(changes.map(\.key)) where before[key] != after[key] {
            changed[key] = JournalEntry.Change(old: before[key], new: after[key])
        }
        return DotenvEditPlan(path: path, target: target, original: file, updated: updated, changes: changed)
    }

    /// Writes the plan; see the type's description for the steps.
    ///
    /// - Throws: `StateError` `.locked` when another run holds the lock or the file changed since
    ///   the plan was made (nothing written: run again), `.cannotWrite` when a step fails,
    ///   `.unsafePermissions` when the file's owner cannot be kept; whatever `hook` throws. In
    ///   every case the file is left as it was.
    public func apply(_ plan: DotenvEditPlan, hook: (Step) throws -> Void = { _ in }) throws -> DotenvEditResult {
        guard !plan.isNoOp else { return DotenvEditResult(written: false, backupPath: nil, warnings: []) }
        var warnings: [String] = []

        let lock = try acquireLock(warnings: &warnings)
        defer { lock?.release() }

        let (current, before) = try Self.read(plan.target)
        guard current == Data(plan.original.text.utf8) else { throw Self.changedUnderneath(plan.path) }

        let backupPath = try backUp(current, of: plan.target, warnings: &warnings)

        let directory = PathParts.parent(plan.target)
        let name = PathParts.name(plan.target)
        Self.removeStaleTemporaryFiles(of: name, in: directory)
        let temporary = "\(directory)/.\(name).syncctl-\(getpid()).tmp"
        try AtomicFile.writeNewFile(Data(plan.updated.utf8), at: temporary, mode: before.st_mode & 0o7777)
        do {
            try Self.keepOwner(of: before, on: temporary, displayPath: plan.path)
            try hook(.temporaryFileWritten(path: temporary))
            var now = stat()
            guard stat(plan.target, &now) == 0, Self.sameFile(before, now) else { throw Self.changedUnderneath(plan.path) }
            guard rename(temporary, plan.target) == 0 else { throw StateError.system("replace", plan.target) }
        } catch {
            unlink(temporary)
            throw error
        }
        AtomicFile.syncDirectory(directory)
        pruneBackups(of: plan.target)
        return DotenvEditResult(written: true, backupPath: backupPath, warnings: warnings)
    }

    // MARK: Steps

    /// The edit lock; under the emergency policy, nil (with a warning) when the state directory
    /// cannot hold it. A lock held by another run always stops the edit.
    private func acquireLock(warnings: inout [String]) throws(StateError) -> RunLock? {
        do {
            return try RunLock.acquire(Self.lockName, in: state, waitSeconds: lockWaitSeconds)
        } catch {
            guard error.kind != .locked, policy == .emergency else { throw error }
            warnings.append("edited without the lock: \(error.message)")
            return nil
        }
    }

    /// The backup copy's path; under the emergency policy, nil (with a warning) when it cannot be
    /// written.
    private func backUp(_ data: Data, of target: String, warnings: inout [String]) throws(StateError) -> String? {
        do {
            return try writeBackup(data, of: target)
        } catch {
            guard policy == .emergency else { throw error }
            warnings.append("no backup copy kept: \(error.message)")
            return nil
        }
    }

    /// `path` with every symlink resolved, so the edit replaces the target and not the link.
    static func resolveSymlinks(_ path: String) throws(ConfigError) -> String {
        guard let resolved = realpath(path, nil) else {
            if errno == ENOENT {
                throw ConfigError(
                    .inputMissing,
                    "dotenv file \(path) does not exist\(isDanglingLink(path) ? " (it is a symlink to a missing file)" : ""): create it (see Examples/env/), or pass --env-file PATH")
            }
            throw ConfigError(.inputMissing, "cannot read dotenv file \(path): \(String(cString: strerror(errno)))")
        }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func isDanglingLink(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
    }

    /// The bytes and the identity (device, inode, size, mtime) of the file, read through one
    /// descriptor so both belong to the same file.
    private static func read(_ path: String) throws(StateError) -> (Data, stat) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StateError.system("open", path, kind: .inputMissing) }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw StateError.system("stat", path) }
        var data = Data()
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StateError.system("read", path, kind: .inputMissing)
            }
            if count == 0 { break }
            data.append(contentsOf: buffer[0..<count])
        }
        return (data, info)
    }

    private static func sameFile(_ a: stat, _ b: stat) -> Bool {
        a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size
            && a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec
    }

    private static func changedUnderneath(_ path: String) -> StateError {
        StateError(
            .locked,
            "\(path) changed after syncctl read it (another syncctl run, or an editor): nothing was written; check the file and run the command again")
    }

    /// Gives the temporary file the original's owner and group, so the application (which may
    /// run as another user than the operator, with the file at mode 0600) can still read it.
    private static func keepOwner(of original: stat, on temporary: String, displayPath: String) throws(StateError) {
        var written = stat()
        guard stat(temporary, &written) == 0 else { throw StateError.system("stat", temporary) }
        guard written.st_uid != original.st_uid || written.st_gid != original.st_gid else { return }
        guard chown(temporary, original.st_uid, original.st_gid) == 0 else {
            throw StateError(
                .unsafePermissions,
                "cannot keep \(displayPath)'s owner (uid \(original.st_uid), gid \(original.st_gid)) on the new file: run syncctl as that user or as root; nothing was written")
        }
    }

    /// A crash between writing the temporary file and renaming it leaves `.NAME.syncctl-PID.tmp`
    /// behind (with the file's mode). Under the lock no other edit is writing one, so any such
    /// file is stale.
    private static func removeStaleTemporaryFiles(of name: String, in directory: String) {
        let prefix = ".\(name).syncctl-"
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        where file.hasPrefix(prefix) && file.hasSuffix(".tmp") {
            unlink("\(directory)/\(file)")
        }
    }

    private func writeBackup(_ data: Data, of target: String) throws(StateError) -> String {
        try state.prepare("env-backups")
        let base = Self.backupBaseName(of: target)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss.SSS'Z'"
        let stamp = formatter.string(from: Date())
        var path = "\(backupDirectory)/\(base).\(stamp)"
        var attempt = 1
        while FileManager.default.fileExists(atPath: path) {
            attempt += 1
            path = "\(backupDirectory)/\(base).\(stamp)-\(attempt)"
        }
        try AtomicFile.write(data, to: path, mode: 0o600)
        return path
    }

    /// `.env` → `env`: backups are not hidden files.
    static func backupBaseName(of target: String) -> String {
        let name = String(PathParts.name(target).drop { $0 == "." })
        return name.isEmpty ? "dotenv" : name
    }

    private func pruneBackups(of target: String) {
        let prefix = Self.backupBaseName(of: target) + "."
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: backupDirectory)) ?? [])
            .filter { $0.hasPrefix(prefix) && $0.dropFirst(prefix.count).first?.isNumber == true }
            .sorted()  // the timestamp sorts chronologically
        for name in names.dropLast(Self.backupsKept) {
            unlink("\(backupDirectory)/\(name)")
        }
    }
}
