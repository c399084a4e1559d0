import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Appends whole lines to a file that other processes append to as well (the journal, the
/// sync queue, dead letters): O_APPEND and ONE write() per call, so concurrent writers never
/// interleave inside a line; mode 0600, optionally fsynced.
public enum AppendFile {
    /// Appends `bytes` (complete lines) to `path`, creating the file — and, with
    /// `createDirectory`, its directory — when missing. `what` names the file in errors
    /// ("the queue file"). A short write (disk full) is an error, never retried: another writer
    /// may have appended in between, and the torn line is then a reader's to reject.
    public static func append(
        _ bytes: some ContiguousBytes, to path: String, what: String, fsync durable: Bool, createDirectory: Bool = true
    ) throws(StateError) {
        var fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        if fd < 0 && errno == ENOENT && createDirectory {
            try AtomicFile.makeDirectory(PathParts.parent(path))
            fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
        }
        guard fd >= 0 else { throw StateError(.cannotWrite, "cannot open \(what) \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let (written, count) = bytes.withUnsafeBytes { buffer -> (Int, Int) in
            var written: Int
            repeat {
                written = Glibc.write(fd, buffer.baseAddress, buffer.count)
            } while written < 0 && errno == EINTR
            return (written, buffer.count)
        }
        guard written == count else {
            let reason = written < 0 ? String(cString: strerror(errno)) : "only \(written) of \(count) bytes written (disk full?)"
            throw StateError(.cannotWrite, "cannot append to \(what) \(path): \(reason)")
        }
        if durable && fsync(fd) != 0 {
            throw StateError(.cannotWrite, "cannot fsync \(what) \(path): \(String(cString: strerror(errno)))")
        }
    }
}
