#ifndef SYNCCTL_CZLIB_SHIM_H
#define SYNCCTL_CZLIB_SHIM_H

// zlib for gzip-compressed backups (.bson.gz, .metadata.json.gz, gzipped archives).
// deflateInit2/inflateInit2 are macros in zlib.h, which Swift cannot call: these wrappers can.

#include <zlib.h>

/// A gzip (RFC 1952) compressor: windowBits 15 + 16 asks zlib for the gzip wrapper.
static inline int syncctl_deflate_init_gzip(z_stream *stream, int level) {
    return deflateInit2(stream, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
}

/// A gzip decompressor (windowBits 15 + 16: gzip wrapper only, so a plain file is an error).
static inline int syncctl_inflate_init_gzip(z_stream *stream) {
    return inflateInit2(stream, 15 + 16);
}

#endif
