import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl verify-consistency`: the seeds' "Run Consistency Check" (verifyDataConsistency.js)
    /// and the weekly check — by content, not only by counts.
    struct VerifyConsistency: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-consistency",
            abstract: "Check that Atlas holds the same documents as local.",
            discussion: """
                --mode count compares document counts per collection (the seeds' script). \
                --mode deep (the default) reads both sides in _id order and compares every \
                document by its bytes, reporting per collection the documents missing in Atlas, \
                extra in Atlas and different; for up to --show N of them, the _id and the fields \
                that differ (values only with --show-values). Equal counts can hide changed, \
                missing-and-extra or corrupted documents; deep cannot.

                Differences are re-read from both sides after --recheck-delay seconds, three \
                times, and only those that persist are reported: a write still on its way to \
                Atlas is never a difference. --repair copies exactly the differing documents \
                (upsert by _id, delete what local no longer has) and checks them again.

                Exit status: 0 consistent (also after a complete --repair); 2 differences found; \
                69 a server unreachable; 78 invalid settings or --collections.
                """)

        /// count or deep.
        @Option(name: .long, help: ArgumentHelp("count: document counts only; deep: every document by content (default).", valueName: "count|deep"))
        var mode = "deep"

        /// Only these collections.
        @Option(name: .long, help: ArgumentHelp("Only these collections (comma-separated).", valueName: "a,b"))
        var collections: String?

        /// How many differences to show per collection.
        @Option(name: .long, help: ArgumentHelp("Differing documents shown per collection, with their differing fields.", valueName: "N"))
        var show = 10

        /// Show values of differing fields.
        @Flag(name: .customLong("show-values"), help: "Also show the differing values (they may be personal data).")
        var showValues = false

        /// Fix what was found.
        @Flag(name: .long, help: "Copy exactly the differing documents to Atlas, then verify them again.")
        var repair = false

        /// Partitions compared in parallel.
        @Option(name: .long, help: ArgumentHelp("Collections and _id ranges compared in parallel (1-64).", valueName: "N"))
        var workers = 4

        /// Seconds before differences are re-read.
        @Option(name: .customLong("recheck-delay"), help: ArgumentHelp(
            "Seconds to wait before each of the three re-reads of a difference (longer when the sync lags).", valueName: "seconds"))
        var recheckDelay = 1.0

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        var parsedMode: ConsistencyReport.Mode? { ConsistencyReport.Mode(rawValue: mode) }

        func validate() throws {
            guard let parsedMode else { throw ValidationError("--mode must be count or deep, got '\(mode)'") }
            if repair && parsedMode != .deep { throw ValidationError("--repair needs --mode deep (counts cannot say which documents differ)") }
            guard show >= 0 else { throw ValidationError("--show must be 0 or more, got \(show)") }
            guard (1...64).contains(workers) else { throw ValidationError("--workers must be between 1 and 64, got \(workers)") }
            guard recheckDelay >= 0 && recheckDelay <= 600 else {
                throw ValidationError("--recheck-delay must be between 0 and 600 seconds, got \(recheckDelay)")
            }
            if let names = collections.map(CollectionList.parse), names.isEmpty {
                throw ValidationError("--collections needs at least one collection name, e.g. --collections orders,bills")
            }
        }

        func run() async throws {
            try await CommandRunner.run("verify-consistency", options: output) { console in
                let loaded = try settings.load()
                let state = StateDirectory(settings: loaded)
                let lock = try RunLock.acquire("verify-consistency", in: state)
                defer { lock.release() }
                let connections = try FullSync.connect(loaded, settings, workers: workers)
                defer { connections.close() }

                var options = VerifyOptions()
                options.mode = parsedMode ?? .deep
                options.collections = collections.map(CollectionList.parse)
                options.excluded = loaded.excludedCollections
                options.show = show
                options.showValues = showValues
                options.repair = repair
                options.workers = workers
                options.recheckDelay = .milliseconds(Int(recheckDelay * 1000))
                options.retry = TransientRetry(maxRetries: loaded.maxRetries)
                options.batchSize = loaded.batchSize
                options.spillDirectory = try state.prepare("verify")
                let check = ConsistencyCheck(connections: connections, options: options)
                let started = Date()
                do {
                    let report = try await Interrupts.runShowingProgress(console: console, lines: {
                        FullSync.progressLines(check.progress.snapshot())
                    }) { try await check.run() }
                    let status: ExitStatus = report.consistent ? .success : .problemsFound
                    if console.json {
                        console.printJSON(Document(ok: report.consistent, report: report))
                    } else {
                        render(report, console: console)
                    }
                    record(report: report, state: state, started: started, status: status, console: console)
                    return status
                } catch {
                    record(report: nil, state: state, started: started, status: ExitStatus(error: error), console: console,
                           error: "\(error)")
                    throw error
                }
            }
        }

        // MARK: Output

        private func render(_ report: ConsistencyReport, console: Console) {
            let title = report.mode == .deep ? "Deep verification" : "Count verification"
            console.print(console.styled("\(title): local \(report.localDatabase) ↔ Atlas \(report.atlasDatabase)", .bold))
            console.print()
            var table: TextTable
            switch report.mode {
            case .count:
                table = TextTable([.init("collection"), .init("local", .right), .init("atlas", .right), .init("match"), .init("status")])
                for collection in report.collections {
                    if collection.status == .excluded {
                        table.add([collection.name, "", "", "", "excluded"])
                        continue
                    }
                    table.add([collection.name, Counting.format(collection.localCount), Counting.format(collection.atlasCount),
                               collection.status == .consistent ? "✓" : "✗", collection.status.rawValue])
                }
            case .deep:
                var columns: [TextTable.Column] = [
                    .init("collection"), .init("status"), .init("local", .right), .init("atlas", .right),
                    .init("missing", .right), .init("extra", .right), .init("different", .right),
                ]
                if report.repair { columns.append(.init("repaired", .right)) }
                table = TextTable(columns)
                for collection in report.collections {
                    if collection.status == .excluded {
                        table.add([collection.name, "excluded"])
                        continue
                    }
                    var cells = [
                        collection.name, collection.status.rawValue, Counting.format(collection.localCount),
                        Counting.format(collection.atlasCount), Counting.format(collection.missingInAtlas),
                        Counting.format(collection.extraInAtlas), Counting.format(collection.different),
                    ]
                    if report.repair { cells.append(collection.repaired.map(Counting.format) ?? "") }
                    table.add(cells)
                }
            }
            let statusColumn = report.mode == .count ? 4 : 1
            for line in table.lines(style: { row, column, text in
                if row == -1 { return console.styled(text, .dim) }
                guard column == statusColumn || (report.mode == .count && column == 3) else { return text }
                let trimmed = text.trimmingCharacters(in: .whitespaces)
                if trimmed == "consistent" || trimmed == "✓" { return console.styled(text, .green) }
                if trimmed == "excluded" || trimmed.isEmpty { return console.styled(text, .dim) }
                return console.styled(text, .red)
            }) {
                console.print(line)
            }

            for collection in report.collections where !collection.samples.isEmpty || collection.changing > 0 {
                console.print()
                let shown = collection.samples.count
                console.print("\(collection.name): \(shown) of \(Counting.plural(collection.differences, "difference")) shown")
                for sample in collection.samples {
                    let fields = sample.fields.map(\.path).joined(separator: ", ")
                    console.print("  _id \(sample.id)  \(sample.kind.rawValue)\(fields.isEmpty ? "" : ": \(fields)")")
                    for field in sample.fields where field.local != nil || field.atlas != nil {
                        console.print("      \(field.path): local \(field.local ?? "") | atlas \(field.atlas ?? "")")
                    }
                }
                if collection.changing > 0 {
                    console.print("  \(collection.changing) documents were being written during every re-check: not judged (run again later)")
                }
            }
            console.print()
            let compared = report.collections.filter { $0.status != .excluded }.count
            let excluded = report.collections.count - compared
            let excludedNote = excluded > 0 ? "; \(excluded) excluded" : ""
            if report.consistent {
                let repaired = report.repair && report.repaired > 0 ? " after repairing \(Counting.plural(report.repaired, "document"))" : ""
                console.print(console.styled("Consistent", .green) + ": \(Counting.plural(compared, "collection")) \(compared == 1 ? "matches" : "match")\(repaired)\(excludedNote).")
            } else {
                let differing = report.collections.filter { $0.status != .consistent && $0.status != .excluded }
                let what = report.mode == .count
                    ? "counts differ in \(Counting.plural(differing.count, "collection"))"
                    : "\(Counting.plural(report.differences, "differing document")) in \(Counting.plural(differing.count, "collection"))"
                let hint = report.repair ? "see above" : "run with --repair, or syncctl full-sync"
                console.print(console.styled("Not consistent", .red) + ": \(what)\(excludedNote) (\(hint)).")
            }
        }

        private func record(report: ConsistencyReport?, state: StateDirectory, started: Date, status: ExitStatus,
                            console: Console, error: String? = nil) {
            var details: [String: JSONValue] = ["mode": .string(mode)]
            if let report {
                details["collections"] = .array(report.collections.filter { $0.status != .excluded }.map { .string($0.name) })
                details["differences"] = .number(Double(report.differences))
                details["consistent"] = .bool(report.consistent)
                if report.repair { details["repaired"] = .number(Double(report.repaired)) }
            }
            if let error { details["error"] = .string(error) }
            Job.record("verify-consistency", state: state, started: started, status: status, console: console,
                       documentsWritten: repair ? (report?.repaired ?? 0) : nil, samples: report?.metricSamples ?? [], details: details)
        }

        struct Document: Encodable {
            var command = "verify-consistency"
            let ok: Bool
            let report: ConsistencyReport

            enum CodingKeys: String, CodingKey {
                case command, ok, mode, localDatabase, atlasDatabase, repair, consistent, differences, repaired, collections, seconds
            }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(command, forKey: .command)
                try container.encode(ok, forKey: .ok)
                try container.encode(report.mode, forKey: .mode)
                try container.encode(report.localDatabase, forKey: .localDatabase)
                try container.encode(report.atlasDatabase, forKey: .atlasDatabase)
                try container.encode(report.repair, forKey: .repair)
                try container.encode(report.consistent, forKey: .consistent)
                try container.encode(report.differences, forKey: .differences)
                try container.encode(report.repaired, forKey: .repaired)
                try container.encode(report.collections, forKey: .collections)
                try container.encode(report.seconds, forKey: .seconds)
            }
        }
    }
}
