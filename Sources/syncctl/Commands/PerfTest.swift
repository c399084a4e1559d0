import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl perf-test`: the checklist's performance test (seed step 2.9), measured.
    struct PerfTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "perf-test",
            abstract: "Measure what sync costs the application's writes, and how long they take to reach Atlas.",
            discussion: """
                In a scratch collection on local (syncctl_perftest_<random>, dropped afterwards, \
                on Atlas too): --ops inserts as the application makes them with sync off, then \
                --ops inserts each followed by its queue append (a scratch queue beside \
                SYNC_QUEUE_FILE) while a replay worker runs. Reports average, p50, p95, p99 and \
                max latency per operation for both, the append alone, and the sync time (local \
                write → acknowledged by Atlas). Application collections and the application's \
                queue are never touched.

                Passes when the average operation time with sync on is under --max-op-ms (the \
                seed's 10 ms), the average sync time under --max-sync-ms (500 ms), and every \
                document reached Atlas. Exit status: 0 passed; 2 a threshold was missed; 69 a \
                server is unreachable; 78 Atlas not configured; 130 interrupted (scratch data \
                removed).
                """)

        /// Inserts per phase.
        @Option(name: .long, help: ArgumentHelp("Inserts per phase (sync off, then sync on).", valueName: "N"))
        var ops = 1_000

        /// Average operation time limit.
        @Option(name: .customLong("max-op-ms"), help: ArgumentHelp("Fail when the average insert with sync on takes this long or longer.", valueName: "ms"))
        var maxOperationMillis = 10.0

        /// Average sync time limit.
        @Option(name: .customLong("max-sync-ms"), help: ArgumentHelp("Fail when the average local write → Atlas time is this long or longer.", valueName: "ms"))
        var maxSyncMillis = 500.0

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            guard (1...1_000_000).contains(ops) else { throw ValidationError("--ops must be between 1 and 1000000, got \(ops)") }
            guard maxOperationMillis > 0, maxSyncMillis > 0 else { throw ValidationError("--max-op-ms and --max-sync-ms must be positive") }
        }

        func run() async throws {
            try await CommandRunner.run("perf-test", options: output) { console in
                let loaded = try settings.load()
                let connection = try DualConnection(settings: loaded, options: settings.poolOptions)
                defer { connection.close() }
                _ = try connection.requireAtlas()
                var options = PerfTestOptions()
                options.operations = ops
                options.maxAverageOperationMillis = maxOperationMillis
                options.maxAverageSyncMillis = maxSyncMillis
                let test = SyncCore.PerfTest(settings: loaded, connection: connection, options: options)
                let started = Date()
                let quiet = console.json
                let report = try await Interrupts.run(console: console) {
                    try await test.run { step in if !quiet { console.message("perf-test: \(step)") } }
                }
                let status: ExitStatus = report.passed ? .success : .problemsFound
                if console.json {
                    console.printJSON(Document(ok: report.passed, report: report))
                } else {
                    render(report, console: console)
                }
                Job.record(
                    "perf-test", state: StateDirectory(settings: loaded), started: started, status: status, console: console,
                    details: [
                        "operations": .number(Double(report.operations)),
                        "syncOffAverageMs": .number(report.syncOff?.average ?? 0),
                        "syncOnAverageMs": .number(report.syncOn?.average ?? 0),
                        "syncAverageMs": .number(report.syncTime?.average ?? 0),
                        "syncP95Ms": .number(report.syncTime?.p95 ?? 0),
                    ])
                return status
            }
        }

        private func render(_ report: PerfTestReport, console: Console) {
            console.print(console.styled("Performance test: \(Counting.format(report.operations)) inserts per phase", .bold)
                + " (scratch collection \(report.collection), removed)")
            var table = TextTable([
                .init(""), .init("avg", .right), .init("p50", .right), .init("p95", .right), .init("p99", .right), .init("max", .right),
            ])
            func row(_ name: String, _ summary: LatencySummary?) {
                guard let summary else { return table.add([name, "-"]) }
                table.add([name] + [summary.average, summary.p50, summary.p95, summary.p99, summary.max].map(SyncCore.PerfTest.ms))
            }
            row("insert, sync off", report.syncOff)
            row("insert + append, sync on", report.syncOn)
            row("  of which the append", report.append)
            row("sync time (local → Atlas)", report.syncTime)
            console.print()
            for line in table.lines(style: { row, _, text in row == -1 ? console.styled(text, .dim) : text }) { console.print(line) }
            if let on = report.syncOn?.average, let off = report.syncOff?.average {
                console.print(String(format: "Sync adds %@ per operation on average.", SyncCore.PerfTest.ms(on - off)))
            }
            console.print()
            VerdictList.render(report.verdicts, console: console)
        }

        struct Document: Encodable {
            var command = "perf-test"
            let ok: Bool
            let report: PerfTestReport
        }
    }
}

/// ✓/✗ lines for test verdicts and the closing word, shared by perf-test and resilience-test.
enum VerdictList {
    static func render(_ verdicts: [TestVerdict], console: Console) {
        let width = verdicts.map(\.claim.count).max() ?? 0
        for verdict in verdicts {
            console.print("\(console.mark(verdict.passed ? .pass : .fail)) \(verdict.claim.padding(toLength: width, withPad: " ", startingAt: 0))  \(verdict.detail)")
        }
        let failed = verdicts.filter { !$0.passed }.count
        console.print(failed == 0 ? console.styled("passed", .green) : console.styled("failed: \(failed) of \(verdicts.count) claims do not hold", .red))
    }
}
