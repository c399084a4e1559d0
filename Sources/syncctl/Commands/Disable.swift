import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl disable`: the "Quick Disable" rollback — the emergency path.
    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Switch sync off: SYNC_ENABLED=false in the dotenv file (the quick rollback).",
            discussion: """
                The emergency path: it never contacts any server and never refuses — it works \
                with Atlas down and with a malformed MONGODB_ATLAS_URI (only SYNC_STATE_DIR is \
                read, for the journal and the backup copy). It takes well under a second; \
                --restart adds your restart command's time.

                The edit changes only SYNC_ENABLED and keeps every other byte of the file; the \
                previous version is kept in $SYNC_STATE_DIR/env-backups/ (mode 0600; if the \
                state directory cannot be written, the edit still happens, with a warning), and \
                the change is recorded in the rollout journal. On a terminal it shows the change \
                and asks; elsewhere it needs --yes. --dry-run only shows it.

                Exit status: 0 done (or already disabled); 1 the restart command failed, or you \
                answered no; 64 not on a terminal without --yes; 66 no dotenv file; 75 another \
                run is editing the file, or it changed meanwhile (nothing written: run again); \
                77 the file's owner cannot be kept (run as its owner or root).
                """)

        @OptionGroup(title: "Editing") var edit: EditOptions
        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            if settings.noEnvFile {
                throw ValidationError("disable edits the dotenv file: --no-env-file leaves nothing to edit (pass --env-file PATH)")
            }
        }

        func run() async throws {
            try await CommandRunner.run("disable", options: output) { console in
                try DotenvEditRun.requireConsent(edit, console: console, command: "disable")
                let path = try settings.editedEnvFile(command: "disable")
                // Never Settings.resolve: a broken Atlas URI must not block the rollback.
                let rollout = try settings.loadRollout()
                let editor = DotenvEditor(state: rollout.state, policy: .emergency)
                let plan = try editor.plan(path: path, changes: SyncSwitch.disableChanges)
                let run = DotenvEditRun(
                    command: "disable", edit: edit, plan: plan, editor: editor, journal: Journal(state: rollout.state),
                    console: console, warnings: DotenvEditRun.environmentOverrides([SettingKey.syncEnabled.rawValue]))
                return try await run.perform(fullSyncArguments: settings.envFileArguments)
            }
        }
    }
}
