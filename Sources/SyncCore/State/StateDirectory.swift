import Foundation

/// `SYNC_STATE_DIR`: where syncctl keeps what must outlive one run — locks, checkpoints,
/// the rollout journal and Prometheus metrics. Created on first use with mode 0700.
public struct StateDirectory: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    public init(settings: Settings) {
        self.init(path: settings.stateDir)
    }

    public var journalPath: String { "\(path)/journal.jsonl" }
    public var locksDirectory: String { "\(path)/locks" }
    public var checkpointsDirectory: String { "\(path)/checkpoints" }
    public var metricsDirectory: String { "\(path)/metrics" }

    /// Creates the directory if needed and returns the path of `subdirectory` inside it.
    @discardableResult
    public func prepare(_ subdirectory: String? = nil) throws(StateError) -> String {
        let target = subdirectory.map { "\(path)/\($0)" } ?? path
        try AtomicFile.makeDirectory(target)
        return target
    }
}
