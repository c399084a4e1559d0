import Testing

/// MongoDB keeps one `failCommand` failpoint per server: a test that sets one replaces any
/// other test's. Tests that configure failpoints take this trait, so they run one at a time
/// while every other test still runs in parallel. (`appName` filtering keeps a failpoint from
/// hitting other tests' connections; this keeps tests from overwriting each other's.)
public struct ExclusiveFailPoints: TestTrait, TestScoping {
    public func provideScope(
        for test: Test, testCase: Test.Case?, performing function: @Sendable () async throws -> Void
    ) async throws {
        await FailPointGate.shared.enter()
        do {
            try await function()
        } catch {
            await FailPointGate.shared.leave()
            throw error
        }
        await FailPointGate.shared.leave()
    }
}

extension Trait where Self == ExclusiveFailPoints {
    /// Run this test alone among the tests that set failpoints.
    public static var exclusiveFailPoints: Self { ExclusiveFailPoints() }
}

/// A first-come, first-served async lock.
actor FailPointGate {
    static let shared = FailPointGate()
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func leave() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}
