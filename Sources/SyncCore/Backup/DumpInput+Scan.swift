import Foundation

/// What a full check of a dump found.
public struct DumpCheckReport: Sendable, Encodable {
    public struct CheckedCollection: Sendable, Encodable {
        public let database: String
        public let name: String
        public let documents: Int64
        public let dataBytes: Int64
    }

    public let path: String
    public let format: DumpFormat
    public let collections: [CheckedCollection]
    /// Files whose size and SHA-256 were compared with the manifest (syncctl backups).
    public let filesChecked: Int
    public var documents: Int64 { collections.reduce(0) { $0 + $1.documents } }
}

extension DumpInput {
    /// Reads the whole dump and checks it: every document is whole, well-formed BSON; in a
    /// syncctl backup every file has the size and SHA-256 its manifest gives and every
    /// collection the document count; in an archive every collection's CRC matches. Throws
    /// `.badInput` naming the first file that fails.
    public func check(progress: (@Sendable (String, Int64) -> Void)? = nil) async throws -> DumpCheckReport {
        var filesChecked = 0
        if let manifest {
            for record in manifest.collections.map(\.metadata) + manifest.extraFiles {
                try verifyFile(record)
                filesChecked += 1
            }
            filesChecked += manifest.collections.count
        }
        var checked: [DumpCheckReport.CheckedCollection] = []
        try await scan(database: nil) { event in
            if case .finished(let database, let name, let documents, let bytes) = event {
                checked.append(.init(database: database, name: name, documents: documents, dataBytes: bytes))
                progress?(name, documents)
            }
        }
        return DumpCheckReport(path: path, format: format, collections: checked, filesChecked: filesChecked)
    }

    /// Streams the documents of `database` (every database when nil), limited to `names`
    /// when given, in the dump's order, checking as it reads (see `check`).
    func scan(database: String?, names: Set<String>? = nil, _ visit: (DumpEvent) async throws -> Void) async throws {
        if format == .mongodumpArchive {
            try await scanArchive(database: database, names: names, visit)
            return
        }
        for collection in collections where database.map({ $0 == collection.database }) ?? true {
            guard names?.contains(collection.name) ?? true else { continue }
            try await scanFile(collection, visit)
        }
    }

    /// One collection's `.bson[.gz]` file, checked against the manifest when there is one.
    private func scanFile(_ collection: DumpCollection, _ visit: (DumpEvent) async throws -> Void) async throws {
        let promised = manifest?.collections.first { $0.name == collection.name }
        if let promised, promised.data.path != collection.dataFile {
            throw BackupError.damaged("\(path)/\(promised.data.path)", "file missing")
        }
        guard let dataFile = collection.dataFile else {
            if collection.metadata.type == "timeseries" {
                throw BackupError(.badInput, "\(collection.database).\(collection.name) is a time-series collection, which syncctl does not restore: use mongorestore for it")
            }
            try await visit(.finished(database: collection.database, collection: collection.name, documents: 0, dataBytes: 0))
            return
        }
        let fullPath = "\(path)/\(dataFile)"
        let file = try FileByteSource(path: fullPath, missingIsDamage: true, hashing: promised != nil)
        defer { file.close() }
        let reader = BSONStreamReader(dataFile.hasSuffix(DumpFileName.gzipSuffix) ? try GzipByteSource(file) : file)
        var documents: Int64 = 0
        var bytes: Int64 = 0
        while let document = try reader.next() {
            documents += 1
            bytes += Int64(document.byteCount)
            try await visit(.document(database: collection.database, collection: collection.name, document))
        }
        if let promised {
            guard file.bytesRead == promised.data.bytes else {
                throw BackupError.damaged(fullPath, "\(file.bytesRead) bytes, the manifest says \(promised.data.bytes)")
            }
            guard file.digest() == promised.data.sha256 else {
                throw BackupError.damaged(fullPath, "SHA-256 differs from the manifest's")
            }
            guard documents == promised.documents else {
                throw BackupError.damaged(fullPath, "\(documents) documents, the manifest says \(promised.documents)")
            }
        }
        try await visit(.finished(database: collection.database, collection: collection.name, documents: documents, dataBytes: bytes))
    }

    /// Compares one file with its manifest record: present, same size, same SHA-256.
    func verifyFile(_ record: BackupManifest.FileRecord) throws(BackupError) {
        let fullPath = "\(path)/\(record.path)"
        let file = try FileByteSource(path: fullPath, missingIsDamage: true, hashing: true)
        defer { file.close() }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 16)
        defer { chunk.deallocate() }
        while try file.read(into: chunk) > 0 {}
        guard file.bytesRead == record.bytes else {
            throw BackupError.damaged(fullPath, "\(file.bytesRead) bytes, the manifest says \(record.bytes)")
        }
        guard file.digest() == record.sha256 else {
            throw BackupError.damaged(fullPath, "SHA-256 differs from the manifest's")
        }
    }

    /// An archive from its start: the prelude, then namespace segments (a header document,
    /// documents, a terminator) and each namespace's EOF block with the CRC-64 of its
    /// documents, which must match.
    private func scanArchive(database: String?, names: Set<String>?, _ visit: (DumpEvent) async throws -> Void) async throws {
        let reader = try DumpInput.archiveReader(path, gzip: archiveGzip)
        _ = try ArchivePrelude.read(reader)
        struct Progress {
            var crc = CRC64()
            var documents: Int64 = 0
            var bytes: Int64 = 0
            var ended = false
        }
        var namespaces: [String: Progress] = [:]
        func selected(_ db: String, _ name: String) -> Bool {
            ArchivePrelude.isUserCollection(name) && (database.map { $0 == db } ?? true) && (names?.contains(name) ?? true)
        }
        while let header = try reader.next() {
            guard let db = header["db"]?.stringValue, let name = header["collection"]?.stringValue else {
                throw BackupError.damaged(path, "a block header at byte \(reader.offset) has no db or collection")
            }
            let namespace = "\(db).\(name)"
            var state = namespaces[namespace] ?? Progress()
            guard !state.ended else {
                throw BackupError.damaged(path, "data for \(namespace) after its end (byte \(reader.offset))")
            }
            if header["EOF"] == .bool(true) {
                guard try reader.skipTerminator() else {
                    throw BackupError.damaged(path, "no terminator after the end of \(namespace) (byte \(reader.offset))")
                }
                if case .int64(let crc) = header["CRC"], crc != state.crc.value {
                    throw BackupError.damaged(path, "the documents of \(namespace) do not match the archive's CRC")
                }
                state.ended = true
                namespaces[namespace] = state
                if selected(db, name) {
                    try await visit(.finished(database: db, collection: name, documents: state.documents, dataBytes: state.bytes))
                }
                continue
            }
            let wanted = selected(db, name)
            while try !reader.skipTerminator() {
                guard let document = try reader.next() else {
                    throw BackupError.damaged(path, "the archive ends inside the data of \(namespace) (truncated)")
                }
                state.crc.update(document.bytes)
                state.documents += 1
                state.bytes += Int64(document.byteCount)
                if wanted { try await visit(.document(database: db, collection: name, document)) }
            }
            namespaces[namespace] = state
        }
        if let open = namespaces.first(where: { !$0.value.ended }) {
            throw BackupError.damaged(path, "the archive ends before the end of \(open.key) (truncated)")
        }
        // Collections with no documents may have no blocks at all.
        for collection in collections where selected(collection.database, collection.name)
            && namespaces["\(collection.database).\(collection.name)"] == nil
        {
            try await visit(.finished(database: collection.database, collection: collection.name, documents: 0, dataBytes: 0))
        }
    }
}
