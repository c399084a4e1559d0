import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What to back up and where.
public struct BackupRequest: Sendable {
    public var database: String
    /// The finished backup's directory; it must not exist, or be empty.
    public var directory: String
    public var gzip: Bool
    /// Only these collections (each must exist); nil for all.
    public var collections: [String]?
    /// syncctl's version, recorded in the manifest.
    public var toolVersion: String
    /// The source as it may be shown (redacted URI).
    public var source: String
    /// The dotenv file and the sync queue file to copy beside the data, when they exist.
    public var envFile: String?
    public var queueFile: String?

    public init(database: String, directory: String, gzip: Bool = false, collections: [String]? = nil, toolVersion: String,
                source: String, envFile: String? = nil, queueFile: String? = nil) {
        self.database = database
        self.directory = directory
        self.gzip = gzip
        self.collections = collections
        self.toolVersion = toolVersion
        self.source = source
        self.envFile = envFile
        self.queueFile = queueFile
    }
}

/// Progress of a backup, for a front end to show.
public enum BackupProgress: Sendable {
    case collectionStarted(String)
    case documents(collection: String, count: Int64)
    case collectionFinished(String, documents: Int64, bytes: Int64)
}

/// Writes a backup in mongodump's directory layout — `<db>/<coll>.bson` (the documents' raw
/// bytes as the server returned them, back to back) and `<db>/<coll>.metadata.json` — plus
/// `manifest.json` and copies of the dotenv and sync queue files. Everything is written
/// under a hidden temporary name and renamed into place only once complete and synced, so
/// an interrupted backup is never mistaken for a good one.
public enum BackupWriter {
    /// Names of the copied settings files inside a backup.
    public static let envCopyName = "settings.env"
    public static let queueCopyName = "sync-queue.jsonl"

    public static func write(
        _ request: BackupRequest, connection: MongoConnection, progress: (@Sendable (BackupProgress) -> Void)? = nil
    ) async throws -> BackupManifest {
        let startedAt = Date()
        let final = request.directory
        let parent = PathParts.parent(final)
        try checkDestination(final)
        try makeDirectory(parent)
        BackupCatalog.removeStalePartials(in: parent)
        let temporary = BackupCatalog.partialPath(for: final)
        try makeDirectory(temporary)
        do {
            let serverVersion = try await connection.serverVersion()
            let infos = try await selectCollections(request, connection: connection)
            let databaseDirectory = "\(temporary)/\(request.database)"
            try makeDirectory(databaseDirectory)
            var collections: [BackupManifest.Collection] = []
            for info in infos {
                try Task.checkCancellation()
                progress?(.collectionStarted(info.name))
                collections.append(try await writeCollection(info, request: request, into: temporary, connection: connection, progress: progress))
            }
            var extras: [BackupManifest.FileRecord] = []
            if let envFile = request.envFile, FileManager.default.fileExists(atPath: envFile) {
                extras.append(try copy(envFile, to: temporary, as: envCopyName))
            }
            if let queueFile = request.queueFile, FileManager.default.fileExists(atPath: queueFile) {
                extras.append(try copy(queueFile, to: temporary, as: queueCopyName))
            }
            let manifest = BackupManifest(
                toolVersion: request.toolVersion, serverVersion: serverVersion.text, source: request.source,
                database: request.database, gzip: request.gzip, startedAt: startedAt, finishedAt: Date(),
                collections: collections, extraFiles: extras, verification: nil)
            try manifest.write(to: temporary)
            AtomicFile.syncDirectory(databaseDirectory)
            AtomicFile.syncDirectory(temporary)
            // rename(2) replaces an empty directory and refuses a non-empty one.
            guard rename(temporary, final) == 0 else {
                throw BackupError(.cannotWrite, "cannot move the finished backup to \(final): \(String(cString: strerror(errno)))", path: final)
            }
            AtomicFile.syncDirectory(parent)
            return manifest
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw error
        }
    }

    /// The collections to back up: all of the database's (not the server's `system.*` ones),
    /// or those asked for, each of which must exist.
    private static func selectCollections(_ request: BackupRequest, connection: MongoConnection) async throws -> [CollectionInfo] {
        let all = try await connection.collections(in: request.database).filter { ArchivePrelude.isUserCollection($0.name) }
        guard let names = request.collections else { return all }
        return try names.map { name in
            guard let info = all.first(where: { $0.name == name }) else {
                let known = all.map(\.name).joined(separator: ", ")
                throw BackupError(.inputMissing, "no collection '\(name)' in database '\(request.database)' (it has: \(known.isEmpty ? "none" : known)): check --collections")
            }
            return info
        }
    }

