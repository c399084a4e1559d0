import ArgumentParser
import Foundation
import SyncCore
import Synchronization

extension SyncCtl {
    /// `syncctl backup`: a backup of the local database that mongorestore can read, checks of
    /// backups, and the list of them.
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up the local database (mongodump's format), check a backup, list backups.",
            discussion: """
                `syncctl backup` writes $SYNC_BACKUP_DIR/<UTC time>/ in mongodump's directory layout \
                (<db>/<coll>.bson and <db>/<coll>.metadata.json), plus manifest.json and copies of the \
                .env file and the sync queue file. mongorestore reads it; `syncctl restore` reads it and \
                mongodump's output.
                """,
            subcommands: [Create.self, Verify.self, List.self],
            defaultSubcommand: Create.self)
    }
}

extension SyncCtl.Backup {
    /// `syncctl backup [create]`: takes a backup.
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create",
            abstract: "Back up the local database (the default: `syncctl backup` alone takes one).",
            discussion: """
                Streams every collection of the local database (MONGODB_LOCAL_URI) to \
                $SYNC_BACKUP_DIR/<UTC time>/ (or --out DIR) under a hidden temporary name, renamed \
                into place only when complete. Directories are mode 0700, files 0600.

                Exit status: 0 backed up (and, with --verify, equal to the source); 2 --verify found \
                differences; 66 a --collections name does not exist; 69 the local MongoDB is \
                unreachable; 73 --out exists or cannot be written; 75 another backup is running; \
                130 interrupted (nothing is left that looks like a backup).
                """)

        /// Where the backup goes instead of $SYNC_BACKUP_DIR/<UTC time>.
        @Option(name: .long, help: ArgumentHelp("Write the backup to DIR (must not exist, or be empty) instead of $SYNC_BACKUP_DIR/<UTC time>.", valueName: "dir"))
        var out: String?

        /// Compress every file, as `mongodump --gzip` does.
        @Flag(name: .long, help: "Gzip each file (<coll>.bson.gz, <coll>.metadata.json.gz), as mongodump --gzip does.")
        var gzip = false

        /// Only some collections.
        @Option(name: .long, help: ArgumentHelp("Back up only these collections (comma-separated).", valueName: "a,b"))
        var collections: String?

        /// Restore into a scratch database and compare with the source.
        @Flag(name: .long, help: "Restore the new backup into a scratch database, compare every document with the source, drop the scratch database.")
        var verify = false

        /// Keep only the newest N syncctl backups in the backup directory.
        @Option(name: .long, help: ArgumentHelp("Afterwards remove the oldest syncctl backups beyond N (never the new one; mongodump output is left alone).", valueName: "N"))
        var keep: Int?

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            if let keep, keep < 1 {
                throw ValidationError("--keep must be at least 1 (the backup just written is always kept), got \(keep)")
            }
            if let collections, CollectionList.parse(collections).isEmpty {
                throw ValidationError("--collections needs at least one collection name, e.g. --collections users,orders")
            }
        }

        func run() async throws {
            try await CommandRunner.run("backup", options: output) { console in
                let loaded = try settings.load()
                let state = StateDirectory(settings: loaded)
                let lock = try RunLock.acquire("backup", in: state)
                defer { lock.release() }
                let started = Date()
                let directory = out ?? BackupCatalog.newBackupPath(in: loaded.backupDir)
                do {
                    let report = try await takeBackup(loaded, directory: directory, console: console)
                    let status: ExitStatus = report.verification?.verified == false ? .problemsFound : .success
                    Job.record("backup", state: state, started: started, status: status, console: console, details: report.journalDetails)
                    show(report, console: console)
                    return status
                } catch {
                    Job.record("backup", state: state, started: started, error: error, console: console, details: ["path": .string(directory)])
                    throw error
                }
            }
        }

        private func takeBackup(_ loaded: Settings, directory: String, console: Console) async throws -> Report {
            let connection = try MongoConnection(uri: loaded.localURI.uri, redactedURI: loaded.localURI.redacted, name: "local",
                                                 options: settings.poolOptions)
            defer { connection.close() }
            let request = BackupRequest(
                database: loaded.localDatabase, directory: directory, gzip: gzip, collections: collections.map(CollectionList.parse),
                toolVersion: SyncCtl.version, source: loaded.localURI.redacted, envFile: loaded.envFile, queueFile: loaded.queueFile)
            let (verify, database) = (self.verify, loaded.localDatabase)
            let progress = CollectionProgress()
            let display = ProgressDisplay(console: console) { progress.lines() }
            display.start()
            defer { display.stop() }
            var report = try await Interrupts.run(console: console) {
                let manifest = try await BackupWriter.write(request, connection: connection) { event in
                    switch event {
                    case .collectionStarted(let name): progress.update(name, 0)
                    case .documents(let name, let count): progress.update(name, count)
                    case .collectionFinished(let name, let documents, _): progress.update(name, documents, finished: true)
                    }
                }
                var report = Report(path: directory, manifest: manifest)
                if verify {
                    progress.note("verifying: restoring the backup into a scratch database and comparing")
                    let result = try await BackupVerifier.verifyByRestoring(directory, connection: connection, sourceDatabase: database)
                    report.verification = result.verification
                    report.comparisons = result.comparisons
                }
                return report
            }
            if let keep {
                report.removed = try BackupCatalog.prune(in: BackupCatalog.directory(of: directory), keep: keep, protecting: directory)
            }
            return report
        }

        private func show(_ report: Report, console: Console) {
            if console.json {
                console.printJSON(report)
                return
            }
            let manifest = report.manifest
            console.print(console.styled("Backup of '\(manifest.database)'", .bold) + " (\(manifest.source), MongoDB \(manifest.serverVersion)) → \(report.path)")
            var table = TextTable([.init("collection"), .init("documents", .right), .init("BSON", .right), .init("indexes", .right)])
            for collection in manifest.collections {
                table.add([collection.name, Counting.format(Int(collection.documents)), ByteSize.format(collection.dataBytes), String(collection.indexes)])
            }
            for line in table.lines(style: { row, _, text in row < 0 ? console.styled(text, .dim) : text }) { console.print("  " + line) }
            let extras = manifest.extraFiles.isEmpty ? "" : " + " + manifest.extraFiles.map(\.path).joined(separator: ", ")
            let seconds = manifest.finishedAt.timeIntervalSince(manifest.startedAt)
            console.print("\(manifest.collections.count) collections, \(Counting.format(Int(manifest.documents))) documents, \(ByteSize.format(manifest.bytes)) on disk\(extras)\(manifest.gzip ? ", gzip" : ""); took \(Counting.seconds(seconds)) s")
            if let verification = report.verification {
                if verification.verified {
                    console.print("\(console.mark(.pass)) verified: restored into \(verification.scratchDatabase); all \(verification.collections) collections (\(Counting.format(Int(verification.documents))) documents) equal the source; scratch database dropped")
                } else {
                    console.print("\(console.mark(.fail)) not verified: the restored copy differs from the source in \(verification.differences.joined(separator: ", ")) (documents written while the backup ran?)")
                    for comparison in report.comparisons ?? [] where !comparison.equal {
                        console.print("    \(comparison.name): source \(Counting.format(Int(comparison.sourceDocuments))), backup \(Counting.format(Int(comparison.restoredDocuments))), \(Counting.format(Int(comparison.differentDocuments))) different; first at _id \(comparison.firstDifference ?? "?")")
                    }
                }
            }
            for path in report.removed {
                console.print("removed (--keep \(keep ?? 0)): \(path)")
            }
        }

        struct Report: Encodable, Sendable {
            var command = "backup"
            let path: String
            let manifest: BackupManifest
            var verification: BackupManifest.Verification?
            var comparisons: [CollectionComparison]?
            var removed: [String] = []

            init(path: String, manifest: BackupManifest) {
                self.path = path
                self.manifest = manifest
            }

            var ok: Bool { verification?.verified ?? true }

            /// What `syncctl status` and the checklists read: path, verified, collections, documents.
            var journalDetails: [String: JSONValue] {
                [
                    "path": .string(path), "database": .string(manifest.database),
                    "collections": .number(Double(manifest.collections.count)), "documents": .number(Double(manifest.documents)),
                    "bytes": .number(Double(manifest.bytes)), "gzip": .bool(manifest.gzip),
                    "verified": verification.map { .bool($0.verified) } ?? .null,
                    "removed": .array(removed.map(JSONValue.string)),
                ]
            }

            enum CodingKeys: String, CodingKey { case command, ok, path, manifest, verification, comparisons, removed }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(command, forKey: .command)
                try container.encode(ok, forKey: .ok)
                try container.encode(path, forKey: .path)
                try container.encode(manifest, forKey: .manifest)
                try container.encodeIfPresent(verification, forKey: .verification)
                try container.encodeIfPresent(comparisons, forKey: .comparisons)
                try container.encode(removed, forKey: .removed)
            }
        }
    }

    /// `syncctl backup verify DIR`: checks a backup offline.
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a backup offline: every file against the manifest, every document whole.",
            discussion: """
                For a syncctl backup: every file listed in manifest.json exists with its size and \
                SHA-256, no other file is there, every .bson file parses into whole BSON documents and \
                holds the manifest's count. mongodump output (directory or --archive) is checked for \
                whole documents (and an archive's CRCs). Needs no server.

                Exit status: 0 the backup is sound; 65 it is damaged (the first problem is named, with \
                its file); 66 DIR does not exist.
                """)

        @Argument(help: ArgumentHelp("The backup directory (or mongodump archive file).", valueName: "dir"))
        var directory: String

        @OptionGroup(title: "Output") var output: GlobalOptions

        func run() async throws {
            try await CommandRunner.run("backup verify", options: output) { console in
                let input = try DumpInput.open(directory)
                let report = try await input.check()
                if console.json {
                    console.printJSON(Report(ok: true, path: directory, format: report.format.rawValue, filesChecked: report.filesChecked,
                                             documents: report.documents, collections: report.collections))
                    return .success
                }
                let what = report.format == .syncctl ? "every file matches the manifest (\(report.filesChecked) files)" : "no manifest (\(report.format.rawValue)): documents checked"
                console.print("\(console.mark(.pass)) \(directory): \(report.collections.count) collections, \(Counting.format(Int(report.documents))) documents, all whole; \(what)")
                return .success
            }
        }

        struct Report: Encodable {
            var command = "backup verify"
            let ok: Bool
            let path: String
            let format: String
            let filesChecked: Int
            let documents: Int64
            let collections: [DumpCheckReport.CheckedCollection]
        }
    }

    /// `syncctl backup list`: the backups in $SYNC_BACKUP_DIR.
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the backups in $SYNC_BACKUP_DIR: time, size, counts, verified or not.",
            discussion: "Lists syncctl backups and mongodump output, oldest first. Exit status: 0.")

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func run() async throws {
            try await CommandRunner.run("backup list", options: output) { console in
                let loaded = try settings.load()
                let backups = BackupCatalog.list(in: loaded.backupDir)
                if console.json {
                    console.printJSON(Report(directory: loaded.backupDir, backups: backups))
                    return .success
                }
                guard !backups.isEmpty else {
                    console.print("no backups in \(loaded.backupDir)/ (syncctl backup takes one)")
                    return .success
                }
                let formatter = ISO8601DateFormatter()
                var table = TextTable([
                    .init("time (UTC)"), .init("backup"), .init("format"), .init("database"), .init("collections", .right),
                    .init("documents", .right), .init("size", .right), .init("verified"),
                ])
                for backup in backups {
                    table.add([
                        formatter.string(from: backup.time), backup.name, backup.format == .syncctl ? "syncctl" : "mongodump",
                        backup.database ?? "-", backup.collections.map(String.init) ?? "-", backup.documents.map { Counting.format(Int($0)) } ?? "-",
                        ByteSize.format(backup.bytes), backup.verified.map { $0 ? "yes" : "NO" } ?? "-",
                    ])
                }
                console.print("backups in \(loaded.backupDir)/, oldest first:")
                for line in table.lines(style: { row, _, text in row < 0 ? console.styled(text, .dim) : text }) { console.print("  " + line) }
                return .success
            }
        }

        struct Report: Encodable {
            var command = "backup list"
            var ok = true
            let directory: String
            let backups: [BackupSummary]
        }
    }
}

