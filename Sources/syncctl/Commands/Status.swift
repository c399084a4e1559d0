import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl status`: where the rollout stands, from the settings and the rollout journal.
    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show where the rollout stands: sync on or off, exclusions, last backup, full sync, verify and sign-offs.",
            discussion: """
                Reads only files — the settings, $SYNC_STATE_DIR/journal.jsonl and the queue \
                file — so it answers at once even with Atlas down or a malformed Atlas URI (an \
                invalid SYNC_ENABLED or SYNC_EXCLUDED_COLLECTIONS is shown, not fatal). The \
                queue depth line appears once the queue file exists.

                Exit status: 0 always when the files could be read; 66 no dotenv file.
                """)

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func run() async throws {
            try await CommandRunner.run("status", options: output) { console in
                let rollout = try settings.loadRollout()
                let status = RolloutStatus.gather(settings: rollout)
                if console.json {
                    console.printJSON(Report(status: status))
                } else {
                    render(status, console: console)
                }
                return .success
            }
        }

        private func render(_ status: RolloutStatus, console: Console) {
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
            if let queue = status.queue {
                row("queue depth", "\(queue.depth)  (\(queue.path))")
            }
            for problem in status.problems {
                console.message("syncctl status: warning: \(problem)")
            }
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

            enum CodingKeys: String, CodingKey { case command, ok }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(command, forKey: .command)
                try container.encode(ok, forKey: .ok)
                try status.encode(to: encoder)
            }
        }
    }
}
