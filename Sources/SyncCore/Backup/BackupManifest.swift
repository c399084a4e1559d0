import Foundation

/// `manifest.json`, beside the mongodump layout of a syncctl backup: what was backed up,
/// from where, when, and the size and SHA-256 of every file, so a backup can be checked
/// offline (`syncctl backup verify`) and a damaged one is refused before a restore.
public struct BackupManifest: Codable, Sendable, Equatable {
    /// Marks the file as ours.
    public static let formatName = "syncctl-backup"
    public static let fileName = "manifest.json"

    /// One file of the backup, relative to the backup directory.
    public struct FileRecord: Codable, Sendable, Equatable {
        public var path: String
        public var bytes: Int64
        public var sha256: String

        public init(path: String, bytes: Int64, sha256: String) {
            self.path = path
            self.bytes = bytes
            self.sha256 = sha256
        }
    }

    public struct Collection: Codable, Sendable, Equatable {
        public var name: String
        public var type: String
        public var documents: Int64
        /// Uncompressed BSON bytes of all documents.
        public var dataBytes: Int64
        /// The `.bson` file (or `.bson.gz`).
        public var data: FileRecord
        /// The `.metadata.json` file (or `.metadata.json.gz`).
        public var metadata: FileRecord
        public var indexes: Int
    }

    /// What `--verify` found.
    public struct Verification: Codable, Sendable, Equatable {
        public var verified: Bool
        public var time: Date
        /// The scratch database the backup was restored into (dropped afterwards).
        public var scratchDatabase: String
        public var collections: Int
        public var documents: Int64
        /// Collections whose documents or counts differ from the source.
        public var differences: [String]
    }

    public var format = BackupManifest.formatName
    public var formatVersion = 1
    public var toolVersion: String
    public var serverVersion: String
    /// The source, redacted (no password).
    public var source: String
    public var database: String
    public var gzip: Bool
    public var startedAt: Date
    public var finishedAt: Date
    public var collections: [Collection]
    /// Copies of the dotenv file and the sync queue file, when they existed.
    public var extraFiles: [FileRecord]
    public var verification: Verification?

    public var documents: Int64 { collections.reduce(0) { $0 + $1.documents } }
    /// Bytes on disk of every file the manifest lists.
    public var bytes: Int64 {
        collections.reduce(0) { $0 + $1.data.bytes + $1.metadata.bytes } + extraFiles.reduce(0) { $0 + $1.bytes }
    }

    /// Every file the manifest lists.
    public var files: [FileRecord] {
        collections.flatMap { [$0.metadata, $0.data] } + extraFiles
    }

    static func encoder() -> JSONEncoder {
        StateJSON.encoder(pretty: true)
    }

    func encoded() throws(BackupError) -> Data {
        do {
            var data = try BackupManifest.encoder().encode(self)
            data.append(UInt8(ascii: "\n"))
            return data
        } catch {
            throw BackupError(.unexpected, "cannot encode the backup manifest: \(error)")
        }
    }

    /// Reads `<directory>/manifest.json`: nil when there is none; a manifest that does not
    /// parse is a damaged backup.
    static func load(from directory: String) throws(BackupError) -> BackupManifest? {
        let path = "\(directory)/\(fileName)"
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = StateJSON.decoder()
        let manifest: BackupManifest
        do {
            manifest = try decoder.decode(BackupManifest.self, from: data)
        } catch {
            throw BackupError.damaged(path, "not a valid manifest (\(BackupManifest.reason(error)))")
        }
        guard manifest.format == formatName else {
            throw BackupError.damaged(path, "not a syncctl manifest (format \"\(manifest.format)\")")
        }
        return manifest
    }

    /// Writes the manifest into `directory` atomically, mode 0600.
    func write(to directory: String) throws(BackupError) {
        do {
            try AtomicFile.write(try encoded(), to: "\(directory)/\(BackupManifest.fileName)", mode: 0o600)
        } catch let error as StateError {
            throw BackupError(error.kind, error.message)
        } catch {
            throw BackupError(.cannotWrite, "\(error)")
        }
    }

    private static func reason(_ error: any Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, _): "\"\(key.stringValue)\" is missing"
        case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
            "\(context.codingPath.map(\.stringValue).joined(separator: ".")): \(context.debugDescription)"
        case DecodingError.dataCorrupted(let context): context.debugDescription
        default: "\(error)"
        }
    }
}
