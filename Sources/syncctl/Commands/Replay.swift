import ArgumentParser
import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension SyncCtl {
    /// `syncctl replay`: the sync worker — drains the queue file into Atlas.
    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Replay the sync queue into Atlas (once, or --follow as the sync worker).",
            discussion: """
                Reads the queue file (SYNC_QUEUE_FILE; format in the README) in batches of \
                SYNC_BATCH_SIZE. For each document named, it reads the current local document \
                and upserts it into Atlas, or deletes it from Atlas when local no longer has it: \
                repeated, reordered or duplicated entries end in the same state, and entries for \
                one document in a batch become one write. Entries for SYNC_EXCLUDED_COLLECTIONS \
                are skipped and counted. Progress is committed only after Atlas acknowledged: \
                killed at any point, run it again and nothing is lost or applied wrongly.

                Unreachable servers and retryable errors are retried with backoff (for ever with \
                --follow; SYNC_MAX_RETRIES+1 attempts otherwise, then exit 69 with every entry \
                still queued). A document Atlas keeps refusing goes to the dead-letter file after \
                SYNC_MAX_RETRIES retries, as does a line that does not parse. --dead-letters \
                lists them, --retry-dead-letters puts them back on the queue.

                --follow polls every SYNC_WORKER_INTERVAL ms until SIGTERM or Ctrl-C, which \
                finish the batch in hand and exit 0; it stops by itself when SYNC_ENABLED turns \
                false in the dotenv file. Nothing is replayed while SYNC_ENABLED=false.

                Exit status: 0 done; 2 entries were dead-lettered in this run; 69 a server stayed \
                unreachable; 75 another replay is running; 78 invalid settings; 130 interrupted.
                """)

        /// Keep running as the sync worker.
        @Flag(name: .long, help: "Keep running as the sync worker, polling every SYNC_WORKER_INTERVAL ms until SIGTERM.")
        var follow = false

        /// List the dead-letter file.
        @Flag(name: .customLong("dead-letters"), help: "List the dead letters (lines and entries given up on) and stop.")
        var deadLetters = false

        /// Put the dead letters back on the queue.
        @Flag(name: .customLong("retry-dead-letters"),
              help: "Put every dead letter whose line parses back on the queue (replay, or the running worker, then applies it).")
        var retryDeadLetters = false

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            if [follow, deadLetters, retryDeadLetters].filter({ $0 }).count > 1 {
                throw ValidationError("--follow, --dead-letters and --retry-dead-letters cannot be combined: choose one")
            }
        }

        func run() async throws {
            try await CommandRunner.run("replay", options: output) { console in
                let loaded = try settings.load()
                let files = QueueFiles(settings: loaded)
                if deadLetters { return listDeadLetters(files, console: console) }
                if retryDeadLetters { return try retry(files, settings: loaded, console: console) }
                guard loaded.syncEnabled else {
                    let report = try QueueReport.load(settings: loaded)
                    if console.json {
                        console.printJSON(Document(ok: true, mode: follow ? "follow" : "once", disabled: true, run: nil, queue: report))
                    } else {
                        console.print("Sync disabled by configuration (SYNC_ENABLED=false): nothing replayed; \(Counting.format(report.depth)) entries stay queued.")
                    }
                    return .success
                }
                return try await replay(files, settings: loaded, console: console)
            }
        }

        // MARK: Replay

        private func replay(_ files: QueueFiles, settings loaded: Settings, console: Console) async throws -> ExitStatus {
            let state = StateDirectory(settings: loaded)
            let lock = try RunLock.acquire("replay", in: state)
            defer { lock.release() }
            var pool = settings.poolOptions
            // A silent Atlas must not hold a batch for the driver's default five minutes.
            pool.socketTimeoutMS = pool.socketTimeoutMS ?? 60_000
            let connection = try DualConnection(settings: loaded, options: pool)
            defer { connection.close() }
            let applier = try MirrorApplier(connection: connection)
            let before = try QueueReport.load(settings: loaded)
            if !console.json {
                console.message("syncctl replay: loaded \(Counting.format(before.depth)) operations from the persisted queue \(files.path)"
                    + (before.overLimit ? " — at or over SYNC_QUEUE_MAX_SIZE=\(before.maxSize): Atlas is behind" : ""))
            }
            let options = ReplayOptions(settings: loaded, follow: follow)
            let started = Date()
            let summary: ReplayRunSummary
            do {
                if follow {
                    summary = try await runFollowing(files: files, applier: applier, options: options, loaded: loaded,
                                                     state: state, started: started, console: console)
                } else {
                    summary = try await Interrupts.run(console: console) {
                        let worker = try ReplayWorker(files: files, applier: applier, options: options)
                        let result = try await worker.drain()
                        // Stopped by a signal between batches: what was done is committed.
                        try Task.checkCancellation()
                        return result
                    }
                }
            } catch {
                let code = ExitStatus(error: error)
                recordMetrics(loaded, state: state, started: started, exitCode: code.rawValue, summary: nil, console: console)
                throw error
            }
            let after = try QueueReport.load(settings: loaded)
            let status: ExitStatus = summary.totals.deadLettered > 0 ? .problemsFound : .success
            recordMetrics(loaded, state: state, started: started, exitCode: status.rawValue, summary: summary, queue: after,
                          console: console)
            if console.json {
                console.printJSON(Document(ok: status == .success, mode: follow ? "follow" : "once", disabled: nil, run: summary, queue: after))
            } else {
                render(summary, queue: after, console: console)
            }
            return status
        }

        /// The worker loop: SIGTERM/SIGINT set the stop signal (a second one exits at once);
        /// every few seconds the metrics are written and the dotenv file is checked for
        /// SYNC_ENABLED turning false.
        private func runFollowing(files: QueueFiles, applier: MirrorApplier, options: ReplayOptions, loaded: Settings,
                                  state: StateDirectory, started: Date, console: Console) async throws -> ReplayRunSummary {
            let stop = StopSignal()
            let watcher = SignalWatcher(signals: [SIGINT, SIGTERM]) { count in
                if count == 1 {
                    console.message("syncctl replay: stopping after the batch in hand")
                    stop.stop()
                } else {
                    _exit(ExitStatus.interrupted.rawValue)
                }
            }
            defer { watcher.stop() }
            if !console.json {
                console.message("syncctl replay: sync worker started (every \(loaded.workerIntervalMS) ms, batches of \(loaded.batchSize))")
            }
            let worker = try ReplayWorker(files: files, applier: applier, options: options)
            return try await worker.follow(stop: stop, heartbeatInterval: .seconds(5)) { summary in
                recordMetrics(loaded, state: state, started: started, exitCode: 0, summary: summary, console: console)
                if let current = try? settings.load(), !current.syncEnabled {
                    console.message("syncctl replay: SYNC_ENABLED is now false: stopping (sync disabled by configuration)")
                    stop.stop()
                }
            }
        }

        /// The queue figures (`queue`, or read now) and the job's own samples into the Prometheus
        /// textfile.
        private func recordMetrics(_ loaded: Settings, state: StateDirectory, started: Date, exitCode: Int32,
                                   summary: ReplayRunSummary?, queue report: QueueReport? = nil, console: Console) {
            do {
                let queue = (report ?? (try? QueueReport.load(settings: loaded)))?.metricSamples ?? []
                let written = summary.map { $0.totals.upserts + $0.totals.deletes }
                try MetricsFile(state: state).record(
                    MetricsFile.jobSamples(job: "replay", started: started, finished: Date(), exitCode: exitCode, documentsWritten: written)
                        + queue)
            } catch {
                console.message("syncctl replay: warning: \(error)")
            }
        }

        private func render(_ summary: ReplayRunSummary, queue: QueueReport, console: Console) {
            let totals = summary.totals
            console.print(console.styled("Replay: \(queue.queueFile) → Atlas", .bold))
            var table = TextTable([.init(""), .init("", .right), .init("")])
            table.add(["entries read", Counting.format(summary.entries), "in \(summary.batches) batch\(summary.batches == 1 ? "" : "es")"])
            table.add(["applied", Counting.format(totals.applied),
                       "\(Counting.format(totals.upserts)) upserts, \(Counting.format(totals.deletes)) deletes; \(Counting.format(totals.coalesced)) coalesced"])
            table.add(["skipped", Counting.format(totals.skipped), "excluded collections"])
            table.add(["failed attempts", Counting.format(totals.failed), "retried; nothing lost"])
            table.add(["dead-lettered", Counting.format(totals.deadLettered), totals.deadLettered > 0 ? queue.deadLetterFile : ""])
            if let sync = summary.syncTime {
                table.add(["sync time", "", "avg \(QueueReport.seconds(sync.average / 1000)), p95 \(QueueReport.seconds(sync.p95 / 1000)) (entry → Atlas)"])
            }
            for line in table.lines().dropFirst() { console.print("  " + line) }
            console.print("Queue: \(Counting.format(queue.depth)) pending, lag \(QueueReport.seconds(queue.lagSeconds))"
                + (queue.deadLetters > 0 ? "; \(queue.deadLetters) dead letter(s): syncctl replay --dead-letters" : ""))
            if queue.overLimit {
                console.print("\(console.styled("!", .yellow)) the queue is at or over SYNC_QUEUE_MAX_SIZE=\(queue.maxSize): nothing is dropped, but Atlas is behind")
            }
        }

        // MARK: Dead letters

        private func listDeadLetters(_ files: QueueFiles, console: Console) -> ExitStatus {
            let file = DeadLetterFile(files: files)
            let (letters, unreadable) = file.read()
            if console.json {
                console.printJSON(DeadLetterDocument(file: file.path, count: letters.count, unreadable: unreadable, deadLetters: letters))
                return .success
            }
            guard !letters.isEmpty || unreadable > 0 else {
                console.print("No dead letters (\(file.path)).")
                return .success
            }
            console.print("\(letters.count) dead letter\(letters.count == 1 ? "" : "s") in \(file.path)")
            var table = TextTable([.init("dead-lettered"), .init("collection"), .init("_id"), .init("from"), .init("reason")])
            let timeFormat = ISO8601DateFormatter()
            for letter in letters {
                table.add([timeFormat.string(from: letter.time), letter.collection ?? "-", letter.documentID ?? "-",
                           "\(letter.source.file) @\(letter.source.offset)", letter.reason])
            }
            for line in table.lines(style: { row, _, text in row == -1 ? console.styled(text, .dim) : text }) { console.print(line) }
            if unreadable > 0 {
                console.print("\(console.styled("!", .yellow)) \(unreadable) line(s) of the file are not dead-letter records")
            }
            console.print("Fix the cause (or edit a record's \"line\"), then: syncctl replay --retry-dead-letters")
            return .success
        }

        private func retry(_ files: QueueFiles, settings loaded: Settings, console: Console) throws -> ExitStatus {
            let result = try DeadLetterFile(files: files).retry(durable: loaded.persistQueue)
            let state = StateDirectory(settings: loaded)
            do {
                try Journal(state: state).append(JournalEntry(command: "replay --retry-dead-letters", result: "ok", details: [
                    "requeued": .number(Double(result.requeued)), "kept": .number(Double(result.kept)),
                ]))
            } catch {
                console.message("syncctl replay: warning: \(error)")
            }
            if console.json {
                console.printJSON(RetryDocument(requeued: result.requeued, kept: result.kept, queueFile: files.path))
            } else {
                console.print("Put \(Counting.format(result.requeued)) dead letter\(result.requeued == 1 ? "" : "s") back on \(files.path); the next replay applies them.")
                if result.kept > 0 {
                    console.print("\(result.kept) stay in \(files.deadLetterPath): their line still does not parse (edit its \"line\" and retry, or delete the record).")
                }
            }
            return .success
        }

        struct Document: Encodable {
            var command = "replay"
            let ok: Bool
            let mode: String
            /// True when SYNC_ENABLED=false kept replay from running.
            let disabled: Bool?
            let run: ReplayRunSummary?
            let queue: QueueReport
        }

        struct DeadLetterDocument: Encodable {
            var command = "replay"
            var ok = true
            let file: String
            let count: Int
            let unreadable: Int
            let deadLetters: [DeadLetter]
        }

        struct RetryDocument: Encodable {
            var command = "replay"
            var ok = true
            let requeued: Int
            let kept: Int
            let queueFile: String
        }
    }
}
