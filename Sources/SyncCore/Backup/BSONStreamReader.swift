/// Reads BSON documents laid back to back (a mongodump `.bson` file, the body of an archive)
/// from a byte source, one at a time, with a buffer of its own: memory stays at one buffer
/// plus the current document however long the stream is.
///
/// Each document is framed by its little-endian length prefix and then checked by libbson
/// (`bson_validate`) before it is handed out. libbson's own `bson_reader_t` is not used here:
/// when a stream is cut inside a document it reports a clean end of file, which would let a
/// truncated backup pass for a shorter one.
final class BSONStreamReader {
    /// mongodump's own bound: the largest document plus room for the server's overhead.
    static let maximumDocumentSize = (16 << 20) + (16 << 10)
    /// The 0xFFFFFFFF marker an archive uses between its parts.
    static let terminator: Int32 = -1

    private let source: ByteSource
    private var buffer: [UInt8]
    private var start = 0
    private var end = 0
    private var sourceFinished = false
    /// Bytes handed out so far: the offset of the next document in the (uncompressed) stream.
    private(set) var offset: Int64 = 0

    var path: String { source.path }

    init(_ source: ByteSource, bufferSize: Int = 1 << 20) {
        self.source = source
        buffer = [UInt8](repeating: 0, count: bufferSize)
    }

    /// The next document; nil at the end of the stream. Throws when the stream ends inside a
    /// document or a document is not well-formed BSON.
    func next() throws(BackupError) -> BSONDocument? {
        guard let length = try peekLength() else { return nil }
        guard length >= 5, Int(length) <= BSONStreamReader.maximumDocumentSize else {
            throw BackupError.damaged(path, "no BSON document at byte \(offset) (length field \(length))")
        }
        let bytes = try take(Int(length))
        do {
            return try BSONDocument(bytes: bytes)
        } catch {
            throw BackupError.damaged(path, "the document at byte \(offset - Int64(length)) is not well-formed BSON")
        }
    }

    /// The next int32 (a document's length, or an archive's terminator) without consuming
    /// it; nil at a clean end of the stream.
    func peekLength() throws(BackupError) -> Int32? {
        try fill(atLeast: 4)
        let available = end - start
        if available == 0 { return nil }
        guard available >= 4 else {
            throw BackupError.damaged(path, "the file ends inside a document at byte \(offset) (truncated)")
        }
        return Int32(bitPattern: UInt32(buffer[start]) | UInt32(buffer[start + 1]) << 8
            | UInt32(buffer[start + 2]) << 16 | UInt32(buffer[start + 3]) << 24)
    }

    /// Consumes an archive terminator if one comes next; false otherwise.
    func skipTerminator() throws(BackupError) -> Bool {
        guard try peekLength() == BSONStreamReader.terminator else { return false }
        start += 4
        offset += 4
        return true
    }

    /// Consumes exactly `count` raw bytes (an archive's magic number).
    func readRaw(_ count: Int) throws(BackupError) -> [UInt8] {
        try take(count)
    }

    private func take(_ count: Int) throws(BackupError) -> [UInt8] {
        var result: [UInt8]
        if count <= buffer.count {
            try fill(atLeast: count)
            guard end - start >= count else { throw truncated(count) }
            result = Array(buffer[start..<start + count])
            start += count
        } else {
            // Larger than the buffer: drain what is buffered, then read straight into the result.
            result = [UInt8](repeating: 0, count: count)
            var filled = end - start
            result.replaceSubrange(0..<filled, with: buffer[start..<end])
            start = end
            while filled < count {
                let read = try result.withUnsafeMutableBytes { raw in
                    Result { () throws(BackupError) in try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[filled...])) }
                }.get()
                if read == 0 { throw truncated(count) }
                filled += read
            }
        }
        offset += Int64(count)
        return result
    }

    private func truncated(_ count: Int) -> BackupError {
        // Either the file was cut short or the length field itself is damaged: say both.
        BackupError.damaged(
            path, "the document at byte \(offset) declares \(count) bytes but the file ends first (truncated, or a damaged length field)")
    }

    /// Reads until `count` bytes are buffered or the source ends.
    private func fill(atLeast count: Int) throws(BackupError) {
        guard end - start < count, !sourceFinished else { return }
        if start > 0 {
            buffer.withUnsafeMutableBytes { raw in
                raw.baseAddress!.copyMemory(from: raw.baseAddress! + start, byteCount: end - start)
            }
            end -= start
            start = 0
        }
        while end < count && !sourceFinished {
            let read = try buffer.withUnsafeMutableBytes { raw in
                Result { () throws(BackupError) in try source.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[end...])) }
            }.get()
            if read == 0 { sourceFinished = true } else { end += read }
        }
    }
}
