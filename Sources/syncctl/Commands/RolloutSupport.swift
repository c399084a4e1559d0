import ArgumentParser
import Foundation
import SyncCore

/// Options of the commands that edit the dotenv file (`enable`, `disable`).
struct EditOptions: ParsableArguments {
    /// Show the edit and change nothing.
    @Flag(name: .customLong("dry-run"), help: "Show the change as a diff and write nothing.")
    var dryRun = false

    /// Write without asking; needed when stdin or stderr is not a terminal.
    @Flag(name: [.short, .long], help: "Write without asking (required when not on a terminal, e.g. in scripts).")
    var yes = false

    /// The operator's restart command, run after the edit.
    @Option(name: .long, help: ArgumentHelp(
        "After the edit, run this shell command (via /bin/sh -c) to restart the application, e.g. \"pm2 restart bomba\"; its exit status and last lines are reported.",
        valueName: "command"))
    var restart: String?
}

extension SettingsOptions {
    /// The dotenv file an editing command changes, required to exist.
    func editedEnvFile(command: String) throws -> String {
        guard !noEnvFile else {
            throw CommandLineError("\(command) edits the dotenv file: --no-env-file leaves nothing to edit (pass --env-file PATH)")
        }
        guard let path = try envFilePath() else {
            throw ConfigError(.inputMissing, "no dotenv file to edit: pass --env-file PATH")
        }
        return path
    }

    /// The settings the rollout commands need, read leniently (see `RolloutSettings`): a malformed
    /// MONGODB_ATLAS_URI never stops `disable` or `status`.
    func loadRollout() throws(ConfigError) -> RolloutSettings {
        let file = try envFilePath().map { path throws(ConfigError) in try DotenvFile.load(path: path) }
        return RolloutSettings.read(flags: flagValues, environment: ProcessInfo.processInfo.environment, file: file)
    }

    /// `--env-file PATH` as the operator typed it, for commands syncctl prints to be copied.
    var envFileArguments: [String] {
        envFile.map { ["--env-file", SyncSwitch.shellQuoted($0)] } ?? []
    }
}

/// The part `enable` and `disable` share once the edit is planned: show it, ask, write it, record
/// it in the journal, restart the application, and report.
struct DotenvEditRun {
    let command: String
    let edit: EditOptions
    let plan: DotenvEditPlan
    let editor: DotenvEditor
    let journal: Journal
    let console: Console
    /// Extra journal details (e.g. preflight results of `enable`).
    var details: [String: JSONValue] = [:]
    /// Lines printed before the diff's verdict (e.g. preflight summary of `enable`).
    var warnings: [String] = []

    /// Off a terminal, writing needs `--yes`; checked first so a script learns it at once.
    static func requireConsent(_ edit: EditOptions, console: Console, command: String) throws {
        guard !edit.dryRun, !edit.yes, !console.interactive else { return }
        throw CommandLineError(
            "not on a terminal, so syncctl \(command) cannot ask before writing: pass --yes to write without asking, or --dry-run to only see the change")
    }

    /// Variables exported in this shell override the dotenv file for an application started from
    /// it (dotenv never overrides): worth a warning when the edit would then not take effect.
    static func environmentOverrides(_ keys: [String]) -> [String] {
        let environment = ProcessInfo.processInfo.environment
        return keys.compactMap { key in
            environment[key].map {
                "\(key)=\($0) is also set in this shell's environment; an application started from such an environment ignores the .env value (dotenv does not override variables already set)"
            }
        }
    }

    struct Report: Encodable {
        let command: String
        var ok: Bool
        let envFile: String
        let target: String
        let dryRun: Bool
        var written = false
        let changes: [String: JournalEntry.Change]
        let diff: String
        var backup: String?
        var effect: SyncSwitch.Effect
        var fullSyncCommand: String?
        var preflight: PreflightSummary?
        var restart: RestartCommand.Outcome?
        var journal: String?
        var warnings: [String]
    }

    /// The preflight part of `enable`'s report.
    struct PreflightSummary: Encodable {
        let summary: CheckSummary
        let forced: Bool
        let problems: [CheckOutcome]
    }

