import Foundation
import Testing

@testable import SyncCore

#if canImport(Glibc)
    import Glibc
#endif

struct MongoRuntimeTests {
    /// Only the segments of processes that no longer exist go; everything else stays.
    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/proc/self")))
    func staleCounterSegmentsOfDeadProcessesAreRemoved() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("syncctl-shm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let finished = Process()
        finished.executableURL = URL(fileURLWithPath: "/bin/true")
        try finished.run()
        finished.waitUntilExit()
        let dead = finished.processIdentifier
        let names = ["mongoc-\(dead)", "mongoc-\(getpid())", "mongoc-1", "mongoc-x", "other-\(dead)"]
        for name in names {
            #expect(FileManager.default.createFile(atPath: "\(directory)/\(name)", contents: Data([0])))
        }

        MongoRuntime.removeStaleCounterSegments(in: directory)

        let left = Set(try FileManager.default.contentsOfDirectory(atPath: directory))
        #expect(left == Set(names.dropFirst()), "only the dead process's segment goes")
    }
}
