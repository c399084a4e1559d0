import Foundation

/// What a restore or a check reads: a syncctl backup (mongodump's directory layout plus our
/// manifest), mongodump's directory output (plain or `--gzip`), or a mongodump `--archive`
/// file (plain or gzipped).
public enum DumpFormat: String, Sendable, Codable {
    case syncctl
    case mongodumpDirectory = "mongodump-directory"
    case mongodumpArchive = "mongodump-archive"
}

/// One collection in a dump.
public struct DumpCollection: Sendable {
    public let database: String
    public let metadata: CollectionMetadata
    /// Directory layouts: the data file, relative to the dump's root; nil for a view (or a
    /// collection mongodump wrote metadata for only).
    let dataFile: String?
    /// Directory layouts: the metadata file, relative to the dump's root.
    let metadataFile: String?
    /// The document count the manifest promises (syncctl backups only).
    public let expectedDocuments: Int64?

    public var name: String { metadata.collectionName }
}

/// Something read from a dump, in the dump's order.
enum DumpEvent {
    case document(database: String, collection: String, BSONDocument)
    /// A collection's documents are all read (an archive interleaves collections).
    case finished(database: String, collection: String, documents: Int64, dataBytes: Int64)
}

/// An opened dump: its layout is read at once (directory listing, metadata files, an
/// archive's prelude); documents are streamed on demand by `scan`, never held.
public final class DumpInput: Sendable {
    /// The path as given.
    public let path: String
    public let format: DumpFormat
    public let manifest: BackupManifest?
    public let collections: [DumpCollection]
    /// Archives: whether the whole file is gzipped.
    let archiveGzip: Bool
    /// Archives: the header's `server_version` and `tool_version`.
    public let archiveVersions: (server: String, tool: String)?

    /// The databases in the dump, in name order (a database without collections included).
    public let databases: [String]

    private init(path: String, format: DumpFormat, manifest: BackupManifest?, collections: [DumpCollection], databases: [String],
                 archiveGzip: Bool = false, archiveVersions: (server: String, tool: String)? = nil) {
        self.path = path
        self.format = format
        self.manifest = manifest
        self.collections = collections
        self.databases = Array(Set(databases + collections.map(\.database))).sorted()
        self.archiveGzip = archiveGzip
        self.archiveVersions = archiveVersions
    }