/// Byte counts as people read them (Foundation's formatter: "52.8 KB").
enum ByteSize {
    static func format(_ bytes: Int64) -> String {
        ByteCountFormatter.string(fromByteCount: bytes, countStyle: .file)
    }
}

/// Per-collection document counts of a backup or restore, for the live progress lines.
final class CollectionProgress: Sendable {
    private struct Entry {
        var name: String
        var documents: Int64
        var started: ContinuousClock.Instant
        var finished: Bool
    }

    private struct State {
        var entries: [Entry] = []
        var note: String?
    }

    private let state = Mutex(State())

    func update(_ name: String, _ documents: Int64, finished: Bool = false) {
        state.withLock { state in
            if let index = state.entries.firstIndex(where: { $0.name == name }) {
                state.entries[index].documents = documents
                state.entries[index].finished = finished
            } else {
                state.entries.append(Entry(name: name, documents: documents, started: .now, finished: finished))
            }
        }
    }

    func note(_ text: String) {
        state.withLock { $0.note = text }
    }

    func lines() -> [String] {
        state.withLock { state in
            let width = state.entries.map(\.name.count).max() ?? 0
            let done = state.entries.filter(\.finished).count
            var lines = state.entries.filter { !$0.finished }.suffix(4).map { entry in
                let seconds = Double((ContinuousClock.now - entry.started).components.seconds)
                return ProgressLine.format(name: entry.name, width: width, done: Int(entry.documents), total: 0, seconds: seconds, finished: false)
            }
            lines.append("\(done) collections done, \(Counting.format(Int(state.entries.reduce(0) { $0 + $1.documents }))) documents")
            if let note = state.note { lines.append(note) }
            return lines
        }
    }
}
