import Foundation
import Testing

@testable import SyncCore

/// The Markdown checklists in Checklists/ parse, and every automatic item names a check that
/// exists; the report judges items as documented.
struct ChecklistTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func load(_ phase: String) throws -> Checklist {
        let path = repository.appendingPathComponent("Checklists/\(phase).md").path
        return try Checklist.parse(markdown: try String(contentsOfFile: path, encoding: .utf8), phase: phase, source: path)
    }

    @Test(arguments: Checklist.phases)
    func everyChecklistParsesWithBothKindsOfItems(phase: String) throws {
        let checklist = try Self.load(phase)
        let items = checklist.sections.flatMap(\.items)
        #expect(items.contains { $0.check != nil }, "\(phase) has no automatic item")
        #expect(items.contains { $0.check == nil }, "\(phase) has no manual item")
        #expect(!checklist.title.isEmpty)
    }

    @Test func checklistDirectoryHoldsExactlyThePhases() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("Checklists").path)
        #expect(Set(files.filter { $0 != "README.md" }) == Set(Checklist.phases.map { "\($0).md" }))
    }

    @Test func rollbackNeedsNoServer() throws {
        #expect(try Self.load("rollback").preflightPhases.isEmpty)
        #expect(try Self.load("phase3").preflightPhases == [3])
    }

    @Test func itemMarkersParse() throws {
        let markdown = """
            # Title

            Prose is ignored, and so are code blocks:
            ```
            - [ ] not an item
            ```
            ## Section A
            - [ ] Reachable — auto: `syncctl preflight --phase 2` check `local.reachable`
            - [ ] Backed up — auto: `syncctl status` fact `state.backup-recent`
            ### Section B
            - [ ] Told the team — manual
            - [ ] Ran the perf test — manual: `syncctl perf-test` (not built yet)
            """
        let checklist = try Checklist.parse(markdown: markdown, phase: "phase2", source: "t.md")
        #expect(checklist.title == "Title")
        #expect(checklist.sections.map(\.title) == ["Section A", "Section B"])
        let items = checklist.sections.flatMap(\.items)
        #expect(items.map(\.check) == [.preflight(phase: 2, id: "local.reachable"), .fact(.backupRecent), nil, nil])
        #expect(items[3].command == "syncctl perf-test")
        #expect(items[3].note == "`syncctl perf-test` (not built yet)")
        #expect(items[0].line == 8)
    }

    @Test(arguments: [
        ("- [ ] no marker", "no marker"),
        ("- [ ] x — sometimes", "unknown marker"),
        ("- [ ] x — auto: `syncctl status` fact `state.nope`", "unknown fact"),
        ("- [ ] x — auto: `syncctl full-sync` check `a.b`", "cannot check"),
        ("- [ ] x — auto: `syncctl preflight --phase 7` check `a.b`", "--phase"),
        ("- [ ] x — auto: `syncctl preflight`", "names a command and an id"),
    ])
    func badItemsAreRejectedWithTheirLine(item: String, expected: String) {
        let error = #expect(throws: ConfigError.self) { try Checklist.parse(markdown: "# T\n## S\n\(item)\n", phase: "phase1", source: "t.md") }
        #expect(error?.kind == .badInput)
        #expect(error?.message.hasPrefix("t.md:3: ") == true)
        #expect(error?.message.contains(expected) == true, "\(error?.message ?? "")")
    }

    @Test func reportJudgesItemsAndExplainsWhatWasNotChecked() throws {
        let markdown = """
            # T
            ## S
            - [ ] a — auto: `syncctl preflight` check `local.reachable`
            - [ ] b — auto: `syncctl preflight` check `local.version`
            - [ ] c — auto: `syncctl preflight` check `atlas.reachable`
            - [ ] d — auto: `syncctl preflight` check `runtime.pm2`
            - [ ] e — auto: `syncctl preflight` check `disk.space`
            - [ ] f — auto: `syncctl status` fact `state.sync-disabled`
            - [ ] g — manual
            """
        let checklist = try Checklist.parse(markdown: markdown, phase: "phase1", source: "t.md")
        let outcomes = [
            CheckOutcome(id: "local.reachable", section: "", title: "", result: .fail, detail: "refused: connection refused"),
            CheckOutcome(id: "atlas.reachable", section: "", title: "", result: .pass, detail: "ok"),
            CheckOutcome(id: "runtime.pm2", section: "", title: "", result: .warn, detail: "no pm2"),
            CheckOutcome(id: "disk.space", section: "", title: "", result: .skip, detail: "data size unknown"),
        ]
        let settings = RolloutSettings.read(flags: [:], environment: [:], file: DotenvFile(text: "SYNC_ENABLED=false\n"))
        let report = ChecklistReport(checklist, preflight: [1: outcomes], facts: RolloutFacts(settings: settings, entries: []))
        let results = report.sections[0].items.map(\.result)
        #expect(results == [.failed, .notChecked, .passed, .warning, .notChecked, .passed, .open])
        #expect(report.sections[0].items[1].detail?.contains("local.reachable") == true)
        #expect(report.summary == ChecklistReport.Summary(passed: 2, warnings: 1, failed: 1, notChecked: 2, manual: 1))
        #expect(!report.ok)
    }

    @Test func signOffEntryRecordsNameAndResults() throws {
        let checklist = try Checklist.parse(
            markdown: "# T\n## S\n- [ ] f — auto: `syncctl status` fact `state.sync-disabled`\n- [ ] m — manual\n",
            phase: "rollback", source: "t.md")
        let settings = RolloutSettings.read(flags: [:], environment: [:], file: DotenvFile(text: "SYNC_ENABLED=false\n"))
        let report = ChecklistReport(checklist, preflight: [:], facts: RolloutFacts(settings: settings, entries: []))
        #expect(report.ok)
        let entry = report.signOffEntry(name: "Ana Ops")
        #expect(entry.command == "sign-off")
        #expect(entry.details?["phase"] == "rollback")
        #expect(entry.details?["name"] == "Ana Ops")
        #expect(entry.details?["automatic"] == .object(["state.sync-disabled": "passed"]))
        #expect(entry.details?["manualConfirmed"] == 1)
    }
}
