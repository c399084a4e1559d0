import Foundation
import SyncCore

/// The journal line and the job metrics a command leaves however it ends (`JobRecord`); a
/// failure to write them is a warning, never the command's result.
enum Job {
    static func record(_ job: String, state: StateDirectory, started: Date, status: ExitStatus, console: Console,
                       documentsWritten: Int? = nil, samples: [MetricSample] = [], details: [String: JSONValue]) {
        do {
            try JobRecord.record(state: state, job: job, started: started, exitCode: status.rawValue,
                                 documentsWritten: documentsWritten, samples: samples, details: details)
        } catch {
            console.message("syncctl \(job): warning: \(error)")
        }
    }

    /// A run that ended with `error`: its exit code, and the error in the details.
    static func record(_ job: String, state: StateDirectory, started: Date, error: any Error, console: Console,
                       documentsWritten: Int? = nil, details: [String: JSONValue]) {
        var details = details
        details["error"] = .string("\(error)")
        record(job, state: state, started: started, status: ExitStatus(error: error), console: console,
               documentsWritten: documentsWritten, details: details)
    }
}
