import Foundation

// `make bench`: throughput and memory figures measured against the two servers the Makefile
// starts (SYNCCTL_TEST_LOCAL_URI / SYNCCTL_TEST_ATLAS_URI), each printed next to the raw rate
// it is bounded by, measured in the same run, as a ratio. Nothing here is asserted: the
// numbers are for people (and the README's table).
guard let local = ProcessInfo.processInfo.environment["SYNCCTL_TEST_LOCAL_URI"],
    let atlas = ProcessInfo.processInfo.environment["SYNCCTL_TEST_ATLAS_URI"]
else {
    FileHandle.standardError.write(Data("syncctl-bench: set SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI (make bench does)\n".utf8))
    exit(64)
}
let selected = Set(CommandLine.arguments.dropFirst())
let benchmarks: [(name: String, run: (String, String) async throws -> Void)] = [
    // Each capability registers its benchmark here: ("backup", BackupBenchmark.run), …
    ("backup", BackupBenchmark.run),
    ("sync", SyncBenchmark.run),
    ("replay", ReplayBenchmark.run),
]
print("syncctl benchmarks — \(ProcessInfo.processInfo.processorCount) cores, \(ProcessInfo.processInfo.physicalMemory >> 30) GiB, \(Date())")
for benchmark in benchmarks where selected.isEmpty || selected.contains(benchmark.name) {
    print("\n== \(benchmark.name)")
    try await benchmark.run(local, atlas)
}
