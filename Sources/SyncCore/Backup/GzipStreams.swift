internal import CZlib

/// Reads a gzip stream (RFC 1952) through zlib. Concatenated gzip members are read as one
/// stream, as gunzip and Go's compress/gzip (mongorestore) read them. A stream that stops
/// before its last member is complete is an error, never a silent short read.
final class GzipByteSource: ByteSource {
    private let inner: ByteSource
    // z_stream keeps a pointer to itself in zlib's state: it lives at a fixed heap address.
    private let stream: UnsafeMutablePointer<z_stream>
    // zlib keeps pointers into these buffers between calls: fixed heap memory, not arrays.
    private let input: UnsafeMutableRawBufferPointer
    private var innerFinished = false
    private var memberOpen = true
    private var ended = false

    var path: String { inner.path }

    init(_ inner: ByteSource) throws(BackupError) {
        self.inner = inner
        input = .allocate(byteCount: 256 << 10, alignment: 16)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard syncctl_inflate_init_gzip(stream) == Z_OK else {
            stream.deallocate()
            input.deallocate()
            throw BackupError(.unexpected, "zlib could not start decompressing \(inner.path)")
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(BackupError) -> Int {
        guard !ended, let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        stream.pointee.next_out = base.assumingMemoryBound(to: Bytef.self)
        stream.pointee.avail_out = uInt(min(buffer.count, Int(UInt32.max)))
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 && !innerFinished {
                let count = try inner.read(into: input)
                if count == 0 {
                    innerFinished = true
                } else {
                    stream.pointee.next_in = input.baseAddress!.assumingMemoryBound(to: Bytef.self)
                    stream.pointee.avail_in = uInt(count)
                }
            }
            if stream.pointee.avail_in == 0 && innerFinished {
                if memberOpen {
                    throw BackupError.damaged(path, "the gzip data ends early (the file is truncated)")
                }
                ended = true
                break
            }
            if !memberOpen {
                // Another gzip member follows the one that ended.
                inflateReset(stream)
                memberOpen = true
            }
            let status = inflate(stream, Z_NO_FLUSH)
            switch status {
            case Z_OK, Z_BUF_ERROR:
                continue
            case Z_STREAM_END:
                memberOpen = false
            default:
                let reason = stream.pointee.msg.map { String(cString: $0) } ?? "code \(status)"
                throw BackupError.damaged(path, "not valid gzip data (\(reason))")
            }
        }
        return buffer.count - Int(stream.pointee.avail_out)
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
        input.deallocate()
    }
}

/// Compresses into a gzip stream (one member, zlib's default level) written to `inner`.
final class GzipByteSink: ByteSink {
    private let inner: ByteSink
    private let stream: UnsafeMutablePointer<z_stream>
    private let output: UnsafeMutableRawBufferPointer
    private var finished = false

    init(_ inner: ByteSink, path: String) throws(BackupError) {
        self.inner = inner
        output = .allocate(byteCount: 256 << 10, alignment: 16)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        guard syncctl_deflate_init_gzip(stream, Z_DEFAULT_COMPRESSION) == Z_OK else {
            stream.deallocate()
            output.deallocate()
            throw BackupError(.unexpected, "zlib could not start compressing \(path)")
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base.assumingMemoryBound(to: Bytef.self))
        stream.pointee.avail_in = uInt(bytes.count)
        try pump(flush: Z_NO_FLUSH)
    }

    func finish() throws(BackupError) {
        guard !finished else { return }
        finished = true
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        try pump(flush: Z_FINISH)
        try inner.finish()
    }

    /// Runs deflate until it has taken all input (or, finishing, written the trailer).
    private func pump(flush: Int32) throws(BackupError) {
        while true {
            stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
            stream.pointee.avail_out = uInt(output.count)
            let status = deflate(stream, flush)
            let produced = output.count - Int(stream.pointee.avail_out)
            if produced > 0 {
                try inner.write(UnsafeRawBufferPointer(rebasing: output[0..<produced]))
            }
            if status == Z_STREAM_ERROR {
                throw BackupError(.unexpected, "zlib failed while compressing")
            }
            if flush == Z_FINISH {
                if status == Z_STREAM_END { return }
            } else if stream.pointee.avail_in == 0 && stream.pointee.avail_out > 0 {
                return
            }
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
        output.deallocate()
    }
}
