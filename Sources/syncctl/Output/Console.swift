import Foundation
import SyncCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where a command's output goes. Results go to stdout, messages to stderr; every byte
/// passes the secret scrubber first, so no password reaches a terminal, a log or a cron mail.
/// With `--quiet`, output is held back and printed only if the command does not succeed.
final class Console: @unchecked Sendable {
    // Invariant: `held` is touched only under `lock`; commands print from one task at a
    // time, but progress and logs may come from others.
    private let lock = NSLock()
    private var held: [(toStderr: Bool, text: String)] = []

    let json: Bool
    let quiet: Bool
    /// ANSI colour on stdout.
    let color: Bool
    /// True when stderr is a terminal (progress bars go there only then).
    let interactive: Bool

    init(options: GlobalOptions, environment: [String: String] = ProcessInfo.processInfo.environment) {
        json = options.json
        quiet = options.quiet
        let noColor = options.noColor || environment["NO_COLOR"].map { !$0.isEmpty } == true || environment["TERM"] == "dumb"
        color = !noColor && isatty(STDOUT_FILENO) == 1
        interactive = isatty(STDERR_FILENO) == 1 && isatty(STDIN_FILENO) == 1
    }

    /// A line of the result on stdout.
    func print(_ text: String = "") {
        emit(text + "\n", toStderr: false)
    }

    /// A message for the operator on stderr.
    func message(_ text: String) {
        emit(text + "\n", toStderr: true)
    }

    /// One JSON document on stdout.
    func printJSON<T: Encodable>(_ value: T) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        let data = (try? encoder.encode(value)) ?? Data("{\"error\": \"cannot encode the result\"}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }

    /// Ends the command: with `--quiet`, held output is printed only when it failed.
    func finish(success: Bool) {
        let pending = lock.withLock {
            defer { held.removeAll() }
            return held
        }
        guard !success else { return }
        for item in pending { write(item.text, toStderr: item.toStderr) }
    }

    private func emit(_ text: String, toStderr: Bool) {
        let clean = SecretScrubber.shared.scrub(text)
        if quiet {
            lock.withLock { held.append((toStderr, clean)) }
        } else {
            write(clean, toStderr: toStderr)
        }
    }

    private func write(_ text: String, toStderr: Bool) {
        let handle = toStderr ? FileHandle.standardError : FileHandle.standardOutput
        handle.write(Data(text.utf8))
    }

    // MARK: Styling

    enum Style: String {
        case green = "32", red = "31", yellow = "33", dim = "2", bold = "1"
    }

    func styled(_ text: String, _ style: Style) -> String {
        color ? "\u{1B}[\(style.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// ✓ ✗ ! – for pass, fail, warn, skip: the checklist's marks.
    func mark(_ result: CheckResult) -> String {
        switch result {
        case .pass: styled("✓", .green)
        case .fail: styled("✗", .red)
        case .warn: styled("!", .yellow)
        case .skip: styled("-", .dim)
        }
    }
}
