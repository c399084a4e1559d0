import Foundation

/// Signals a child process at the moment a condition about its progress becomes true.
/// The condition is polled on a thread of its own, not in a task: tests share two cooperative
/// threads with tests that block them (running a child process synchronously), and a starved
/// poll would let the child finish before its progress is seen.
public enum SignalOnProgress {
    /// Sends `signal` to `process` as soon as `condition()` holds; false if the process
    /// ended (or `timeout` passed) first.
    public static func send(
        _ signal: Int32, to process: Process, timeout: TimeInterval = 120, when condition: @escaping @Sendable () -> Bool
    ) async -> Bool {
        await withCheckedContinuation { continuation in
            Thread.detachNewThread {
                let deadline = Date().addingTimeInterval(timeout)
                while process.isRunning && Date() < deadline {
                    if condition() {
                        kill(process.processIdentifier, signal)
                        continuation.resume(returning: true)
                        return
                    }
                    usleep(1_000)
                }
                continuation.resume(returning: false)
            }
        }
    }
}
