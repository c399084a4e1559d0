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
        let name = PathParts.name(path)
        let temporary = "\(directory)/.\(name).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw StateError.system("create", temporary) }
        var ok = data.withUnsafeBytes { buffer -> Bool in
            var offset = 0
            while offset < buffer.count {
                let written = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 { if errno == EINTR { continue }; return false }
                offset += written
            }
            return true
        }
        // open() applied the umask; set the mode we were asked for exactly.
        ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0
        close(fd)
        guard ok else {
            let error = StateError.system("write", temporary)
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = StateError.system("replace", path)
            unlink(temporary)
            throw error
        }
        syncDirectory(directory)
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
