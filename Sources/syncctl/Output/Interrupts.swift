import Dispatch
import Foundation
import SyncCore
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Ctrl-C and `kill` for long-running commands (mongo-tools' signal handling): the first
/// SIGINT or SIGTERM cancels the run's task — it stops at the next safe point, keeps its saved
/// state, and the command exits 130 — and a second one exits 130 at once (the state saved at
/// the last checkpoint is still valid).
enum Interrupts {
    /// Runs `body` as a task that SIGINT/SIGTERM cancel; restores the default handlers after.
    static func run<T: Sendable>(console: Console, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let task = Task { try await body() }
        let watcher = SignalWatcher(signals: [SIGINT, SIGTERM]) { count in
            if count == 1 {
                console.message("syncctl: interrupted — stopping at the next safe point and saving state (again to stop at once)")
                task.cancel()
            } else {
                _exit(130)
            }
        }
        defer { watcher.stop() }
        return try await withTaskCancellationHandler {
            try await task.value
        } onCancel: {
            task.cancel()
        }
    }
}

/// Turns signals into calls of `handler` with how many have arrived so far.
final class SignalWatcher: @unchecked Sendable {
    // Invariant: both properties are set once in init; dispatch sources are thread-safe.
    private let sources: [any DispatchSourceSignal]
    private let signals: [Int32]

    init(signals: [Int32], handler: @escaping @Sendable (Int) -> Void) {
        self.signals = signals
        let count = Mutex(0)
        let queue = DispatchQueue(label: "syncctl.signals")
        sources = signals.map { number in
            // Ignored at the process level so the default action (terminate) never runs;
            // the dispatch source still sees the signal.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: queue)
            source.setEventHandler {
                let seen = count.withLock { value -> Int in
                    value += 1
                    return value
                }
                handler(seen)
            }
            source.resume()
            return source
        }
    }

    func stop() {
        for source in sources { source.cancel() }
        for number in signals { signal(number, SIG_DFL) }
    }
}

extension Interrupts {
    /// A long job's frame: the progress display (on a terminal only) while `body` runs as a task
    /// Ctrl-C can interrupt; the display is erased before the result is printed.
    static func runShowingProgress<T: Sendable>(
        console: Console, lines: @escaping @Sendable () -> [String], _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let display = ProgressDisplay(console: console, render: lines)
        display.start()
        defer { display.stop() }
        return try await run(console: console, body)
    }
}

extension ExitStatus {
    /// The documented exit code of a command that ends with `error`.
    init(error: any Error) {
        self = switch error {
        case let classified as any ClassifiedError: ExitStatus(classified.kind)
        case is CancellationError: .interrupted
        case is CommandLineError: .usage
        default: .failure
        }
    }
}
