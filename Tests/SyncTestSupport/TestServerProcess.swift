import Foundation

/// One extra test server started by a test that needs a server behaving a particular way
/// (e.g. reporting an old version). Needs the project's test server: TESTSERVER_PYTHON (set
/// by `make test`) names the virtualenv's python. Tests using it are skipped without it.
public final class TestServerProcess: @unchecked Sendable {
    public static let python = ProcessInfo.processInfo.environment["TESTSERVER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 }
    public static var available: Bool { python != nil }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("TestServer/server.py").path

    private let process: Process
    public let port: Int
    public var uri: String { "mongodb://127.0.0.1:\(port)" }

    /// Starts a server with extra arguments (e.g. ["--version", "4.2.0"]) and waits for its port.
    public init(arguments: [String] = []) throws {
        guard let python = TestServerProcess.python else {
            throw TestServerError("TESTSERVER_PYTHON is not set")
        }
        process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [TestServerProcess.script, "--port", "0"] + arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The server prints exactly one line: "listening on 127.0.0.1:PORT".
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let port = text.split(separator: ":").last.flatMap({ Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }) else {
            process.terminate()
            throw TestServerError("the test server did not report its port: \(text)")
        }
        self.port = port
    }

    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        // Poll rather than waitUntilExit(): that spins a run loop, which never returns when
        // called from a Swift concurrency thread.
        for _ in 0..<200 where process.isRunning {
            usleep(25_000)
        }
    }

    deinit { stop() }
}

public struct TestServerError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