    /// Opens a dump. A path that does not exist is `.inputMissing`; anything that is not one
    /// of the three layouts, or whose metadata or manifest does not parse, is `.badInput`.
    public static func open(_ path: String) throws(BackupError) -> DumpInput {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw BackupError(.inputMissing, "\(path) does not exist: give the backup directory or archive file (syncctl backup list shows them)", path: path)
        }
        return isDirectory.boolValue ? try openDirectory(path) : try openArchive(path)
    }

    /// The collections of `database`, optionally only those named (each must exist).
    public func collections(of database: String, named names: [String]? = nil) throws(BackupError) -> [DumpCollection] {
        let inDatabase = collections.filter { $0.database == database }
        guard let names else { return inDatabase }
        return try names.map { (name) throws(BackupError) in
            guard let found = inDatabase.first(where: { $0.name == name }) else {
                let known = inDatabase.map(\.name).joined(separator: ", ")
                throw BackupError(.inputMissing, "the backup has no collection '\(name)' in '\(database)' (it has: \(known.isEmpty ? "none" : known)): check --collections")
            }
            return found
        }
    }

    // MARK: Directories

    private static func openDirectory(_ path: String) throws(BackupError) -> DumpInput {
        let manifest = try BackupManifest.load(from: path)
        let manager = FileManager.default
        let entries = ((try? manager.contentsOfDirectory(atPath: path)) ?? []).sorted()
        var collections: [DumpCollection] = []
        var databases: [String] = manifest.map { [$0.database] } ?? []
        if entries.contains(where: isDumpFile) {
            // The directory is itself one database's directory (`mongodump` output's `<db>/`).
            let database = PathParts.name(PathParts.canonical(path))
            collections = try readDatabase(root: path, relative: nil, database: database, manifest: manifest)
            databases.append(database)
        } else {
            for entry in entries where !entry.hasPrefix(".") {
                var isDirectory: ObjCBool = false
                guard manager.fileExists(atPath: "\(path)/\(entry)", isDirectory: &isDirectory), isDirectory.boolValue else {
                    continue
                }
                collections += try readDatabase(root: path, relative: entry, database: entry, manifest: manifest)
            }
        }
        if let manifest {
            // Every collection the manifest lists must be there, and nothing else.
            for promised in manifest.collections where !collections.contains(where: { $0.database == manifest.database && $0.name == promised.name }) {
                throw BackupError.damaged("\(path)/\(promised.data.path)", "file missing")
            }
            for found in collections where found.database != manifest.database || !manifest.collections.contains(where: { $0.name == found.name }) {
                throw BackupError.damaged("\(path)/\(found.dataFile ?? found.metadataFile ?? found.name)", "not listed in the manifest")
            }
        } else if collections.isEmpty {
            throw BackupError(.badInput, "\(path) is neither a syncctl backup nor mongodump output (no manifest.json, no <db>/<collection>.bson files): give the backup's directory", path: path)
        }
        return DumpInput(path: path, format: manifest == nil ? .mongodumpDirectory : .syncctl, manifest: manifest, collections: collections,
                         databases: databases)
    }

    private static func isDumpFile(_ name: String) -> Bool {
        [".bson", ".bson.gz", ".metadata.json", ".metadata.json.gz"].contains { name.hasSuffix($0) }
    }

    /// The collections in one database directory: every `<stem>.metadata.json[.gz]` and
    /// `<stem>.bson[.gz]`, paired by stem.
    private static func readDatabase(root: String, relative: String?, database: String, manifest: BackupManifest?) throws(BackupError)
        -> [DumpCollection]
    {
        let directory = relative.map { "\(root)/\($0)" } ?? root
        let prefix = relative.map { "\($0)/" } ?? ""
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { !$0.hasPrefix(".") }.sorted()
        var data: [String: String] = [:]
        var metadata: [String: String] = [:]
        for file in files {
            if let stem = stem(of: file, suffix: DumpFileName.bsonSuffix) {
                data[stem] = file
            } else if let stem = stem(of: file, suffix: DumpFileName.metadataSuffix) {
                metadata[stem] = file
            }
        }
        var collections: [DumpCollection] = []
        for stem in Set(data.keys).union(metadata.keys).sorted() {
            // System collections are the server's own (mongodump skips them too), except
            // stored JavaScript; time-series buckets belong to their collection's metadata.
            guard ArchivePrelude.isUserCollection(stem) else { continue }
            guard let fallbackName = DumpFileName.unescape(stem) else {
                throw BackupError(.badInput, "\(directory)/\(data[stem] ?? metadata[stem] ?? stem): the file name is not a mongodump collection name (broken %-escape)")
            }
            var parsed = CollectionMetadata(collectionName: fallbackName)
            if let file = metadata[stem] {
                let text = try readSmallFile("\(directory)/\(file)", gzip: file.hasSuffix(DumpFileName.gzipSuffix))
                do {
                    parsed = try CollectionMetadata(json: text, fallbackName: fallbackName)
                } catch {
                    throw BackupError.damaged("\(directory)/\(file)", "not valid metadata (\(error.message))")
                }
            }
            var dataFile = data[stem].map { prefix + $0 }
            if parsed.type == "timeseries" {
                dataFile = data["system.buckets." + stem].map { prefix + $0 }
            }
            let promised = manifest?.collections.first { $0.name == parsed.collectionName }
            collections.append(DumpCollection(
                database: database, metadata: parsed, dataFile: dataFile, metadataFile: metadata[stem].map { prefix + $0 },
                expectedDocuments: promised?.documents))
        }
        return collections
    }

    private static func stem(of file: String, suffix: String) -> String? {
        for candidate in [suffix, suffix + DumpFileName.gzipSuffix] where file.hasSuffix(candidate) {
            return String(file.dropLast(candidate.count))
        }
        return nil
    }

    /// A metadata file's whole text (a few kilobytes), gunzipped if needed.
    static func readSmallFile(_ path: String, gzip: Bool) throws(BackupError) -> String {
        let file = try FileByteSource(path: path, missingIsDamage: true)
        let source: ByteSource = gzip ? try GzipByteSource(file) : file
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let count = try chunk.withUnsafeMutableBytes { raw in Result { () throws(BackupError) in try source.read(into: raw) } }.get()
            if count == 0 { break }
            bytes += chunk[0..<count]
            guard bytes.count <= 16 << 20 else { throw BackupError.damaged(path, "far too large for a metadata file") }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw BackupError.damaged(path, "not UTF-8 text")
        }
        return text
    }

    // MARK: Archives

    static let archiveMagic: [UInt8] = [0x6d, 0xe2, 0x99, 0x81]

    private static func openArchive(_ path: String) throws(BackupError) -> DumpInput {
        let head = try FileByteSource(path: path)
        var first = [UInt8](repeating: 0, count: 4)
        let count = try first.withUnsafeMutableBytes { raw in Result { () throws(BackupError) in try head.read(into: raw) } }.get()
        head.close()
        let gzip = count >= 2 && first[0] == 0x1f && first[1] == 0x8b
        guard gzip || (count == 4 && first == archiveMagic) else {
            throw BackupError(.badInput, "\(path) is not a mongodump archive (no archive magic number, not gzip) nor a backup directory: give the backup's directory or the file mongodump --archive wrote", path: path)
        }
        let reader = try archiveReader(path, gzip: gzip)
        let prelude = try ArchivePrelude.read(reader)
        return DumpInput(path: path, format: .mongodumpArchive, manifest: nil, collections: prelude.collections, databases: [], archiveGzip: gzip,
                         archiveVersions: (prelude.serverVersion, prelude.toolVersion))
    }

    static func archiveReader(_ path: String, gzip: Bool) throws(BackupError) -> BSONStreamReader {
        let file = try FileByteSource(path: path)
        return BSONStreamReader(gzip ? try GzipByteSource(file) : file)
    }
}
