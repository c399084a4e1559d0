import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl full-sync`: make Atlas equal to local (the seeds' "Run Full Sync", and the
    /// daily 3 AM job).
    struct FullSync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "full-sync",
            abstract: "Make Atlas equal to local for every collection that is not excluded.",
            discussion: """
                Creates missing collections in Atlas (same options and indexes), then compares \
                both sides range by range in _id order and writes only what differs: each \
                differing or missing document is upserted by _id with the full local document, \
                and documents local no longer has are deleted from Atlas (--no-prune keeps \
                them). A mostly unchanged database costs reads, not writes. Local is only read; \
                collections in SYNC_EXCLUDED_COLLECTIONS are never touched.

                Resumable: a checkpoint in $SYNC_STATE_DIR/checkpoints/ after each committed \
                batch; a run stopped by Ctrl-C, kill -9 or an unreachable server continues from \
                it when run again. One run at a time.

                Exit status: 0 Atlas equals local; 2 Atlas refused some writes; 69 a server \
                stayed unreachable after SYNC_MAX_RETRIES retries; 75 another full-sync is \
                running; 78 invalid settings or --collections; 130 interrupted (run again to \
                continue).
                """)

        /// Only these collections.
        @Option(name: .long, help: ArgumentHelp("Only these collections (comma-separated); excluded ones stay excluded.", valueName: "a,b"))
        var collections: String?

        /// Keep Atlas documents that local does not have.
        @Flag(name: .customLong("no-prune"), help: "Keep documents that exist only in Atlas instead of deleting them.")
        var noPrune = false

        /// Compare and report only.
        @Flag(name: .customLong("dry-run"), help: "Report what would change; change nothing (no writes, no checkpoint, no metrics).")
        var dryRun = false

        /// Partitions synced in parallel.
        @Option(name: .long, help: ArgumentHelp("Collections and _id ranges synced in parallel (1-64).", valueName: "N"))
        var workers = 4

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            guard (1...64).contains(workers) else {
                throw ValidationError("--workers must be between 1 and 64, got \(workers)")
            }
            if let names = collectionNames, names.isEmpty {
                throw ValidationError("--collections needs at least one collection name, e.g. --collections orders,bills")
            }
        }

        var collectionNames: [String]? { collections.map(CollectionList.parse) }

        /// Both servers, with a pool large enough for `workers`: each holds a local cursor and an
        /// Atlas cursor or bulk write at once.
        static func connect(_ loaded: Settings, _ settings: SettingsOptions, workers: Int) throws -> DualConnection {
            var pool = settings.poolOptions
            pool.maxPoolSize = UInt32(max(16, workers * 2 + 4))
            return try DualConnection(settings: loaded, options: pool)
        }

        func run() async throws {
            try await CommandRunner.run("full-sync", options: output) { console in
                let loaded = try settings.load()
                let state = StateDirectory(settings: loaded)
                let lock = try RunLock.acquire("full-sync", in: state)
                defer { lock.release() }
                let connections = try FullSync.connect(loaded, settings, workers: workers)
                defer { connections.close() }

                var options = FullSyncOptions()
                options.collections = collectionNames
                options.excluded = loaded.excludedCollections
                options.prune = !noPrune
                options.dryRun = dryRun
                options.workers = workers
                options.batchSize = loaded.batchSize
                options.retry = TransientRetry(maxRetries: loaded.maxRetries)
                let engine = SyncCore.FullSync(connections: connections, options: options, checkpointFile: CheckpointFile(state: state))
                let started = Date()
                do {
                    let report = try await Interrupts.runShowingProgress(console: console, lines: {
                        FullSync.progressLines(engine.progress.snapshot())
                    }) { try await engine.run() }
                    let status: ExitStatus = report.writeErrors == 0 ? .success : .problemsFound
                    if console.json {
                        console.printJSON(Document(ok: status == .success, report: report))
                    } else {
                        render(report, console: console)
                    }
                    if !dryRun { record(report: report, state: state, started: started, status: status, console: console) }
                    return status
                } catch {
                    if !dryRun {
                        let counters = engine.progress.snapshot().map(\.counters)
                        Job.record("full-sync", state: state, started: started, error: error, console: console,
                                   documentsWritten: counters.reduce(0) { $0 + $1.written },
                                   details: ["scanned": .number(Double(counters.reduce(0) { $0 + $1.scanned }))])
                    }
                    throw error
                }
            }
        }

        // MARK: Output

        static func progressLines(_ entries: [SyncProgress.Entry]) -> [String] {
            if entries.isEmpty { return ["preparing: listing collections, creating what Atlas lacks, planning ranges…"] }
            let width = entries.map(\.name.count).max() ?? 0
            let active = entries.filter { !$0.finished }
            let total = entries.reduce(0) { $0 + $1.counters.scanned }
            let expected = entries.reduce(0) { $0 + $1.counters.expected }
            var lines = active.prefix(8).map { entry in
                entry.seconds == 0 && entry.counters.scanned == 0
                    ? entry.name.padding(toLength: width, withPad: " ", startingAt: 0) + "  waiting"
                    : ProgressLine.format(name: entry.name, width: width, done: entry.counters.scanned, total: entry.counters.expected,
                                    seconds: entry.seconds, finished: entry.finished)
                    + (entry.counters.written > 0 ? "  \(Counting.format(entry.counters.written)) written" : "")
            }
            lines.append("\(entries.count - active.count) of \(entries.count) collections done, \(Counting.format(total)) of \(Counting.format(expected)) documents compared")
            return lines
        }

        private func render(_ report: FullSyncReport, console: Console) {
            let verb = report.dryRun ? "Dry run" : "Full sync"
            console.print(console.styled("\(verb): local \(report.localDatabase) → Atlas \(report.atlasDatabase)", .bold)
                + "  (\(report.workers) workers, prune \(report.prune ? "on" : "off"))")
            if let resumed = report.resumed {
                console.print("Resumed the run started \(ISO8601DateFormatter().string(from: resumed.started)): \(resumed.partitionsDone) of \(resumed.partitions) ranges were already done.")
            }
            if let discarded = report.checkpointDiscarded {
                console.print("A checkpoint \(discarded) was discarded; started over.")
            }
            var table = TextTable([
                .init("collection"), .init("status"), .init("scanned", .right), .init("equal", .right),
                .init(report.dryRun ? "to insert" : "inserted", .right), .init(report.dryRun ? "to replace" : "replaced", .right),
                .init(report.dryRun ? "to delete" : "deleted", .right), .init("seconds", .right),
            ])
            for collection in report.collections {
                switch collection.status {
                case .synced:
                    table.add([
                        collection.name, collection.created ? "created" : "synced", Counting.format(collection.scanned),
                        Counting.format(collection.equal), Counting.format(collection.inserted),
                        Counting.format(collection.replaced), Counting.format(collection.deleted), Counting.seconds(collection.seconds),
                    ])
                case .excluded, .atlasOnly:
                    table.add([collection.name, collection.status.rawValue])
                }
            }
            table.add([
                "total", "", Counting.format(report.documentsScanned), Counting.format(report.documentsEqual),
                Counting.format(report.documentsInserted), Counting.format(report.documentsReplaced),
                Counting.format(report.documentsDeleted), Counting.seconds(report.seconds),
            ])
            console.print()
            for line in table.lines(style: { row, _, text in row == -1 ? console.styled(text, .dim) : text }) { console.print(line) }
            console.print()
            for collection in report.collections {
                if collection.created || !collection.indexesCreated.isEmpty {
                    let what = collection.created ? "collection created" : "indexes created"
                    let indexes = collection.indexesCreated.isEmpty ? "" : " (indexes: \(collection.indexesCreated.joined(separator: ", ")))"
                    console.print("\(collection.name): \(report.dryRun ? "would be " : "")\(what)\(indexes)")
                }
                if collection.keptInAtlas > 0 {
                    console.print("\(collection.name): kept \(Counting.format(collection.keptInAtlas)) documents that exist only in Atlas (--no-prune)")
                }
                for warning in collection.warnings { console.print("\(console.styled("!", .yellow)) \(collection.name): \(warning)") }
                if collection.writeErrors > 0 {
                    console.print("\(console.styled("✗", .red)) \(collection.name): \(collection.writeErrors) writes refused; first: \(collection.firstWriteError ?? "?")")
                }
            }
            let count = report.collections.filter { $0.status == .synced }.count
            if report.dryRun {
                console.print("Dry run: \(Counting.plural(report.documentsWritten, "document")) would be written in \(Counting.plural(count, "collection")); nothing was changed.")
            } else if report.writeErrors > 0 {
                console.print(console.styled("Atlas refused \(report.writeErrors) writes", .red) + ": fix the cause shown above and run full-sync again.")
            } else {
                console.print(console.styled("Atlas equals local", .green)
                    + " for \(Counting.plural(count, "collection")) (\(Counting.plural(report.documentsWritten, "document")) written) in \(Counting.seconds(report.seconds))s.")
            }
        }

        private func record(report: FullSyncReport, state: StateDirectory, started: Date, status: ExitStatus, console: Console) {
            Job.record("full-sync", state: state, started: started, status: status, console: console,
                       documentsWritten: report.documentsWritten, details: [
                "collections": .array(report.collections.filter { $0.status == .synced }.map { .string($0.name) }),
                "documents": .number(Double(report.documentsScanned)),
                "written": .number(Double(report.documentsWritten)),
                "inserted": .number(Double(report.documentsInserted)),
                "replaced": .number(Double(report.documentsReplaced)),
                "deleted": .number(Double(report.documentsDeleted)),
                "writeErrors": .number(Double(report.writeErrors)),
                "resumed": .bool(report.resumed != nil),
                "prune": .bool(report.prune),
            ])
        }

        struct Document: Encodable {
            var command = "full-sync"
            let ok: Bool
            let report: FullSyncReport

            enum CodingKeys: String, CodingKey {
                case command, ok, dryRun, prune, workers, localDatabase, atlasDatabase, resumed, checkpointDiscarded
                case collections, totals, seconds
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(command, forKey: .command)
                try container.encode(ok, forKey: .ok)
                try container.encode(report.dryRun, forKey: .dryRun)
                try container.encode(report.prune, forKey: .prune)
                try container.encode(report.workers, forKey: .workers)
                try container.encode(report.localDatabase, forKey: .localDatabase)
                try container.encode(report.atlasDatabase, forKey: .atlasDatabase)
                try container.encode(report.resumed, forKey: .resumed)
                try container.encode(report.checkpointDiscarded, forKey: .checkpointDiscarded)
                try container.encode(report.collections, forKey: .collections)
                try container.encode([
                    "scanned": report.documentsScanned, "equal": report.documentsEqual,
                    "inserted": report.documentsInserted, "replaced": report.documentsReplaced,
                    "deleted": report.documentsDeleted, "written": report.documentsWritten,
                    "writeErrors": report.writeErrors,
                ], forKey: .totals)
                try container.encode(report.seconds, forKey: .seconds)
            }
        }
    }
}
