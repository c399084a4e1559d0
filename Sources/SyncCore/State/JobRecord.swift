import Foundation

/// The traces a cron job leaves when it ends, however it ends: Prometheus textfile samples
/// (when it ran, last success, duration, exit code, documents written, plus its own) and one
/// journal line.
public enum JobRecord {
    /// The journal's word for an exit code.
    public static func result(exitCode: Int32) -> String {
        switch exitCode {
        case 0: "ok"
        case 2: "problems"
        case 130: "interrupted"
        default: "failed"
        }
    }

    /// Writes the metrics and the journal line; both are attempted even if one fails, and the
    /// first failure is thrown.
    public static func record(
        state: StateDirectory, job: String, started: Date, finished: Date = Date(), exitCode: Int32,
        documentsWritten: Int?, samples: [MetricSample] = [], details: [String: JSONValue]
    ) throws(StateError) {
        var firstError: StateError?
        do {
            try MetricsFile(state: state).record(
                MetricsFile.jobSamples(job: job, started: started, finished: finished, exitCode: exitCode,
                                       documentsWritten: documentsWritten) + samples)
        } catch {
            firstError = error
        }
        do {
            var details = details
            details["exitCode"] = .number(Double(exitCode))
            details["seconds"] = .number((finished.timeIntervalSince(started) * 10).rounded() / 10)
            try Journal(state: state).append(JournalEntry(command: job, result: result(exitCode: exitCode), details: details))
        } catch {
            firstError = firstError ?? error
        }
        if let firstError { throw firstError }
    }
}
