internal import CLibMongoC

#if canImport(Glibc)
    import Glibc
#endif

/// A BSON document as its raw bytes. A `Sendable` value that crosses task boundaries freely;
/// it becomes a `bson_t` only for the duration of a C call (`withBSON`). Equality is byte
/// equality, which is what sync and verification mean by "the same document".
public struct BSONDocument: Sendable, Hashable {
    /// The document's bytes: a little-endian int32 length, the elements, a trailing NUL.
    public let bytes: [UInt8]

    /// The empty document `{}`.
    public static let empty = BSONDocument(unchecked: [5, 0, 0, 0, 0])

    init(unchecked bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Wraps raw bytes after checking they form one whole, well-formed document.
    public init(bytes: [UInt8]) throws(BSONError) {
        guard BSONDocument.isWellFormed(bytes) else {
            throw BSONError("not a well-formed BSON document (\(bytes.count) bytes)")
        }
        self.bytes = bytes
    }

    /// Builds a document from ordered key/value pairs.
    public init(_ pairs: KeyValuePairs<String, BSONValue>) {
        self.init(pairs: pairs.map { ($0.key, $0.value) })
    }

    /// Builds a document from ordered key/value pairs.
    public init(pairs: [(String, BSONValue)]) {
        MongoRuntime.initialize()
        let builder = bson_new()!
        defer { bson_destroy(builder) }
        for (key, value) in pairs {
            BSONDocument.append(value, key: key, to: builder)
        }
        self.init(copying: builder)
    }

    /// Parses Extended JSON (canonical or relaxed) with libbson.
    public init(extendedJSON json: String) throws(BSONError) {
        MongoRuntime.initialize()
        var error = bson_error_t()
        let utf8 = Array(json.utf8)
        guard let parsed = bson_new_from_json(utf8, utf8.count, &error) else {
            throw BSONError("invalid Extended JSON: \(String(cString: syncctl_error_message(&error)))")
        }
        defer { bson_destroy(parsed) }
        self.init(copying: parsed)
    }

    /// Copies the bytes out of a C document the caller still owns.
    init(copying bson: OpaquePointer) {
        let length = Int(syncctl_bson_len(bson))
        let data = bson_get_data(bson)!
        self.bytes = Array(UnsafeBufferPointer(start: data, count: length))
    }

    /// The document's size in bytes.
    public var byteCount: Int { bytes.count }

    /// Byte equality with `memcmp`: sync and verify compare every document, and `[UInt8]`'s
    /// own `==` goes element by element (it was a sixth of deep verify's CPU time).
    public static func == (lhs: BSONDocument, rhs: BSONDocument) -> Bool {
        lhs.bytes.withUnsafeBytes { left in
            rhs.bytes.withUnsafeBytes { right in
                left.count == right.count
                    && (left.count == 0 || memcmp(left.baseAddress!, right.baseAddress!, left.count) == 0)
            }
        }
    }

    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    /// Lends the document to C as a read-only `bson_t` that lives only inside `body`.
    func withBSON<T, E: Error>(_ body: (OpaquePointer) throws(E) -> T) throws(E) -> T {
        let bson = syncctl_bson_alloc()!
        defer { syncctl_bson_free(bson) }
        return try withBSON(in: bson, body)
    }

    /// The same in `storage`, a `bson_t` the caller allocated (`syncctl_bson_alloc`) and reuses
    /// for many documents: a loop over documents allocates it once, not once per document.
    func withBSON<T, E: Error>(in storage: OpaquePointer, _ body: (OpaquePointer) throws(E) -> T) throws(E) -> T {
        try bytes.withUnsafeBufferPointer { (buffer) throws(E) -> T in
            // A static bson_t points at our bytes; destroying it never frees them.
            bson_init_static(storage, buffer.baseAddress, buffer.count)
            return try body(storage)
        }
    }

    /// Canonical Extended JSON (every type explicit), as mongodump writes metadata.
    public var canonicalExtendedJSON: String {
        withBSON { bson in
            var length = 0
            guard let json = bson_as_canonical_extended_json(bson, &length) else { return "{}" }
            defer { bson_free(json) }
            return String(cString: json)
        }
    }

    /// Relaxed Extended JSON (numbers and dates as plain JSON where lossless).
    public var relaxedExtendedJSON: String {
        withBSON { bson in
            var length = 0
            guard let json = bson_as_relaxed_extended_json(bson, &length) else { return "{}" }
            defer { bson_free(json) }
            return String(cString: json)
        }
    }

    /// True when `bytes` is exactly one document whose every element libbson can read.
    static func isWellFormed(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 5 else { return false }
        let declared = Int(UInt32(bytes[0]) | UInt32(bytes[1]) << 8 | UInt32(bytes[2]) << 16 | UInt32(bytes[3]) << 24)
        guard declared == bytes.count, bytes.last == 0 else { return false }
        return BSONDocument(unchecked: bytes).withBSON { bson in
            var offset = 0
            return bson_validate(bson, BSON_VALIDATE_NONE, &offset)
        }
    }
}

extension BSONDocument: CustomStringConvertible {
    public var description: String { relaxedExtendedJSON }
}

/// A document that is not well-formed BSON, or JSON that is not valid Extended JSON.
public struct BSONError: ClassifiedError {
    public let message: String
    public var kind: FailureKind { .badInput }
    public var description: String { message }
    init(_ message: String) { self.message = message }
}

extension BSONDocument: ExpressibleByDictionaryLiteral {
    /// `["ping": 1]`: keys keep the order written.
    public init(dictionaryLiteral elements: (String, BSONValue)...) {
        self.init(pairs: elements)
    }
}
