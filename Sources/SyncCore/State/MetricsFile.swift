import Foundation
import Prometheus

/// One Prometheus sample a job reports.
public struct MetricSample: Sendable, Codable, Equatable {
    public let name: String
    public let labels: [String: String]
    public let value: Double
    public let help: String

    public init(_ name: String, _ value: Double, labels: [String: String] = [:], help: String) {
        self.name = name
        self.labels = labels
        self.value = value
        self.help = help
    }

    var key: String { name + "{" + labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",") + "}" }
}

/// Prometheus textfile metrics for cron jobs: `$SYNC_STATE_DIR/metrics/syncctl.prom`, read by
/// node_exporter's textfile collector. Each job merges its samples into the file (a sample
/// it does not report keeps its previous value: a failed run leaves the last *success*
/// timestamp alone), and the file is replaced atomically so a scrape never sees half of it.
public struct MetricsFile: Sendable {
    public let state: StateDirectory

    public init(state: StateDirectory) {
        self.state = state
    }

    public var path: String { "\(state.metricsDirectory)/syncctl.prom" }
    var samplesPath: String { "\(state.metricsDirectory)/samples.json" }

    /// Merges `samples` into the file.
    public func record(_ samples: [MetricSample]) throws(StateError) {
        try state.prepare("metrics")
        // Two jobs finishing together must not drop each other's samples.
        let lock = try RunLock.acquire("metrics", in: state, waitSeconds: 10)
        defer { lock.release() }
        var merged = currentSamples()
        for sample in samples { merged[sample.key] = sample }
        guard let json = try? StateJSON.encoder().encode(merged) else { throw StateError(.unexpected, "cannot encode metrics") }
        try AtomicFile.write(json, to: samplesPath, mode: 0o644)
        try AtomicFile.write(Data(MetricsFile.render(Array(merged.values)).utf8), to: path, mode: 0o644)
    }

    /// The samples recorded so far, by key.
    public func currentSamples() -> [String: MetricSample] {
        guard let data = FileManager.default.contents(atPath: samplesPath),
            let samples = try? StateJSON.decoder().decode([String: MetricSample].self, from: data)
        else { return [:] }
        return samples
    }

    /// The Prometheus text exposition of `samples` (swift-prometheus does the formatting).
    static func render(_ samples: [MetricSample]) -> String {
        let registry = PrometheusCollectorRegistry()
        for sample in samples.sorted(by: { $0.key < $1.key }) {
            let labels = sample.labels.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            // The whole name as `metricName`: the unit is already part of ours (`…_seconds`).
            let name = MetricNameDescriptor(metricName: sample.name, unitName: "", helpText: sample.help)
            registry.makeGauge(descriptor: name, labels: labels).set(sample.value)
        }
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return String(decoding: buffer, as: UTF8.self)
    }

    /// The samples every job reports: when it ran, whether and when it last succeeded, how
    /// long it took, its exit code, and how many documents it wrote.
    public static func jobSamples(job: String, started: Date, finished: Date, exitCode: Int32, documentsWritten: Int? = nil)
        -> [MetricSample]
    {
        let labels = ["job": job]
        var samples = [
            MetricSample(MetricNames.jobLastRun, finished.timeIntervalSince1970, labels: labels,
                         help: "When the job last finished, successfully or not (Unix time)."),
            MetricSample(MetricNames.jobDuration, finished.timeIntervalSince(started), labels: labels,
                         help: "How long the job's last run took."),
            MetricSample(MetricNames.jobExitCode, Double(exitCode), labels: labels,
                         help: "The exit code of the job's last run (0 ok, 2 problems found, see the README)."),
        ]
        if exitCode == 0 {
            samples.append(MetricSample(MetricNames.jobLastSuccess, finished.timeIntervalSince1970,
                                        labels: labels, help: "When the job last succeeded (Unix time)."))
        }
        if let documentsWritten {
            samples.append(MetricSample(MetricNames.jobDocumentsWritten, Double(documentsWritten), labels: labels,
                                        help: "Documents the job's last run wrote to Atlas."))
        }
        return samples
    }
}
