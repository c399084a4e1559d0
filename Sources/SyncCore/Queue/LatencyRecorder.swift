import Histogram

/// Latency figures in milliseconds: the exact average, and percentiles from an HdrHistogram
/// (three significant digits).
public struct LatencySummary: Sendable, Codable, Equatable {
    public var count: Int
    public var average: Double
    public var p50: Double
    public var p95: Double
    public var p99: Double
    public var max: Double

    public init(count: Int, average: Double, p50: Double, p95: Double, p99: Double, max: Double) {
        self.count = count
        self.average = average
        self.p50 = p50
        self.p95 = p95
        self.p99 = p99
        self.max = max
    }
}

/// Collects latencies (microsecond resolution, up to an hour) for a `LatencySummary`.
public struct LatencyRecorder: Sendable {
    private static let ceiling: UInt64 = 3_600_000_000
    private var histogram = Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: ceiling,
                                              numberOfSignificantValueDigits: .three)
    private var totalMicros: Double = 0
    public private(set) var count = 0

    public init() {}

    public mutating func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let micros = Double(seconds) * 1e6 + Double(attoseconds) / 1e12
        recordMicros(micros)
    }

    public mutating func record(milliseconds: Double) {
        recordMicros(milliseconds * 1000)
    }

    private mutating func recordMicros(_ micros: Double) {
        let clamped = Swift.min(Swift.max(micros, 0), Double(LatencyRecorder.ceiling))
        _ = histogram.record(UInt64(clamped.rounded()))
        totalMicros += clamped
        count += 1
    }

    public mutating func add(_ other: LatencyRecorder) {
        histogram.add(other.histogram)
        totalMicros += other.totalMicros
        count += other.count
    }

    /// The figures, or nil when nothing was recorded.
    public var summary: LatencySummary? {
        guard count > 0 else { return nil }
        func ms(_ micros: UInt64) -> Double { Double(micros) / 1000 }
        return LatencySummary(
            count: count, average: totalMicros / Double(count) / 1000,
            p50: ms(histogram.valueAtPercentile(50)), p95: ms(histogram.valueAtPercentile(95)),
            p99: ms(histogram.valueAtPercentile(99)), max: ms(histogram.max))
    }
}
