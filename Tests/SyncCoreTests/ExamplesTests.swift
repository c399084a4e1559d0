import Foundation
import Testing
import Yams

@testable import SyncCore

/// Examples/ is read by machines (Prometheus, Grafana, cron, dotenv): each file parses and uses
/// only the metric names syncctl exports.
struct ExamplesTests {
    static let examples = ChecklistTests.repository.appendingPathComponent("Examples")

    /// Every name in MetricNames (the one list the code uses).
    static let metricNames: Set<String> = [
        MetricNames.jobLastRun, MetricNames.jobLastSuccess, MetricNames.jobDuration, MetricNames.jobExitCode,
        MetricNames.jobDocumentsWritten, MetricNames.verifyDifferences, MetricNames.queueDepth, MetricNames.queueOldestAge,
        MetricNames.replayEntries, MetricNames.replaySuccessRatio, MetricNames.replaySyncSeconds, MetricNames.atlasUp,
        MetricNames.atlasLastReachable,
    ]

    static func metricsUsed(in expression: String) -> Set<String> {
        let regex = try! Regex("syncctl_[a-z_]+")
        return Set(expression.matches(of: regex).map { String(expression[$0.range]) })
    }

    static func read(_ path: String) throws -> String {
        try String(contentsOf: examples.appendingPathComponent(path), encoding: .utf8)
    }

    @Test func alertRulesParseAndCoverTheSeedThresholds() throws {
        let yaml = try #require(try Yams.load(yaml: try Self.read("prometheus/syncctl-alerts.yml")) as? [String: Any])
        let groups = try #require(yaml["groups"] as? [[String: Any]])
        let rules = groups.flatMap { ($0["rules"] as? [[String: Any]]) ?? [] }
        var byExpression: [String: [String: Any]] = [:]
        for rule in rules {
            let name = try #require(rule["alert"] as? String)
            let expr = try #require(rule["expr"] as? String, "\(name) has no expr")
            #expect(rule["annotations"] as? [String: Any] != nil, "\(name) has no annotations")
            let used = Self.metricsUsed(in: expr)
            #expect(!used.isEmpty, "\(name) uses no syncctl metric")
            #expect(used.isSubset(of: Self.metricNames), "\(name) uses unknown metrics \(used.subtracting(Self.metricNames))")
            byExpression[expr] = rule
        }
        let required = [
            "\(MetricNames.queueDepth) > 1000",
            "\(MetricNames.replaySuccessRatio) < 0.95",
            "\(MetricNames.atlasUp) == 0",
            "increase(\(MetricNames.replayEntries){outcome=\"failed\"}[1h]) > 10",
            "time() - \(MetricNames.jobLastSuccess){job=\"full-sync\"} > 26 * 3600",
        ]
        for expression in required {
            #expect(byExpression[expression] != nil, "no alert for \(expression)")
        }
        #expect(byExpression["\(MetricNames.atlasUp) == 0"]?["for"] as? String == "5m")
    }

    @Test func dashboardIsJSONAndQueriesOnlyKnownMetrics() throws {
        let data = try Data(contentsOf: Self.examples.appendingPathComponent("grafana/syncctl-dashboard.json"))
        let dashboard = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let panels = try #require(dashboard["panels"] as? [[String: Any]])
        var used = Set<String>()
        for panel in panels where panel["type"] as? String != "row" {
            let targets = try #require(panel["targets"] as? [[String: Any]], "\(panel["title"] ?? "?") has no targets")
            for target in targets {
                let expr = try #require(target["expr"] as? String)
                let metrics = Self.metricsUsed(in: expr)
                #expect(metrics.isSubset(of: Self.metricNames), "unknown metrics in \(expr)")
                used.formUnion(metrics)
            }
        }
        for needed in [MetricNames.queueDepth, MetricNames.replaySuccessRatio, MetricNames.atlasUp, MetricNames.replayEntries, MetricNames.jobLastSuccess] {
            #expect(used.contains(needed), "the dashboard does not show \(needed)")
        }
    }

    @Test(arguments: [("env/phase1-disabled.env", false, [String]()), ("env/phase3-gradual.env", true, ["bills", "orders", "sessions"]),
                      ("env/phase3-full.env", true, [])])
    func dotenvExamplesAreValidSettings(path: String, enabled: Bool, excluded: [String]) throws {
        let file = DotenvFile(text: try Self.read(path), path: path)
        let settings = try Settings.resolve(flags: [:], environment: [:], file: file)
        #expect(settings.syncEnabled == enabled)
        #expect(settings.excludedCollections == excluded)
        #expect(settings.atlasURI?.isSRV == true)
    }

    @Test func phaseFilesDifferOnlyInTheRolloutKeys() throws {
        let keys: Set = [SettingKey.syncEnabled.rawValue, SettingKey.excludedCollections.rawValue]
        let one = DotenvFile(text: try Self.read("env/phase1-disabled.env")).values.filter { !keys.contains($0.key) }
        for other in ["env/phase3-gradual.env", "env/phase3-full.env"] {
            #expect(DotenvFile(text: try Self.read(other)).values.filter { !keys.contains($0.key) } == one)
        }
    }

    /// The cron wrapper: 75 (locked) is a silent success; other codes and output pass through.
    @Test(arguments: [(75, Int32(0), ""), (0, Int32(0), "out\n"), (2, Int32(2), "out\n"), (69, Int32(69), "out\n")])
    func cronWrapperTurnsLockedIntoASilentSkip(code: Int, expected: Int32, expectedOutput: String) throws {
        let fake = FileManager.default.temporaryDirectory.appendingPathComponent("fake-syncctl-\(UUID().uuidString)").path
        try "#!/bin/sh\necho out\nexit \(code)\n".write(toFile: fake, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: fake)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = [Self.examples.appendingPathComponent("cron/syncctl-cron").path, "full-sync", "--quiet"]
        process.environment = ["SYNCCTL": fake, "PATH": "/usr/bin:/bin"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == expected)
        #expect(output == expectedOutput)
    }

    @Test func schedulesRunTheJobsQuietlyFromTheAppDirectoryAndTolerateTheLock() throws {
        let crontab = try Self.read("cron/syncctl.crontab")
        let jobs = crontab.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("syncctl-cron") }
        #expect(jobs.count == 2)
        #expect(jobs.contains { $0.hasPrefix("0 3 * * *") && $0.contains("cd ") && $0.hasSuffix("full-sync --quiet") })
        #expect(jobs.contains { $0.contains("verify-consistency --quiet") })
        for unit in ["syncctl-full-sync.service", "syncctl-verify-consistency.service", "syncctl-replay.service"] {
            let text = try Self.read("systemd/\(unit)")
            #expect(text.contains("SuccessExitStatus=75"))
            #expect(text.contains("WorkingDirectory="))
            #expect(text.contains("--quiet"))
        }
        #expect(try Self.read("systemd/syncctl-full-sync.timer").contains("OnCalendar=*-*-* 03:00:00"))
    }
}
