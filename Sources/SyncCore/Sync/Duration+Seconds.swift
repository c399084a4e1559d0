extension Duration {
    /// The duration in seconds, as a Double (for reports and rates).
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }

    /// "1.5s", "2s": for log lines.
    var formattedSeconds: String {
        let value = (seconds * 10).rounded() / 10
        return value == value.rounded() ? "\(Int(value))s" : "\(value)s"
    }
}
