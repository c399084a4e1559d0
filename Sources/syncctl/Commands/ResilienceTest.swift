import ArgumentParser
import Foundation
import SyncCore

extension SyncCtl {
    /// `syncctl resilience-test`: the checklist's resilience test (seed step 2.7), self-contained.
    struct ResilienceTest: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "resilience-test",
            abstract: "Cut Atlas off on purpose and check that writes go on, queue up, sync back and lose nothing.",
            discussion: """
                Puts a TCP proxy of its own (on 127.0.0.1) between a replay worker and Atlas and \
                runs a timeline on a scratch collection (syncctl_resilience_<random>, dropped \
                afterwards, with its scratch queue): writes flowing; Atlas cut (connections \
                refused); Atlas hanging (connections accepted, never answered); Atlas back; the \
                queue drains; a deep verification (verify-consistency's comparison) of the \
                scratch collection. Local writes — inserts, updates and deletes, each followed \
                by its queue append — go on all along. Only the worker's connection goes \
                through the proxy; the real Atlas is never disturbed.

                Prints the timeline (queue depth, write latency, phase) and a verdict for each \
                of the seed's claims: operations continue when Atlas is down (no failed write, \
                average under --max-op-ms); the queue grows; operations sync on reconnect (the \
                queue drains within --drain-timeout); no data loss. The default run takes about \
                half a minute.

                Exit status: 0 all four claims hold; 2 one does not; 69 a server is unreachable \
                at the start; 78 Atlas not configured; 130 interrupted (scratch data removed).
                """)

        @Option(name: .long, help: ArgumentHelp("Seconds of writes with Atlas reachable.", valueName: "s"))
        var flowing = 5.0

        @Option(name: .long, help: ArgumentHelp("Seconds Atlas refuses connections.", valueName: "s"))
        var refused = 8.0

        @Option(name: .long, help: ArgumentHelp("Seconds Atlas accepts connections but never answers.", valueName: "s"))
        var hanging = 8.0

        @Option(name: .long, help: ArgumentHelp("Seconds of writes after Atlas is back.", valueName: "s"))
        var restored = 5.0

        @Option(name: .customLong("drain-timeout"), help: ArgumentHelp("Seconds the queue may take to drain once the writes stop.", valueName: "s"))
        var drainTimeout = 30.0

        @Option(name: .customLong("write-interval"), help: ArgumentHelp("Milliseconds between local writes.", valueName: "ms"))
        var writeInterval = 20

        @Option(name: .customLong("max-op-ms"), help: ArgumentHelp("Local writes while Atlas is down must average under this.", valueName: "ms"))
        var maxOperationMillis = 10.0

        @OptionGroup(title: "Settings") var settings: SettingsOptions
        @OptionGroup(title: "Output") var output: GlobalOptions

        func validate() throws {
            for (name, value) in [("--flowing", flowing), ("--refused", refused), ("--hanging", hanging), ("--restored", restored)]
            where !(value >= 0 && value <= 3_600) {
                throw ValidationError("\(name) must be between 0 and 3600 seconds, got \(value)")
            }
            guard refused + hanging > 0 else { throw ValidationError("--refused and --hanging cannot both be 0: there would be no outage to test") }
            guard drainTimeout > 0 && drainTimeout <= 3_600 else { throw ValidationError("--drain-timeout must be between 0 and 3600 seconds") }
            guard (1...10_000).contains(writeInterval) else { throw ValidationError("--write-interval must be between 1 and 10000 ms") }
            guard maxOperationMillis > 0 else { throw ValidationError("--max-op-ms must be positive") }
        }

        func run() async throws {
            try await CommandRunner.run("resilience-test", options: output) { console in
                let loaded = try settings.load()
                let connection = try DualConnection(settings: loaded, options: settings.poolOptions)
                defer { connection.close() }
                let atlas = try connection.requireAtlas()
                try await atlas.ping()
                try await connection.local.ping()
                var options = ResilienceTestOptions()
                options.flowing = .milliseconds(Int(flowing * 1000))
                options.refused = .milliseconds(Int(refused * 1000))
                options.hanging = .milliseconds(Int(hanging * 1000))
                options.restored = .milliseconds(Int(restored * 1000))
                options.drainTimeout = .milliseconds(Int(drainTimeout * 1000))
                options.writeInterval = .milliseconds(writeInterval)
                options.maxAverageOperationMillis = maxOperationMillis
                let test = SyncCore.ResilienceTest(settings: loaded, connection: connection, options: options)
                let live = !console.json
                if live {
                    console.print(console.styled("Resilience test", .bold) + " — local writes go on while the replay worker's way to Atlas is cut, then hangs, then comes back")
                    console.print()
                    console.print(console.styled(Timeline.header, .dim))
                }
                let started = Date()
                let report = try await Interrupts.run(console: console) {
                    try await test.run { sample in if live { console.print(Timeline.line(sample)) } }
                }
                let status: ExitStatus = report.passed ? .success : .problemsFound
                if console.json {
                    console.printJSON(Document(ok: report.passed, report: report))
                } else {
                    render(report, console: console)
                }
                Job.record(
                    "resilience-test", state: StateDirectory(settings: loaded), started: started, status: status, console: console,
                    details: Dictionary(uniqueKeysWithValues: report.verdicts.map { ($0.claim, JSONValue.bool($0.passed)) }))
                return status
            }
        }

        private func render(_ report: ResilienceReport, console: Console) {
            console.print()
            var table = TextTable([
                .init("phase"), .init("seconds", .right), .init("writes", .right), .init("failed", .right), .init("avg", .right),
                .init("p95", .right), .init("queue", .right),
            ])
            for phase in report.phases {
                table.add([
                    phase.phase.rawValue, Counting.seconds(phase.seconds), Counting.format(phase.writes), Counting.format(phase.failedWrites),
                    phase.latency.map { SyncCore.PerfTest.ms($0.average) } ?? "-", phase.latency.map { SyncCore.PerfTest.ms($0.p95) } ?? "-",
                    "\(phase.depthAtStart) → \(phase.depthAtEnd)",
                ])
            }
            for line in table.lines(style: { row, _, text in row == -1 ? console.styled(text, .dim) : text }) { console.print(line) }
            console.print()
            VerdictList.render(report.verdicts, console: console)
        }

        /// The live timeline's columns.
        enum Timeline {
            static let header = "     t  phase     queue  writes  avg ms  max ms  failed  applied"

            static func line(_ sample: ResilienceReport.Sample) -> String {
                func ms(_ value: Double?) -> String { value.map { String(format: "%.2f", $0) } ?? "-" }
                return String(format: "%6.1f", sample.t) + "  " + sample.phase.rawValue.padding(toLength: 8, withPad: " ", startingAt: 0)
                    + pad(String(sample.queueDepth), 7) + pad(String(sample.writes), 8) + pad(ms(sample.writeAverageMillis), 8)
                    + pad(ms(sample.writeMaxMillis), 8) + pad(String(sample.failedWrites), 8) + pad(String(sample.applied), 9)
            }

            private static func pad(_ text: String, _ width: Int) -> String {
                String(repeating: " ", count: max(0, width - text.count)) + text
            }
        }

        struct Document: Encodable {
            var command = "resilience-test"
            let ok: Bool
            let report: ResilienceReport
        }
    }
}
