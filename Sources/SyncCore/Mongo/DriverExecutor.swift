import Foundation

/// Dedicated threads for blocking driver calls. libmongoc blocks its calling thread for the
/// whole network round trip; on Swift's cooperative pool (one thread per core) that would
/// starve every other task, so each blocking call hops onto one of these threads instead.
public final class DriverExecutor: @unchecked Sendable {
    // Invariant: `jobs` and `stopped` are read and written only while holding `condition`.
    private let condition = NSCondition()
    private var jobs: [@Sendable () -> Void] = []
    private var head = 0
    private var stopped = false

    /// Starts `threads` threads named after `name`.
    public init(threads: Int, name: String) {
        for index in 0..<max(1, threads) {
            let thread = Thread { [self] in self.work() }
            thread.name = "\(name)-\(index)"
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Runs `body` on a driver thread and returns its result to the awaiting task.
    public func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            enqueue { continuation.resume(with: Result { try body() }) }
        }
    }

    /// Stops the threads once the queued work is done. Work submitted afterwards still runs
    /// (on a short-lived thread), so no awaiting task is ever stranded.
    public func shutdown() {
        condition.lock()
        stopped = true
        condition.broadcast()
        condition.unlock()
    }

    private func enqueue(_ job: @escaping @Sendable () -> Void) {
        condition.lock()
        if stopped {
            condition.unlock()
            Thread.detachNewThread(job)
            return
        }
        jobs.append(job)
        condition.signal()
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == jobs.count && !stopped {
                condition.wait()
            }
            if head == jobs.count {
                condition.unlock()
                return
            }
            let job = jobs[head]
            // Drop the finished slot's closure now: it holds the job's captures (a whole bulk
            // batch, say) until the array is compacted otherwise.
            jobs[head] = {}
            head += 1
            if head > 1024 && head * 2 > jobs.count {
                jobs.removeFirst(head)
                head = 0
            }
            condition.unlock()
            job()
        }
    }
}
