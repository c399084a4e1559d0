import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl checklist`: a rollout checklist with its automatic items checked live.
    struct Checklist: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a rollout checklist with every automatic item checked now; optionally sign it off.",
            discussion: """
                Phases: pre-deployment, phase1 (setup, sync disabled), phase2 (testing), phase3 \
                (production rollout), post-deployment, rollback. The checklists are the Markdown \
                files of the repository's Checklists/ directory, compiled into syncctl; \
                --checklists DIR reads them from a directory instead.

                Automatic items run live: preflight checks (one preflight run per phase needed) \
                and facts from the settings and the rollout journal (last backup, full sync, \
                consistency check, sign-offs). ✓ passed, ! passed with a warning, ✗ failed, \
                - not checked (an earlier check failed); manual items are shown open (☐): you \
                confirm them by signing off.

                --sign-off NAME records your name, the time and every automatic result in the \
                journal; it refuses while an automatic item has not passed.

                Exit status: 0 every automatic item passed (and the sign-off was recorded); 2 an \
                automatic item failed or was not checked (no sign-off recorded); 65 a checklist \
                file does not parse; 66 no dotenv file, or no checklist file in --checklists; \
                78 a setting is invalid.
                """)

        /// Which checklist.
        @Argument(help: ArgumentHelp("pre-deployment, phase1, phase2, phase3, post-deployment or rollback.", valueName: "phase"))
        var phase: String

        /// Record the sign-off under this name.
        @Option(name: .customLong("sign-off"), help: ArgumentHelp(
            "Sign the checklist off under this name (recorded in the journal); refused unless every automatic item passed.",
            valueName: "name"))
        var signOff: String?

        /// Read the Markdown from this directory instead of the copies compiled in.
        @Option(name: .customLong("checklists"), help: ArgumentHelp(
            "Read <phase>.md from this directory instead of the checklists built into syncctl.", valueName: "dir"))
        var directory: String?

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            guard SyncCore.Checklist.phases.contains(phase) else {
                throw ValidationError("unknown checklist '\(phase)': choose one of \(SyncCore.Checklist.phases.joined(separator: ", "))")
            }
            if let signOff, signOff.trimmingCharacters(in: .whitespaces).isEmpty {
                throw ValidationError("--sign-off needs your name")
            }
        }

        func run() async throws {
            try await CommandRunner.run("checklist", options: output) { console in
                let checklist = try load()
                let rollout = try settings.loadRollout()
                var preflight: [Int: [CheckOutcome]] = [:]
                if !checklist.preflightPhases.isEmpty {
                    let loaded = try settings.load()
                    for phase in checklist.preflightPhases.sorted() {
                        if !console.json { console.message("running the phase-\(phase) preflight checks…") }
                        preflight[phase] = await SyncCore.Preflight(settings: loaded, phase: phase, options: settings.poolOptions).run()
                    }
                }
                let journal = Journal(state: rollout.state)
                let report = ChecklistReport(checklist, preflight: preflight, facts: RolloutFacts(settings: rollout, entries: journal.entries()))

                var signedOff: JournalEntry?
                if let name = signOff?.trimmingCharacters(in: .whitespaces), report.ok {
                    let entry = report.signOffEntry(name: name)
                    try journal.append(entry)
                    signedOff = entry
                }
                if console.json {
                    console.printJSON(Report(report: report, ok: report.ok, signedOff: signedOff.map { SignOff(entry: $0, journal: journal.path) }))
                } else {
                    render(report, envFile: rollout.envFile, console: console)
                    if let signedOff {
                        console.print("\(console.styled("signed off", .green)) \(phase) by \(signOff ?? "") at \(RolloutFacts.describe(signedOff.time)) (journal: \(journal.path))")
                    }
                }
                if signOff != nil && !report.ok {
                    console.message("syncctl checklist: cannot sign off \(phase): \(report.summary.failed) automatic item(s) failed and \(report.summary.notChecked) could not be checked; fix them and run again")
                }
                return report.ok ? .success : .problemsFound
            }
        }

        /// The checklist's Markdown: from --checklists DIR, else the copy compiled into syncctl.
        private func load() throws -> SyncCore.Checklist {
            let source: String
            let markdown: String
            if let directory {
                source = "\(directory)/\(phase).md"
                guard let data = FileManager.default.contents(atPath: source) else {
                    throw ConfigError(.inputMissing, "no checklist \(source): --checklists DIR must hold \(phase).md")
                }
                guard let text = String(validating: data, as: UTF8.self) else {
                    throw ConfigError(.badInput, "\(source) is not UTF-8 text")
                }
                markdown = text
            } else {
                source = "Checklists/\(phase).md (built in)"
                markdown = String(decoding: Self.builtIn[phase] ?? [], as: UTF8.self)
            }
            return try SyncCore.Checklist.parse(markdown: markdown, phase: phase, source: source)
        }

        /// Checklists/*.md, compiled in by SwiftPM (`resources: .embedInCode` in Package.swift).
        static let builtIn: [String: [UInt8]] = [
            "pre-deployment": PackageResources.pre_deployment_md,
            "phase1": PackageResources.phase1_md,
            "phase2": PackageResources.phase2_md,
            "phase3": PackageResources.phase3_md,
            "post-deployment": PackageResources.post_deployment_md,
            "rollback": PackageResources.rollback_md,
        ]

        private func render(_ report: ChecklistReport, envFile: String?, console: Console) {
            console.print(console.styled(report.title, .bold) + "  settings: \(envFile ?? "environment only")")
            for section in report.sections {
                console.print()
                console.print(section.title)
                for item in section.items {
                    let mark: String
                    switch item.result {
                    case .passed: mark = console.mark(.pass)
                    case .warning: mark = console.mark(.warn)
                    case .failed: mark = console.mark(.fail)
                    case .notChecked: mark = console.mark(.skip)
                    case .open: mark = "☐"
                    }
                    var line = "  \(mark) \(item.text)"
                    if let check = item.check { line += "  " + console.styled("[\(check)]", .dim) }
                    console.print(line)
                    if let detail = item.detail, item.result != .passed || item.kind == "automatic" {
                        let shown = item.kind == "manual" ? "manual: \(detail)" : detail
                        console.print("      " + (item.result == .passed ? console.styled(shown, .dim) : shown))
                    }
                }
            }
            console.print()
            let s = report.summary
            let verdict = report.ok ? console.styled("all automatic items passed", .green) : console.styled("not ready", .red)
            console.print("\(verdict): \(s.passed + s.warnings) passed (\(s.warnings) with warnings), \(s.failed) failed, \(s.notChecked) not checked; \(s.manual) manual item(s) to confirm")
            if report.ok && signOff == nil {
                console.print("sign off when the manual items are done: syncctl checklist \(phase) --sign-off \"Your Name\"")
            }
        }

        struct SignOff: Encodable {
            let entry: JournalEntry
            let journal: String
        }

        struct Report: Encodable {
            var command = "checklist"
            let report: ChecklistReport
            let ok: Bool
            let signedOff: SignOff?

            enum CodingKeys: String, CodingKey { case command, ok, signedOff }

            func encode(to encoder: any Encoder) throws {
                var container = encoder.container(keyedBy: CodingKeys.self)
                try container.encode(command, forKey: .command)
                try container.encode(ok, forKey: .ok)
                try container.encodeIfPresent(signedOff, forKey: .signedOff)
                try report.encode(to: encoder)
            }
        }
    }
}
