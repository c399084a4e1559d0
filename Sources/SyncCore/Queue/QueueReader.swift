import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One complete line of a queue file (without its newline) and where it starts.
struct QueueLine: Sendable {
    let offset: UInt64
    /// The line's bytes; for a line over `QueueReader.maxLineBytes`, only its first KiB.
    let bytes: [UInt8]
    /// Bytes the line occupies in the file, newline included.
    let length: UInt64
    /// True when the line was too long to keep whole.
    let truncated: Bool
    /// True for an empty (or whitespace-only) line, which carries nothing and is skipped.
    var isBlank: Bool { !truncated && bytes.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D } }
    var end: UInt64 { offset + length }
}

/// Reads a queue file from a byte offset, line by line, in bounded chunks. Only lines ended
/// by a newline count: the bytes after the last newline are a write in progress (or, in a
/// rotated file that stays unchanged, a torn write) and are left alone.
struct QueueReader {
    /// Longer lines cannot be entries (an `_id` is at most 16 MiB of BSON); they are kept
    /// only in part, for the dead-letter file.
    static let maxLineBytes = 64 << 20
    static let chunkBytes = 64 << 10

    let segment: QueueSegment

    /// Opens the file and checks it is still the segment that was listed (a rename in
    /// between would make it another file).
    private func open() throws(StateError) -> Int32? {
        let fd = Glibc.open(segment.path, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return nil }
            throw StateError(.cannotWrite, "cannot read \(segment.path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        guard fstat(fd, &info) == 0, UInt64(info.st_ino) == segment.inode, UInt64(info.st_dev) == segment.device else {
            close(fd)
            return nil
        }
        return fd
    }

    /// Calls `body` for each complete line from `offset` on, until it returns false (that
    /// line is not taken) or the complete lines end. Returns the offset just past the last
    /// line taken, and how many bytes follow the last complete line (an unfinished line;
    /// 0 when `body` stopped early).
    @discardableResult
    func forEachLine(from offset: UInt64, _ body: (QueueLine) throws -> Bool) throws -> (end: UInt64, tail: UInt64) {
        guard let fd = try open() else { return (offset, 0) }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: QueueReader.chunkBytes)
        var position = offset
        var lineStart = offset
        var line: [UInt8] = []
        var truncated = false
        var visitedEnd = offset
        while true {
            let count = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, $0.count, off_t(position)) }
            if count < 0 {
                if errno == EINTR { continue }
                throw StateError(.cannotWrite, "cannot read \(segment.path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            var index = 0
            while index < count {
                let newline = buffer.withUnsafeBytes { raw -> Int? in
                    guard let found = memchr(raw.baseAddress! + index, 0x0A, count - index) else { return nil }
                    return raw.baseAddress!.distance(to: UnsafeRawPointer(found))
                }
                let stop = newline ?? count
                if !truncated {
                    if line.count + (stop - index) > QueueReader.maxLineBytes {
                        line.append(contentsOf: buffer[index..<min(stop, index + max(0, 1024 - line.count))])
                        line = Array(line.prefix(1024))
                        truncated = true
                    } else {
                        line.append(contentsOf: buffer[index..<stop])
                    }
                }
                guard let newline else {
                    index = count
                    break
                }
                let end = position + UInt64(newline) + 1
                let complete = QueueLine(offset: lineStart, bytes: line, length: end - lineStart, truncated: truncated)
                if try !body(complete) {
                    return (visitedEnd, 0)
                }
                visitedEnd = end
                lineStart = end
                line.removeAll(keepingCapacity: true)
                truncated = false
                index = newline + 1
            }
            position += UInt64(count)
        }
        return (visitedEnd, position - lineStart)
    }

    /// The first `length` bytes of the file, for checking its identity.
    func head(length: Int) throws -> [UInt8] {
        guard length > 0, let fd = try open() else { return [] }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: length)
        let count = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress, length, 0) }
        return count == length ? bytes : []
    }
}

/// FNV-1a, 64 bits: a file's first line as a fingerprint, so that a queue file replaced by
/// another one that happens to get the same inode number is not mistaken for it.
enum Fingerprint {
    static func of(_ bytes: some Sequence<UInt8>) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in bytes {
            hash ^= UInt64(byte)
            hash = hash &* 0x0100_0000_01b3
        }
        return String(hash, radix: 16)
    }
}
