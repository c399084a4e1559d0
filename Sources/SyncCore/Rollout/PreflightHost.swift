import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// What preflight learns from the machine rather than from MongoDB. A protocol so tests can
/// stand in a machine with little disk or an old Node.js.
public protocol PreflightHost: Sendable {
    /// Free bytes available to us on the file system holding `path` (or its nearest existing
    /// parent, since the backup directory may not exist yet).
    func freeBytes(at path: String) -> Int64?
    /// The permission bits of a file, or nil if it cannot be read.
    func permissions(of path: String) -> UInt16?
    /// The full path of an executable found on PATH.
    func findExecutable(_ name: String) -> String?
    /// The first line a program prints, or nil if it cannot run.
    func firstLine(of executable: String, arguments: [String]) -> String?
    /// Newest backup under `directory`: its path and when it was written.
    func newestBackup(in directory: String) -> (path: String, date: Date)?
    var now: Date { get }
}

/// The real machine.
public struct SystemPreflightHost: PreflightHost {
    public init() {}

    public var now: Date { Date() }

    public func freeBytes(at path: String) -> Int64? {
        var candidate = URL(fileURLWithPath: path).standardizedFileURL
        while !FileManager.default.fileExists(atPath: candidate.path) && candidate.path != "/" {
            candidate.deleteLastPathComponent()
        }
        var stats = statvfs()
        guard statvfs(candidate.path, &stats) == 0 else { return nil }
        return Int64(stats.f_bavail) * Int64(stats.f_frsize)
    }

    public func permissions(of path: String) -> UInt16? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
            let mode = attributes[.posixPermissions] as? NSNumber
        else { return nil }
        return mode.uint16Value & 0o777
    }

    public func findExecutable(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    public func firstLine(of executable: String, arguments: [String]) -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init)
    }

    public func newestBackup(in directory: String) -> (path: String, date: Date)? {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else { return nil }
        var newest: (path: String, date: Date)?
        for name in names where !name.hasPrefix(".") {
            let path = "\(directory)/\(name)"
            // A finished backup: our manifest, or a mongodump layout (<db>/<coll>.bson[.gz]).
            guard isBackup(path), let date = newestModification(under: path) else { continue }
            if newest == nil || date > newest!.date { newest = (path, date) }
        }
        return newest
    }

    private func isBackup(_ path: String) -> Bool {
        let manager = FileManager.default
        if manager.fileExists(atPath: "\(path)/manifest.json") { return true }
        guard let databases = try? manager.contentsOfDirectory(atPath: path) else { return false }
        return databases.contains { database in
            let files = (try? manager.contentsOfDirectory(atPath: "\(path)/\(database)")) ?? []
            return files.contains { $0.hasSuffix(".bson") || $0.hasSuffix(".bson.gz") }
        }
    }

    private func newestModification(under path: String) -> Date? {
        let manager = FileManager.default
        var newest = (try? manager.attributesOfItem(atPath: path))?[.modificationDate] as? Date
        for file in manager.enumerator(atPath: path)?.compactMap({ $0 as? String }) ?? [] {
            if let date = (try? manager.attributesOfItem(atPath: "\(path)/\(file)"))?[.modificationDate] as? Date,
                newest == nil || date > newest!
            {
                newest = date
            }
        }
        return newest
    }
}
