import Foundation
import SyncCore

/// A live status of a few lines on stderr, redrawn in place twice a second — only when stderr
/// is a terminal, and never with `--json` or `--quiet` (cron mails and pipes get no escape
/// codes). `render` is called on each redraw and returns the lines to show.
final class ProgressDisplay: @unchecked Sendable {
    // Invariant: `drawn` and `task` are touched only under `lock`.
    private let lock = NSLock()
    private var drawn = 0
    private var task: Task<Void, Never>?
    private let enabled: Bool
    private let interval: Duration
    private let render: @Sendable () -> [String]

    init(console: Console, interval: Duration = .milliseconds(500), render: @escaping @Sendable () -> [String]) {
        enabled = console.interactive && !console.json && !console.quiet
        self.interval = interval
        self.render = render
    }

    func start() {
        guard enabled else { return }
        lock.withLock {
            task = Task { [weak self] in
                while !Task.isCancelled {
                    self?.draw()
                    try? await Task.sleep(for: self?.interval ?? .seconds(1))
                }
            }
        }
    }

    /// Stops redrawing and erases the status, leaving the screen to the report.
    func stop() {
        let running = lock.withLock { () -> Task<Void, Never>? in
            defer { task = nil }
            return task
        }
        guard let running else { return }
        running.cancel()
        lock.withLock {
            if drawn > 0 { write("\u{1B}[\(drawn)A\r\u{1B}[J") }
            drawn = 0
        }
    }

    private func draw() {
        let lines = render()
        lock.withLock {
            var text = drawn > 0 ? "\u{1B}[\(drawn)A" : ""
            for line in lines { text += "\r\u{1B}[2K" + line + "\n" }
            if lines.count < drawn { text += "\u{1B}[J" }
            write(text)
            drawn = lines.count
        }
    }

    private func write(_ text: String) {
        FileHandle.standardError.write(Data(SecretScrubber.shared.scrub(text).utf8))
    }
}

/// The usual progress line: `name  12,345 / 50,000 (24%)  3,210/s  ETA 12s`.
enum ProgressLine {
    static func format(name: String, width: Int, done: Int, total: Int, seconds: Double, finished: Bool, unit: String = "docs")
        -> String
    {
        let padded = name.padding(toLength: max(width, name.count), withPad: " ", startingAt: 0)
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var line = "\(padded)  \(Counting.format(done))"
        if total > 0 {
            line += " / \(Counting.format(total)) (\(min(100, done * 100 / max(total, 1)))%)"
        }
        line += "  \(Counting.format(Int(rate))) \(unit)/s"
        if finished {
            line += "  done"
        } else if rate > 0 && total > done {
            line += "  ETA \(Counting.duration(Double(total - done) / rate))"
        }
        return line
    }
}

/// Numbers and durations for people.
enum Counting {
    /// 12345 → "12,345"
    static func format(_ value: Int) -> String {
        let digits = String(abs(value))
        var grouped = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(character)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// 75 → "1m15s"
    static func duration(_ seconds: Double) -> String {
        if seconds < 60 { return "\(Int(seconds.rounded(.up)))s" }
        let total = Int(seconds)
        if total < 3600 { return "\(total / 60)m\(String(format: "%02d", total % 60))s" }
        return "\(total / 3600)h\(String(format: "%02d", total % 3600 / 60))m"
    }

    /// (1, "document") → "1 document"; (3, "document") → "3 documents"
    static func plural(_ count: Int, _ noun: String) -> String {
        "\(format(count)) \(noun)\(count == 1 ? "" : "s")"
    }

    /// 0.4567 → "0.5"
    static func seconds(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
