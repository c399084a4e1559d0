// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "syncctl",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "syncctl", targets: ["syncctl"]),
        .library(name: "SyncCore", targets: ["SyncCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        // Tests only: Examples/prometheus alert rules are parsed as YAML.
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        // Latency percentiles (replay sync time, perf-test, resilience-test).
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        // SHA-256 of backup files (and SHA-1 for mongodump's long-collection-name rule).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        // libmongoc/libbson from the system (Debian: libmongoc-dev, libbson-dev).
        .systemLibrary(
            name: "CLibMongoC",
            pkgConfig: "libmongoc-1.0",
            providers: [.apt(["libmongoc-dev", "libbson-dev"])]
        ),
        // zlib from the system (libmongoc-dev already depends on zlib1g-dev): gzip backups.
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // The library: no printing, no exit codes, no argument parsing.
        .target(
            name: "SyncCore",
            dependencies: [
                "CLibMongoC",
                "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]
        ),
        // The thin executable: one file per subcommand.
        .executableTarget(
            name: "syncctl",
            dependencies: [
                "SyncCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            // The checklists are compiled into the binary (`syncctl checklist` needs no other file);
            // Checklists/*.md stay the only copy. A new checklist file needs a line here.
            resources: [
                .embedInCode("../../Checklists/pre-deployment.md"),
                .embedInCode("../../Checklists/phase1.md"),
                .embedInCode("../../Checklists/phase2.md"),
                .embedInCode("../../Checklists/phase3.md"),
                .embedInCode("../../Checklists/post-deployment.md"),
                .embedInCode("../../Checklists/rollback.md"),
            ]
        ),
        // `make bench`: throughput and memory figures against two servers.
        .executableTarget(
            name: "syncctl-bench",
            dependencies: ["SyncCore"]
        ),
        // Samples and server helpers shared by the test targets.
        .target(name: "SyncTestSupport", dependencies: ["SyncCore"], path: "Tests/SyncTestSupport"),
        .testTarget(
            name: "SyncCoreTests",
            dependencies: ["SyncCore", "SyncTestSupport", .product(name: "Yams", package: "Yams")]),
        .testTarget(name: "IntegrationTests", dependencies: ["SyncCore", "SyncTestSupport"]),
        .testTarget(name: "syncctlTests", dependencies: ["syncctl", "SyncTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
