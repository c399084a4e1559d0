import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl enable`: Phase 3 "Enable Sync in Production" and "Enable Remaining Collections".
    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Switch sync on: SYNC_ENABLED=true in the dotenv file, after the phase-3 preflight checks.",
            discussion: """
                Runs the phase-3 preflight checks first and refuses (exit 2, the failed checks \
                listed) unless --force. --exclude sets SYNC_EXCLUDED_COLLECTIONS (the gradual \
                rollout); --include-all empties it (the full rollout, and "Enable Remaining \
                Collections"); without either the exclusions stay as they are. When collections \
                start syncing, the exact `syncctl full-sync` command that is now due is printed.

                The edit changes only those values and keeps every other byte of the file; the \
                previous version is kept in $SYNC_STATE_DIR/env-backups/ (mode 0600), and the \
                change is recorded in the rollout journal. On a terminal it shows the change and \
                asks; elsewhere it needs --yes. --dry-run only shows it. --restart runs your \
                restart command afterwards and reports its exit status and last lines.

                Exit status: 0 done (or nothing to change); 2 a preflight check failed; 1 the \
                restart command failed, or you answered no; 64 bad options, or not on a \
                terminal without --yes; 66 no dotenv file; 75 another run is editing the file, \
                or it changed meanwhile (nothing written: run again); 77 the file's owner \
                cannot be kept (run as its owner or root); 78 a setting is invalid.
                """)

        /// Collections to keep out of the sync (gradual rollout).
        @Option(name: .long, help: ArgumentHelp(
            "Set SYNC_EXCLUDED_COLLECTIONS to these comma-separated collections (gradual rollout), e.g. bills,orders,sessions.",
            valueName: "a,b,c"))
        var exclude: String?

        /// Sync every collection.
        @Flag(name: .customLong("include-all"), help: "Empty SYNC_EXCLUDED_COLLECTIONS: every collection syncs.")
        var includeAll = false

        /// Enable even when preflight checks fail.
        @Flag(name: .long, help: "Enable even when a phase-3 preflight check fails (they are still run and shown).")
        var force = false

        @OptionGroup(title: "Editing") var edit: EditOptions
        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            if exclude != nil && includeAll {
                throw ValidationError("--exclude and --include-all cannot be used together")
            }
            if let exclude {
                do {
                    guard !(try RolloutSettings.collectionNames(exclude, option: "--exclude")).isEmpty else {
                        throw ValidationError("--exclude needs at least one collection name (use --include-all to exclude none)")
                    }
                } catch let error as ConfigError {
                    throw ValidationError(error.message)
                }
            }
            if settings.noEnvFile {
                throw ValidationError("enable edits the dotenv file: --no-env-file leaves nothing to edit (pass --env-file PATH)")
            }
        }

        var exclusions: SyncSwitch.Exclusions {
            if includeAll { return .includeAll }
            if let exclude, let names = try? RolloutSettings.collectionNames(exclude, option: "--exclude") { return .exclude(names) }
            return .keep
        }

        func run() async throws {
            try await CommandRunner.run("enable", options: output) { console in
                try DotenvEditRun.requireConsent(edit, console: console, command: "enable")
                let loaded = try settings.load()
                let path = try settings.editedEnvFile(command: "enable")
                let state = StateDirectory(settings: loaded)
                let editor = DotenvEditor(state: state)
                let exclusions = self.exclusions
                let plan = try editor.plan(path: path) { SyncSwitch.enableChanges(exclusions, in: $0) }

                if !console.json { console.message("running the phase-3 preflight checks…") }
                let outcomes = await SyncCore.Preflight(settings: loaded, phase: 3, options: settings.poolOptions).run()
                let summary = CheckSummary(outcomes)
                let problems = outcomes.filter { $0.result == .fail || $0.result == .warn }
                let failed = outcomes.filter { $0.result == .fail }
                let preflight = DotenvEditRun.PreflightSummary(summary: summary, forced: force && !failed.isEmpty, problems: problems)
                if !console.json { renderPreflight(summary: summary, problems: problems, console: console) }

                if !failed.isEmpty && !force {
                    if console.json {
                        console.printJSON(Refusal(dryRun: edit.dryRun, summary: summary, failed: failed, diff: plan.diff()))
                    } else if edit.dryRun {
                        console.print(plan.isNoOp ? "\(plan.path) already says so: nothing to change" : plan.diff(), terminator: "")
                        console.print("dry run: nothing written (and a real run would refuse, see below)")
                    }
                    console.message(
                        "syncctl enable: refusing to enable sync: \(failed.count) preflight check(s) failed (\(failed.map(\.id).joined(separator: ", "))): fix them, or pass --force to enable anyway; nothing written")
                    return .problemsFound
                }
                var warnings = DotenvEditRun.environmentOverrides([SettingKey.syncEnabled.rawValue, SettingKey.excludedCollections.rawValue])
                if !failed.isEmpty {
                    warnings.append("--force: enabling although \(failed.count) preflight check(s) failed: \(failed.map(\.id).joined(separator: ", "))")
                }
                var details: [String: JSONValue] = ["preflight": .object([
                    "passed": .number(Double(summary.pass)), "failed": .number(Double(summary.fail)),
                    "warnings": .number(Double(summary.warn)),
                ])]
                if !failed.isEmpty {
                    details["forced"] = .bool(true)
                    details["failedChecks"] = .array(failed.map { .string($0.id) })
                }
                let run = DotenvEditRun(
                    command: "enable", edit: edit, plan: plan, editor: editor, journal: Journal(state: state),
                    console: console, details: details, warnings: warnings)
                return try await run.perform(fullSyncArguments: settings.envFileArguments, preflight: preflight)
            }
        }

        private func renderPreflight(summary: CheckSummary, problems: [CheckOutcome], console: Console) {
            console.print("preflight (phase 3): \(summary.pass) passed, \(summary.fail) failed, \(summary.warn) warnings, \(summary.skip) skipped")
            for outcome in problems {
                console.print("  \(console.mark(outcome.result)) \(outcome.title)  \(outcome.detail)  \(console.styled("[\(outcome.id)]", .dim))")
            }
        }

        struct Refusal: Encodable {
            var command = "enable"
            var ok = false
            var refused = true
            let dryRun: Bool
            let summary: CheckSummary
            let failed: [CheckOutcome]
            /// The change a run with --force would make.
            let diff: String
        }
    }
}