    private static func writeCollection(
        _ info: CollectionInfo, request: BackupRequest, into root: String, connection: MongoConnection,
        progress: (@Sendable (BackupProgress) -> Void)?
    ) async throws -> BackupManifest.Collection {
        let metadata = CollectionMetadata(info: info, indexes: try await connection.indexes(database: request.database, collection: info.name))
        let metadataPath = "\(request.database)/\(DumpFileName.metadata(info.name, gzip: request.gzip))"
        let metadataFile = try DumpFileWriter(root: root, path: metadataPath, gzip: request.gzip)
        try metadataFile.write(Array(metadata.json.utf8))
        let metadataRecord = try metadataFile.finish()

        let dataPath = "\(request.database)/\(DumpFileName.bson(info.name, gzip: request.gzip))"
        let dataFile = try DumpFileWriter(root: root, path: dataPath, gzip: request.gzip)
        var documents: Int64 = 0
        var bytes: Int64 = 0
        // Natural order, as mongodump reads a collection: the cheapest scan, and the order a
        // restore inserts in, so dump → restore → dump gives the same file.
        try await connection.withFind(database: request.database, collection: info.name) { stream in
            var pending = try await stream.next()
            while let batch = pending {
                // Ctrl-C (a cancelled task) stops between batches; the temporary directory goes.
                try Task.checkCancellation()
                // The next batch is fetched while this one is written: the server and the disk
                // work at the same time, and still only two batches are ever in memory.
                async let following = stream.next()
                for document in batch {
                    try dataFile.write(document.bytes)
                    bytes += Int64(document.byteCount)
                }
                documents += Int64(batch.count)
                progress?(.documents(collection: info.name, count: documents))
                pending = try await following
            }
        }
        let dataRecord = try dataFile.finish()
        progress?(.collectionFinished(info.name, documents: documents, bytes: bytes))
        return BackupManifest.Collection(
            name: info.name, type: info.type, documents: documents, dataBytes: bytes, data: dataRecord,
            metadata: metadataRecord, indexes: metadata.indexes.count)
    }

    /// Copies a file into the backup, mode 0600 (the dotenv file holds the Atlas password).
    private static func copy(_ source: String, to root: String, as name: String) throws(BackupError) -> BackupManifest.FileRecord {
        let input = try FileByteSource(path: source)
        defer { input.close() }
        let output = try DumpFileWriter(root: root, path: name, gzip: false)
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: 256 << 10, alignment: 16)
        defer { chunk.deallocate() }
        while true {
            let count = try input.read(into: chunk)
            if count == 0 { break }
            try output.write(UnsafeRawBufferPointer(rebasing: chunk[0..<count]))
        }
        return try output.finish()
    }

    private static func checkDestination(_ path: String) throws(BackupError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { return }
        let empty = isDirectory.boolValue && ((try? FileManager.default.contentsOfDirectory(atPath: path))?.isEmpty ?? false)
        guard empty else {
            throw BackupError(.cannotWrite, "\(path) already exists: a backup never overwrites anything; choose another --out", path: path)
        }
    }

    private static func makeDirectory(_ path: String) throws(BackupError) {
        do {
            try AtomicFile.makeDirectory(path)
        } catch {
            throw BackupError(error.kind, error.message, path: path)
        }
    }
}

/// One file of a backup being written: optionally gzipped, hashed as it lands on disk.
final class DumpFileWriter {
    private let relativePath: String
    private let file: FileByteSink
    private let sink: ByteSink

    init(root: String, path: String, gzip: Bool) throws(BackupError) {
        relativePath = path
        file = try FileByteSink(path: "\(root)/\(path)")
        sink = gzip ? try GzipByteSink(file, path: "\(root)/\(path)") : file
    }

    func write(_ bytes: [UInt8]) throws(BackupError) {
        try sink.write(bytes)
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(BackupError) {
        try sink.write(bytes)
    }

    /// Flushes and syncs the file; returns its manifest record.
    func finish() throws(BackupError) -> BackupManifest.FileRecord {
        try sink.finish()
        return BackupManifest.FileRecord(path: relativePath, bytes: file.bytesWritten, sha256: file.digest())
    }
}
