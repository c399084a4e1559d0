import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// What the benchmarks share: measured runs in child processes of their own, their peak RSS,
/// and the Markdown tables they print.
enum BenchSupport {
    /// Runs this binary again as `syncctl-bench <benchmark>` with `environment` added (the
    /// child reads which phase to run from it) and returns the fields of the `RESULT …` line
    /// it prints. Polled: waitUntilExit() runs a run loop that an async context never drains.
    static func runChild(_ benchmark: String, environment added: [String: String], what: String) throws -> [String] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = [benchmark]
        process.environment = ProcessInfo.processInfo.environment.merging(added) { $1 }
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning { usleep(10_000) }
        let text = String(decoding: data, as: UTF8.self)
        guard process.terminationStatus == 0, let line = text.split(separator: "\n").first(where: { $0.hasPrefix("RESULT ") }) else {
            throw BenchError("the \(what) child failed (exit \(process.terminationStatus)): \(text)")
        }
        return line.split(separator: " ").dropFirst().map(String.init)
    }

    /// This process's peak resident set size in KiB: `VmHWM`, not `ru_maxrss`, which Linux
    /// carries over from the parent across fork and exec (so a child would report the bench's).
    static func peakResidentKiB() -> Int {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kib = line.split(whereSeparator: \.isWhitespace).dropFirst().first.flatMap({ Int($0) })
        {
            return kib
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }

    /// A Markdown table: the first row is the header.
    static func printTable(_ rows: [[String]]) {
        for (index, row) in rows.enumerated() {
            print("| " + row.joined(separator: " | ") + " |")
            if index == 0 { print("|" + String(repeating: " --- |", count: row.count)) }
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
