/// How long to wait before trying again: exponential, from `initial`, doubling, capped at
/// `maximum`. Shared by the replay worker and full-sync's `TransientRetry`.
public struct RetryPolicy: Sendable {
    public var initial: Duration
    public var maximum: Duration

    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(5)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// The wait after `failures` (≥ 1) failures in a row.
    public func delay(afterFailures failures: Int) -> Duration {
        let factor = 1 << min(max(failures - 1, 0), 20)
        return min(initial * factor, maximum)
    }
}
