import Foundation
import Logging
import SyncCore

/// Log lines on stderr, scrubbed of secrets: `syncctl: warning: message`. The driver's own
/// messages (label `mongoc`) stay quiet unless asked for (-v, -vv): the errors it logs come
/// back to us as errors too, and the operator sees those once, as results.
struct StderrLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level
    let label: String

    init(label: String, verbosity: Int) {
        self.label = label
        let ours: Logger.Level = verbosity >= 2 ? .debug : verbosity == 1 ? .info : .warning
        let driver: Logger.Level = verbosity >= 2 ? .trace : verbosity == 1 ? .warning : .critical
        logLevel = label == "mongoc" ? driver : ours
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix = label == "mongoc" ? "syncctl: mongoc" : "syncctl"
        let line = "\(prefix): \(event.level): \(event.message)\n"
        FileHandle.standardError.write(Data(SecretScrubber.shared.scrub(line).utf8))
    }
}
