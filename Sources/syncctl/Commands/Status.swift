import ArgumentParser
import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

extension SyncCtl {
    /// `syncctl status`: where the rollout stands, from the settings and the rollout journal.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show where the rollout stands: sync on or off, exclusions, last backup, full sync, verify and sign-offs.",
            discussion: """
                Reads only files — the settings, $SYNC_STATE_DIR/journal.jsonl and the queue \
                file — so it answers at once even with Atlas down or a malformed Atlas URI (an \
                invalid SYNC_ENABLED or SYNC_EXCLUDED_COLLECTIONS is shown, not fatal). The \
                queue lines (pending entries, sync lag, replay totals, success rate, sync time, \
                Atlas up or down) come from the queue file and replay's saved state; --watch \
                prints them once per interval until Ctrl-C.

                Exit status: 0 always when the files could be read; 66 no dotenv file.
                """)

        /// The checklist's "T+5min … T+60min: queue size, success rate" table, filled in live.
        @Option(name: .long, help: ArgumentHelp("Print the sync queue's figures every SECONDS seconds, one line each, until Ctrl-C.", valueName: "seconds"))
        var watch: Double?

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            if let watch, !(watch >= 1 && watch <= 86_400) {
                throw ValidationError("--watch must be between 1 and 86400 seconds, got \(watch)")
            }
            if watch != nil && output.json {
                throw ValidationError("--watch prints one line per interval; for JSON run `syncctl status --json` at each interval")
            }
        }

        func run() async throws {
            try await CommandRunner.run("status", options: output) { console in
                let rollout = try settings.loadRollout()
                // SYNC_QUEUE_MAX_SIZE and SYNC_PERSIST_QUEUE when the settings are valid (status stays lenient).
                let strict = try? settings.load()
                let queue = {
                    try? QueueReport.load(queueFile: rollout.queueFile, stateDir: rollout.stateDir,
                                          maxSize: strict?.queueMaxSize ?? 10_000, persisted: strict?.persistQueue ?? true)
                }
                if let watch {
                    let stop = StopSignal()
                    let watcher = SignalWatcher(signals: [SIGINT, SIGTERM]) { _ in stop.stop() }
                    defer { watcher.stop() }
                    while !stop.isStopped {
                        console.print(queue()?.watchLine ?? "queue figures unreadable: \(rollout.queueFile)")
                        await stop.sleep(for: .milliseconds(Int(watch * 1000)))
                    }
                    return .success
                }
                let status = RolloutStatus.gather(settings: rollout)
                let report = queue()
                if console.json {
                    console.printJSON(Report(status: status, queueReport: report))
                } else {
                    render(status, queue: report, console: console)
                }
                return .success
            }
        }

        private func renderQueue(_ queue: QueueReport, console: Console) {
            console.print("  queue         \(queue.depth) pending (max \(queue.maxSize)), lag \(QueueReport.seconds(queue.lagSeconds)), \(queue.deadLetters) dead letters")
            let success = queue.successRatio.map { String(format: "%.2f %%", $0 * 100) } ?? "-"
            let sync = queue.syncTime.map { "sync avg \(QueueReport.seconds($0.averageSeconds)), p95 \(QueueReport.seconds($0.p95Seconds))" } ?? "sync -"
            let atlas = queue.atlasUp.map { $0 ? "atlas up" : "atlas DOWN" } ?? "atlas not tried yet"
            console.print("  replay        applied \(queue.totals.applied), failed \(queue.totals.failed), dead-lettered \(queue.totals.deadLettered), success \(success), \(sync), \(atlas)")
            for problem in queue.problems() { console.print("  \(console.styled("!", .yellow)) \(problem)") }
        }

        private func render(_ status: RolloutStatus, queue: QueueReport?, console: Console) {
            let now = Date()
            func row(_ label: String, _ value: String) {
                console.print("  \(label.padding(toLength: 14, withPad: " ", startingAt: 0))\(value)")
            }
            func describe(_ entry: JournalEntry?, none: String) -> String {
                guard let entry else { return console.styled(none, .dim) }
                let result = entry.result == "ok" ? console.styled("ok", .green) : console.styled(entry.result, .red)
                var text = "\(result)  \(RolloutFacts.describe(entry.time)) (\(RolloutFacts.formatAge(now.timeIntervalSince(entry.time))) ago) by \(entry.user)@\(entry.host)"
                let facts = Status.scalarDetails(entry.details)
                if !facts.isEmpty { text += "  " + console.styled(facts, .dim) }
                return text
            }

            console.print(console.styled("Rollout status", .bold) + "  settings: \(status.envFile ?? "environment only")")
            let sync: String
            switch status.syncEnabled {
            case true?: sync = console.styled("enabled", .green)
            case false?: sync = console.styled("disabled", .yellow)
            case nil: sync = console.styled("invalid", .red)
            }
            row("sync", "\(sync)  (SYNC_ENABLED from \(status.syncEnabledSource.rawValue))")
            row("excluded", status.excludedCollections.isEmpty ? "none: every collection syncs" : status.excludedCollections.joined(separator: ", "))
            if let change = status.lastChange {
                row("last change", "\(change.command)  " + describe(change, none: ""))
            } else {
                row("last change", console.styled("none recorded", .dim))
            }
            row("backup", describe(status.lastBackup, none: "none recorded (syncctl backup)"))
            row("full sync", describe(status.lastFullSync, none: "none recorded (syncctl full-sync)"))
            row("verify", describe(status.lastVerify, none: "none recorded (syncctl verify-consistency)"))
            let signed = SyncCore.Checklist.phases.map { phase -> String in
                guard let entry = status.signOffs[phase] else { return "\(phase) –" }
                let name = entry.details?["name"]?.stringValue ?? entry.user
                return "\(phase) ✓ \(name) \(RolloutFacts.describe(entry.time))"
            }
            row("sign-offs", signed[0])
            for line in signed.dropFirst() { row("", line) }
            for problem in status.problems {
                console.message("syncctl status: warning: \(problem)")
            }
            if let queue { renderQueue(queue, console: console) }
            console.print(console.styled("journal: \(status.journal)", .dim))
        }

        /// The details worth a glance first; the rest follow alphabetically.
        static let detailPriority = ["verified", "path", "documents", "documentsWritten", "collections", "exitCode", "seconds", "error"]

        /// `key=value` for the scalar details of a journal entry, the telling ones first, at most six.
        static func scalarDetails(_ details: [String: JSONValue]?) -> String {
            guard let details else { return "" }
            func rank(_ key: String) -> Int { detailPriority.firstIndex(of: key) ?? detailPriority.count }
            return details.sorted { (rank($0.key), $0.key) < (rank($1.key), $1.key) }.compactMap { key, value -> String? in
                switch value {
                case .string(let text): "\(key)=\(text)"
                case .number(let number): number.rounded() == number ? "\(key)=\(Int64(number))" : "\(key)=\(number)"
                case .bool(let flag): "\(key)=\(flag)"
                default: nil
                }
            }.prefix(6).joined(separator: " ")
        }

        struct Report: Encodable {
            var command = "status"
            var ok = true
            let status: RolloutStatus
            /// The sync queue's figures (depth, lag, totals, success rate, sync time, Atlas).
            let queueReport: QueueReport?

            enum CodingKeys: String, CodingKey { case command, ok, queueReport }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(command, forKey: .command)
                try container.encode(ok, forKey: .ok)
                try container.encode(queueReport, forKey: .queueReport)
                try status.encode(to: encoder)
            }
        }
    }
}
