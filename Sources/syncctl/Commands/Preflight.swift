import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl preflight`: the automatic items of the deployment checklist for a phase.
    struct Preflight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that everything is in place for a rollout phase.",
            discussion: """
                Runs the checklist's automatic checks: settings, the local MongoDB (reachable, \
                version ≥ 4.4, database present), MongoDB Atlas (URI set, reachable, version, \
                the user can write), disk space for backups, clocks, recent backup (phase 3) \
                and the application's runtime (Node.js ≥ 18, pm2).

                Each check passes (✓), fails (✗), warns (!) or is skipped (-). An unreachable \
                server is a failed check with its reason (refused, timeout, dns, tls, \
                authentication).

                Exit status: 0 nothing failed; 2 a check failed; 66 no .env file; 78 a setting \
                is invalid.
                """)

        /// Which phase to check for.
        @Option(name: .long, help: ArgumentHelp("The rollout phase: 1 setup (sync disabled), 2 testing, 3 production.", valueName: "1|2|3"))
        var phase = 1

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            guard (1...3).contains(phase) else {
                throw ValidationError("--phase must be 1, 2 or 3, got \(phase)")
            }
        }

        func run() async throws {
            try await CommandRunner.run("preflight", options: output) { console in
                let loaded = try settings.load()
                let outcomes = await SyncCore.Preflight(settings: loaded, phase: phase, options: settings.poolOptions).run()
                let summary = CheckSummary(outcomes)
                if console.json {
                    console.printJSON(Report(phase: phase, ok: summary.fail == 0, envFile: loaded.envFile, summary: summary, checks: outcomes))
                } else {
                    render(outcomes, summary: summary, envFile: loaded.envFile, console: console)
                }
                return summary.fail == 0 ? .success : .problemsFound
            }
        }

        private func render(_ outcomes: [CheckOutcome], summary: CheckSummary, envFile: String?, console: Console) {
            let names = [1: "setup, sync disabled", 2: "testing", 3: "production rollout"]
            console.print(console.styled("Preflight — phase \(phase) (\(names[phase] ?? ""))", .bold) + "  settings: \(envFile ?? "environment only")")
            var section = ""
            let width = outcomes.map(\.title.count).max() ?? 0
            for outcome in outcomes {
                if outcome.section != section {
                    section = outcome.section
                    console.print()
                    console.print(section)
                }
                let title = outcome.title.padding(toLength: width, withPad: " ", startingAt: 0)
                console.print("  \(console.mark(outcome.result)) \(title)  \(outcome.detail)  \(console.styled("[\(outcome.id)]", .dim))")
            }
            console.print()
            let verdict = summary.fail == 0 ? console.styled("ready", .green) : console.styled("not ready", .red)
            console.print("\(verdict): \(summary.pass) passed, \(summary.fail) failed, \(summary.warn) warnings, \(summary.skip) skipped")
        }

        struct Report: Encodable {
            var command = "preflight"
            let phase: Int
            let ok: Bool
            let envFile: String?
            let summary: CheckSummary
            let checks: [CheckOutcome]
        }
    }
}
