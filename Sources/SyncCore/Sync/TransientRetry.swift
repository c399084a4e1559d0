import Logging

/// How long-running jobs ride out a server that drops away for a moment: a transient failure
/// (`MongoError.isTransient`: network errors, timeouts, MongoDB's retryable codes) is tried
/// again after an exponential backoff, up to `maxRetries` times in a row; anything else, or a
/// failure that outlasts the retries, is thrown (an unreachable server then exits 69).
public struct TransientRetry: Sendable {
    /// Retries in a row before giving up (`SYNC_MAX_RETRIES`).
    public var maxRetries: Int
    /// The pauses: from 0.5 s, doubling, at most 10 s.
    public var backoff: RetryPolicy

    public init(maxRetries: Int, backoff: RetryPolicy = RetryPolicy(initial: .milliseconds(500), maximum: .seconds(10))) {
        self.maxRetries = maxRetries
        self.backoff = backoff
    }

    /// Whether `error` is worth another try.
    public static func isTransient(_ error: any Error) -> Bool {
        (error as? MongoError)?.isTransient ?? false
    }

    /// Runs `body`, retrying transient failures. `what` names the work in the log line.
    public func run<T>(_ what: String, _ body: () async throws -> T) async throws -> T {
        var attempt = 0
        while true {
            do {
                return try await body()
            } catch where TransientRetry.isTransient(error) && attempt < maxRetries {
                attempt += 1
                try await pause(after: error, attempt: attempt, what: what)
            }
        }
    }

    /// Logs the failure and sleeps before retry `attempt` (throws when cancelled meanwhile).
    public func pause(after error: any Error, attempt: Int, what: String) async throws {
        let delay = backoff.delay(afterFailures: attempt)
        TransientRetry.logger.warning(
            "\(what): \(error) — retrying in \(delay.formattedSeconds) (retry \(attempt) of \(maxRetries))")
        try await Task.sleep(for: delay)
    }

    static let logger = Logger(label: "syncctl.retry")
}
