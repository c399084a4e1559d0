/// The start of a mongodump `--archive` stream: the magic number, the header document
/// (`concurrent_collections`, `version`, `server_version`, `tool_version`), one document per
/// collection (`db`, `collection`, `metadata` as Extended JSON text, `size`, `type`), then the
/// 0xFFFFFFFF terminator. (mongo-tools' common/archive/spec.md describes the format.)
struct ArchivePrelude {
    var serverVersion: String
    var toolVersion: String
    var collections: [DumpCollection]

    static func read(_ reader: BSONStreamReader) throws(BackupError) -> ArchivePrelude {
        let path = reader.path
        guard try reader.readRaw(4) == DumpInput.archiveMagic else {
            throw BackupError.damaged(path, "not a mongodump archive (wrong magic number)")
        }
        guard let header = try reader.next() else {
            throw BackupError.damaged(path, "the archive ends before its header")
        }
        var collections: [DumpCollection] = []
        while try !reader.skipTerminator() {
            guard let entry = try reader.next() else {
                throw BackupError.damaged(path, "the archive ends inside its list of collections (truncated)")
            }
            guard let database = entry["db"]?.stringValue, let name = entry["collection"]?.stringValue else {
                throw BackupError.damaged(path, "a collection entry of the archive has no db or collection")
            }
            guard isUserCollection(name) else { continue }
            let text = entry["metadata"]?.stringValue ?? ""
            var metadata = CollectionMetadata(collectionName: name, type: entry["type"]?.stringValue ?? "collection")
            if !text.isEmpty {
                do {
                    metadata = try CollectionMetadata(json: text, fallbackName: name)
                } catch {
                    throw BackupError.damaged(path, "the metadata of \(database).\(name) is not valid (\(error.message))")
                }
            }
            collections.append(DumpCollection(database: database, metadata: metadata, dataFile: nil, metadataFile: nil,
                                              expectedDocuments: nil))
        }
        return ArchivePrelude(
            serverVersion: header["server_version"]?.stringValue ?? "unknown",
            toolVersion: header["tool_version"]?.stringValue ?? "unknown",
            collections: collections)
    }

    /// Collections a restore recreates: not the server's own `system.*` ones (stored
    /// JavaScript excepted) nor mongodump's `$admin.system.users`-style pseudo collections.
    static func isUserCollection(_ name: String) -> Bool {
        !(name.hasPrefix("$") || (name.hasPrefix("system.") && name != "system.js"))
    }
}
