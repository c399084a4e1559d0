import Foundation
import SyncCore

/// The two servers integration tests run against: the project's test servers under
/// `make test`, or real MongoDB when SYNCCTL_TEST_LOCAL_URI / SYNCCTL_TEST_ATLAS_URI point
/// at real deployments. Unset, the tests are skipped — except under CI=true, where
/// `serversAreConfiguredUnderCI` fails instead.
public enum TestServers {
    public static let environment = ProcessInfo.processInfo.environment
    public static let localURI = environment["SYNCCTL_TEST_LOCAL_URI"].flatMap { $0.isEmpty ? nil : $0 }
    public static let atlasURI = environment["SYNCCTL_TEST_ATLAS_URI"].flatMap { $0.isEmpty ? nil : $0 }
    public static let available = localURI != nil && atlasURI != nil
    public static let isCI = environment["CI"] == "true"

    /// A database name no other test uses.
    public static func uniqueDatabase(_ test: String) -> String {
        "syncctl_t_\(test.prefix(20))_\(UInt32.random(in: 0...UInt32.max))"
    }

    public static func connection(_ which: Which, appName: String = "syncctl-tests", timeoutMS: Int32? = nil) throws -> MongoConnection {
        var options = PoolOptions()
        options.appName = appName
        if let timeoutMS {
            options.serverSelectionTimeoutMS = timeoutMS
            options.connectTimeoutMS = timeoutMS
            options.overrideTimeouts = true
        }
        let uri = which == .local ? localURI! : atlasURI!
        return try MongoConnection(uri: uri, redactedURI: URIRedactor.redact(uri), name: which.rawValue, options: options)
    }

    public enum Which: String { case local, atlas }

    /// `mongodb://host:port/<database>` built from a server URI (keeps its options).
    public static func uri(_ which: Which, database: String) -> String {
        let base = which == .local ? localURI! : atlasURI!
        guard let schemeEnd = base.range(of: "://") else { return base }
        let rest = base[schemeEnd.upperBound...]
        let hostEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        let query = rest[hostEnd...].drop { $0 != "?" }
        return base[..<schemeEnd.upperBound] + rest[..<hostEnd] + "/" + database + query
    }
}

/// Runs `body` with a fresh database on the given server and drops it afterwards.
public func withScratchDatabase<T>(
    _ which: TestServers.Which, _ test: String, _ body: (MongoConnection, String) async throws -> T
) async throws -> T {
    let connection = try TestServers.connection(which)
    defer { connection.close() }
    let database = TestServers.uniqueDatabase(test)
    do {
        let result = try await body(connection, database)
        try? await connection.dropDatabase(database)
        return result
    } catch {
        try? await connection.dropDatabase(database)
        throw error
    }
}

