import Crypto
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bytes read in order from a file, possibly through a decompressor. Reads block (plain file
/// I/O); sources are used by one task at a time.
protocol ByteSource: AnyObject {
    /// The file being read, for messages.
    var path: String { get }
    /// Fills up to `buffer.count` bytes; returns 0 at the end of the stream.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int
}

/// Bytes written in order to a file, possibly through a compressor.
protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError)
    /// Flushes everything and makes it durable; the sink is closed afterwards.
    func finish() throws(BackupError)
}

extension ByteSink {
    func write(_ bytes: [UInt8]) throws(BackupError) {
        try bytes.withUnsafeBytes { buffer in Result { () throws(BackupError) in try write(buffer) } }.get()
    }
}

/// An open file descriptor and the count and (when asked for) SHA-256 of the bytes that went
/// through it: what the manifest records for every file, computed in the one pass that reads
/// or writes it.
private final class HashedDescriptor {
    private(set) var descriptor: Int32
    private var hasher: SHA256?
    private(set) var bytes: Int64 = 0

    init(_ descriptor: Int32, hashing: Bool) {
        self.descriptor = descriptor
        hasher = hashing ? SHA256() : nil
    }

    func account(_ chunk: UnsafeRawBufferPointer) {
        hasher?.update(bufferPointer: chunk)
        bytes += Int64(chunk.count)
    }

    /// The SHA-256 of every byte so far, as lowercase hex (only for a hashing descriptor).
    func digest() -> String {
        guard let hasher else { preconditionFailure("digest() of a file opened without hashing") }
        return hasher.finalize().hexString
    }

    func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    deinit { close() }
}

/// A file read with read(2), counting the bytes and, with `hashing`, hashing them as they are
/// on disk (SHA-256) so a check needs only one pass. Readers that check no manifest (restoring
/// mongodump output, reading metadata) do not hash: SHA-256 is most of a plain read's work.
final class FileByteSource: ByteSource {
    let path: String
    private let file: HashedDescriptor

    /// Bytes read so far.
    var bytesRead: Int64 { file.bytes }

    /// Opens `path`; a missing file is `.inputMissing` unless `missingIsDamage` (a file a
    /// manifest promises), which makes it `.badInput`.
    init(path: String, displayPath: String? = nil, missingIsDamage: Bool = false, hashing: Bool = false) throws(BackupError) {
        self.path = displayPath ?? path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            let reason = String(cString: strerror(errno))
            if errno == ENOENT {
                throw missingIsDamage
                    ? BackupError.damaged(displayPath ?? path, "file missing")
                    : BackupError(.inputMissing, "\(path) does not exist: check the path", path: path)
            }
            throw BackupError(.badInput, "cannot read \(path): \(reason)", path: path)
        }
        file = HashedDescriptor(descriptor, hashing: hashing)
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard file.descriptor >= 0, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        while true {
            let count = Glibc.read(file.descriptor, base, buffer.count)
            if count < 0 {
                if errno == EINTR { continue }
                throw BackupError(.badInput, "cannot read \(path): \(String(cString: strerror(errno)))", path: path)
            }
            file.account(UnsafeRawBufferPointer(start: base, count: count))
            return count
        }
    }

    /// The SHA-256 of every byte read so far, as lowercase hex.
    func digest() -> String { file.digest() }

    func close() { file.close() }
}

/// A new file written through a 1 MiB buffer, hashing what reaches the disk (SHA-256),
/// fsynced when finished. The file must not exist yet.
final class FileByteSink: ByteSink {
    let path: String
    private let file: HashedDescriptor
    private var buffer: [UInt8] = []
    private let bufferSize = 1 << 20

    /// Bytes written to the file so far (after `finish`, its size).
    var bytesWritten: Int64 { file.bytes }

    init(path: String, mode: mode_t = 0o600) throws(BackupError) {
        self.path = path
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard descriptor >= 0 else { throw FileByteSink.failure("create", path) }
        // open() applied the umask; the mode asked for is the mode we keep.
        fchmod(descriptor, mode)
        file = HashedDescriptor(descriptor, hashing: true)
        buffer.reserveCapacity(bufferSize)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        if buffer.count + bytes.count > bufferSize { try flush() }
        if bytes.count >= bufferSize {
            try writeAll(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    func finish() throws(BackupError) {
        try flush()
        guard file.descriptor >= 0 else { return }
        defer { file.close() }
        guard fsync(file.descriptor) == 0 else { throw FileByteSink.failure("sync", path) }
    }

    /// The SHA-256 of everything written, as lowercase hex.
    func digest() -> String { file.digest() }

    private func flush() throws(BackupError) {
        guard !buffer.isEmpty else { return }
        try buffer.withUnsafeBytes { pending in Result { () throws(BackupError) in try writeAll(pending) } }.get()
        buffer.removeAll(keepingCapacity: true)
    }

    /// Every byte goes through here once, in order: hashed in chunks of up to 1 MiB, not per
    /// document.
    private func writeAll(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        guard let base = bytes.baseAddress else { return }
        file.account(bytes)
        var offset = 0
        while offset < bytes.count {
            let written = Glibc.write(file.descriptor, base + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileByteSink.failure("write", path)
            }
            offset += written
        }
    }

    static func failure(_ action: String, _ path: String) -> BackupError {
        BackupError(.cannotWrite, "cannot \(action) \(path): \(String(cString: strerror(errno)))", path: path)
    }
}

extension Digest {
    /// Lowercase hexadecimal, as sha256sum prints it.
    var hexString: String { lowercaseHex }
}
