import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Replaces a file so that a reader, or a crash at any moment, sees either the old content
/// or the new, never a mix: write a temporary file in the same directory, fsync it, rename
/// it over the target, fsync the directory.
public enum AtomicFile {
    /// Writes `data` to `path` atomically with the given permission bits.
    public static func write(_ data: Data, to path: String, mode: mode_t = 0o600) throws(StateError) {
        let directory = PathParts.parent(path)
        let temporary = "\(directory)/.\(PathParts.name(path)).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try writeNewFile(data, at: temporary, mode: mode)
        guard rename(temporary, path) == 0 else {
            let error = StateError.system("replace", path)
            unlink(temporary)
            throw error
        }
        syncDirectory(directory)
    }

    /// The first half of an atomic replace, for a caller that renames the file itself after
    /// checks of its own (`DotenvEditor`): creates `path`, which must not exist, writes `data`,
    /// sets `mode` exactly (open() applies the umask) and fsyncs it. On failure nothing is left.
    public static func writeNewFile(_ data: Data, at path: String, mode: mode_t = 0o600) throws(StateError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw StateError.system("create", path) }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue }; return false }
                offset += written
            }
            return true
        }
        ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0
        close(fd)
        guard ok else {
            let error = StateError.system("write", path)
            unlink(path)
            throw error
        }
    }

    /// Makes a rename or a new file in `directory` durable.
    public static func syncDirectory(_ directory: String) {
        let fd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        fsync(fd)
        close(fd)
    }

    /// Creates a directory (and parents) with mode 0700 if it does not exist.
    public static func makeDirectory(_ path: String, mode: Int = 0o700) throws(StateError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: mode])
        } catch {
            throw StateError(.cannotWrite, "cannot create directory \(path): \(error.localizedDescription)")
        }
    }
}