    /// Shows, confirms, writes, records, restarts; returns the exit status.
    func perform(fullSyncArguments: [String], preflight: PreflightSummary? = nil) async throws -> ExitStatus {
        let effect = SyncSwitch.effect(of: plan)
        var report = Report(
            command: command, ok: true, envFile: plan.path, target: plan.target, dryRun: edit.dryRun,
            changes: plan.changes, diff: plan.diff(), effect: effect,
            fullSyncCommand: effect.fullSyncCommand(extraArguments: fullSyncArguments), preflight: preflight,
            warnings: warnings)

        let isLink = (try? FileManager.default.destinationOfSymbolicLink(atPath: plan.path)) != nil
        let where_ = isLink ? "\(plan.path) (→ \(plan.target))" : plan.path
        if !console.json {
            for warning in warnings { console.message("syncctl \(command): warning: \(warning)") }
            if plan.isNoOp {
                console.print("\(where_) already says so: nothing to change")
            } else {
                console.print(report.diff, terminator: "")
            }
        }

        if edit.dryRun {
            if !console.json { console.print("dry run: nothing written") }
            if console.json { console.printJSON(report) }
            return .success
        }

        if !plan.isNoOp && !edit.yes {
            guard console.ask("Write this change to \(plan.path)?") else {
                console.message("syncctl \(command): nothing written")
                report.ok = false
                if console.json { console.printJSON(report) }
                return .failure
            }
        }

        let result = try editor.apply(plan)
        report.written = result.written
        report.backup = result.backupPath
        report.warnings += result.warnings
        if !console.json {
            for warning in result.warnings { console.message("syncctl \(command): warning: \(warning)") }
            if result.written {
                let changed = plan.changes.sorted { $0.key < $1.key }
                    .map { "\($0.key): \(display($0.value.old)) → \(display($0.value.new))" }.joined(separator: ", ")
                console.print("\(console.styled("written", .green)) \(where_): \(changed)")
                if let backup = result.backupPath { console.print("previous version kept in \(backup)") }
            }
        }

        var status = ExitStatus.success
        if let restart = edit.restart {
            if !console.json { console.message("running the restart command: \(restart)") }
            let outcome = try await RestartCommand(restart).run()
            report.restart = outcome
            if !outcome.succeeded {
                report.ok = false
                status = .failure
            }
            if !console.json { printRestart(outcome) }
        }

        if result.written || report.restart != nil {
            var details = self.details
            details["envFile"] = .string(plan.path)
            if let backup = result.backupPath { details["backup"] = .string(backup) }
            if let outcome = report.restart {
                details["restart"] = .object(["command": .string(outcome.command), "exitStatus": .number(Double(outcome.exitStatus))])
            }
            if !result.written { details["unchanged"] = .bool(true) }
            let entry = JournalEntry(
                command: command, result: status == .success ? "ok" : "problems",
                changes: plan.changes.isEmpty ? nil : plan.changes, details: details)
            do {
                try journal.append(entry)
                report.journal = journal.path
            } catch {
                let warning = "the change is not in the journal: \(error.message)"
                report.warnings.append(warning)
                if !console.json { console.message("syncctl \(command): warning: \(warning)") }
            }
        }

        if !console.json {
            if !effect.newlyExcluded.isEmpty && effect.nowEnabled {
                let names = effect.newlyExcluded.joined(separator: ", ")
                console.print(effect.wasEnabled
                    ? "no longer synced: \(names) (Atlas keeps what it has of them)"
                    : "not synced yet: \(names) (include them later with `syncctl enable --include-all`)")
            }
            if let fullSync = report.fullSyncCommand {
                let what = effect.wasEnabled
                    ? "\(effect.newlyIncluded.joined(separator: ", ")) now sync: a full sync of them is due"
                    : "sync is now on: a full sync is due so that Atlas also holds what was written before"
                console.print("\(what) (after the application restarted with the new settings):")
                console.print("  \(fullSync)")
            }
            if status != .success {
                console.message("syncctl \(command): the file was changed, but the restart command failed: the application may still run with the old settings; restart it by hand")
            }
        }
        if console.json { console.printJSON(report) }
        return status
    }

    private func display(_ value: String?) -> String {
        guard let value else { return "(unset)" }
        return value.isEmpty ? "(empty)" : value
    }

    private func printRestart(_ outcome: RestartCommand.Outcome) {
        let seconds = String(format: "%.1f s", outcome.seconds)
        if outcome.succeeded {
            console.print("restart: \(console.styled("ok", .green)) (exit 0, \(seconds))")
        } else {
            console.print("restart: \(console.styled("failed", .red)) (exit \(outcome.exitStatus), \(seconds))")
        }
        if !outcome.outputTail.isEmpty {
            console.print("  last \(outcome.outputTail.count) line(s) of its output:")
            for line in outcome.outputTail { console.print("  | \(line)") }
        }
    }
}

extension Console {
    /// Asks a yes/no question on the terminal (always shown, even with --quiet); no answer is no.
    func ask(_ question: String) -> Bool {
        FileHandle.standardError.write(Data(SecretScrubber.shared.scrub("\(question) [y/N] ").utf8))
        guard let answer = readLine(strippingNewline: true)?.trimmingCharacters(in: .whitespaces).lowercased() else { return false }
        return answer == "y" || answer == "yes"
    }

    /// Text on stdout without adding a line break (a diff already ends with one).
    func print(_ text: String, terminator: String) {
        guard !text.isEmpty else { return }
        print(terminator.isEmpty && text.hasSuffix("\n") ? String(text.dropLast()) : text + terminator)
    }
}
