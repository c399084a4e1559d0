import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl restore DIR`: the emergency restore, from a syncctl backup or mongodump output.
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup (syncctl's, or mongodump's directory or --archive output) into the local MongoDB.",
            discussion: """
                The whole backup is checked first (manifest sizes and SHA-256, whole documents, an \
                archive's CRCs): a damaged backup is refused before anything changes. Then each \
                collection is created with its options and every index (names and options from the \
                metadata), and the documents are inserted in bulk. The target is the local database \
                (MONGODB_LOCAL_URI's) or --to-db NAME; of a dump holding several databases, the one \
                named like the target is restored.

                A target collection that holds documents is never overwritten silently: without \
                --drop the restore refuses before changing anything; with --drop it lists what it \
                will drop and asks for confirmation (--yes when stdin is not a terminal). A restore \
                that was interrupted can be run again as it was: the collections it had started are \
                dropped and restored again.

                Exit status: 0 restored; 64 --drop without --yes off a terminal; 65 the backup is \
                damaged (the file is named) or the server refused one of its documents; 66 DIR or a \
                --collections name does not exist; 69 the local MongoDB is unreachable; 73 a target \
                collection holds documents and --drop was not given; 75 another restore is running; \
                130 the confirmation was declined (nothing changed).
                """)

        @Argument(help: ArgumentHelp("A syncctl backup directory, mongodump --out directory (plain or --gzip), or mongodump --archive file (plain or gzipped).", valueName: "dir"))
        var directory: String

        /// Replace collections that hold documents.
        @Flag(name: .long, help: "Drop target collections that hold documents before restoring them (asks first; see --yes).")
        var drop = false

        /// Restore under another database name.
        @Option(name: .customLong("to-db"), help: ArgumentHelp("Restore into this database instead of the local one (MONGODB_LOCAL_URI's).", valueName: "name"))
        var toDatabase: String?

        /// Only some collections.
        @Option(name: .long, help: ArgumentHelp("Restore only these collections (comma-separated).", valueName: "a,b"))
        var collections: String?

        /// Confirms --drop without a prompt.
        @Flag(name: .long, help: "Confirm --drop without asking (needed when stdin is not a terminal).")
        var yes = false

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            if let collections, CollectionList.parse(collections).isEmpty {
                throw ValidationError("--collections needs at least one collection name, e.g. --collections users,orders")
            }
            if let toDatabase, toDatabase.isEmpty || toDatabase.contains(where: { "/\\. \"$".contains($0) }) {
                throw ValidationError("--to-db '\(toDatabase)' is not a valid database name (no / \\ . space \" $)")
            }
        }

        func run() async throws {
            try await CommandRunner.run("restore", options: output) { console in
                let loaded = try settings.load()
                let state = StateDirectory(settings: loaded)
                let lock = try RunLock.acquire("restore", in: state)
                defer { lock.release() }
                let started = Date()
                var details: [String: JSONValue] = ["path": .string(directory)]
                do {
                    let report = try await restore(loaded, state: state, console: console, details: &details)
                    Job.record("restore", state: state, started: started, status: .success, console: console, details: report.journalDetails)
                    show(report, console: console)
                    return .success
                } catch {
                    Job.record("restore", state: state, started: started, error: error, console: console, details: details)
                    throw error
                }
            }
        }

        private func restore(_ loaded: Settings, state: StateDirectory, console: Console, details: inout [String: JSONValue]) async throws -> Report {
            let input = try DumpInput.open(directory)
            let progress = CollectionProgress()
            let display = ProgressDisplay(console: console) { progress.lines() }
            progress.note("checking \(directory) (\(input.format.rawValue))…")
            display.start()
            defer { display.stop() }
            let check = try await Interrupts.run(console: console) { try await input.check() }
            let connection = try MongoConnection(uri: loaded.localURI.uri, redactedURI: loaded.localURI.redacted, name: "local",
                                                 options: settings.poolOptions)
            defer { connection.close() }
            let plan = try await Restorer.plan(
                input: input, connection: connection, targetDatabase: toDatabase ?? loaded.localDatabase,
                collections: collections.map(CollectionList.parse), state: state)
            details["database"] = .string(plan.targetDatabase)
            if let resuming = plan.resuming {
                console.message("resuming the restore of \(directory) into '\(plan.targetDatabase)' interrupted since \(ISO8601DateFormatter().string(from: resuming)): its collections are restored again")
            }
            let blocked = plan.nonEmptyTargets
            if drop && !blocked.isEmpty {
                display.stop()
                let list = blocked.map { "\($0.name) (\(Counting.format(Int($0.existingDocuments ?? 0))) documents)" }.joined(separator: ", ")
                console.message("--drop: these collections of '\(plan.targetDatabase)' on \(connection.redactedURI) hold documents and will be dropped: \(list)")
                try confirm(blocked.count, database: plan.targetDatabase, console: console)
                display.start()
            }
            progress.note("restoring into '\(plan.targetDatabase)'")
            let drop = self.drop
            let result = try await Interrupts.run(console: console) {
                try await Restorer.run(plan, connection: connection, drop: drop, state: state) { event in
                    switch event {
                    case .collectionStarted(let name): progress.update(name, 0)
                    case .documents(let name, let count): progress.update(name, count)
                    case .collectionFinished(let name, let documents): progress.update(name, documents, finished: true)
                    }
                }
            }
            return Report(path: directory, format: input.format.rawValue, checkedDocuments: check.documents, result: result, targets: plan.targets)
        }

        /// `--yes`, or a typed "yes" on a terminal; anything else changes nothing.
        private func confirm(_ count: Int, database: String, console: Console) throws {
            if yes { return }
            guard console.interactive else {
                throw CommandLineError(
                    "--drop would drop \(count) collections that hold documents: add --yes to confirm when stdin is not a terminal")
            }
            FileHandle.standardError.write(Data("Drop them and restore from \(directory) into '\(database)'? Type yes to continue: ".utf8))
            guard readLine()?.trimmingCharacters(in: .whitespaces).lowercased() == "yes" else {
                throw BackupError(.interrupted, "restore cancelled at the prompt: nothing was changed")
            }
        }

        private func show(_ report: Report, console: Console) {
            if console.json {
                console.printJSON(report)
                return
            }
            let result = report.result
            console.print(console.styled("Restored \(report.path)", .bold) + " (\(report.format)) into '\(result.targetDatabase)'")
            var table = TextTable([.init("collection"), .init("documents", .right), .init("indexes", .right), .init("")])
            for (collection, target) in zip(result.collections, report.targets) {
                table.add([collection.name, Counting.format(Int(collection.documents)), String(collection.indexes),
                           target.action == .create ? "" : "(\(target.action.rawValue))"])
            }
            for line in table.lines(style: { row, _, text in row < 0 ? console.styled(text, .dim) : text }) { console.print("  " + line) }
            let dropped = result.dropped.isEmpty ? "" : "; dropped first: \(result.dropped.joined(separator: ", "))"
            console.print("\(result.collections.count) collections, \(Counting.format(Int(result.documents))) documents (\(ByteSize.format(result.dataBytes)))\(dropped)")
        }

        struct Report: Encodable {
            var command = "restore"
            var ok = true
            let path: String
            let format: String
            let checkedDocuments: Int64
            let result: RestoreResult
            let targets: [RestoreTarget]

            var journalDetails: [String: JSONValue] {
                [
                    "path": .string(path), "database": .string(result.targetDatabase),
                    "collections": .number(Double(result.collections.count)), "documents": .number(Double(result.documents)),
                    "dropped": .array(result.dropped.map(JSONValue.string)),
                ]
            }
        }
    }
}
