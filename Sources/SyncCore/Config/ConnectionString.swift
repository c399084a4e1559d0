internal import CLibMongoC

/// A MongoDB connection string that libmongoc accepted, with the parts syncctl needs as Swift
/// values. The `mongoc_uri_t` lives only while parsing, so the value is plainly `Sendable`.
///
/// `description`, `debugDescription` and the reflection mirror show only the redacted form, so
/// neither string interpolation nor `dump` can print the password by accident.
public struct ConnectionString: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// The string exactly as given, `mongodb+srv://` and TLS options included: the pool is built
    /// from it. Contains the password; show `redacted` instead.
    public let uri: String
    /// The database named in the path (`/bomba`), if any.
    public let database: String?
    /// `host:port` for each seed host (`[::1]:27017` for IPv6), or the single SRV host name for
    /// `mongodb+srv://`, which is only resolved when connecting.
    public let hosts: [String]
    /// Whether this is a `mongodb+srv://` string.
    public let isSRV: Bool
    /// The user name, percent-decoded, if the string has one.
    public let username: String?
    /// Whether the string carries a password (possibly empty).
    public let hasPassword: Bool
    /// The string with its password and password-like options replaced by `***`.
    public let redacted: String

    /// Parses and validates `uri` with libmongoc.
    ///
    /// - Throws: `ConfigError` (`.configuration`) naming the redacted string and libmongoc's reason.
    public init(_ uri: String) throws(ConfigError) {
        switch Self.parse(uri) {
        case .success(let parsed):
            self = parsed
        case .failure(let failure):
            throw ConfigError(
                .configuration, "\"\(URIRedactor.redact(uri))\" is not a valid MongoDB connection string: \(failure.reason)")
        }
    }

    private init(uri: String, database: String?, hosts: [String], isSRV: Bool, username: String?, hasPassword: Bool) {
        self.uri = uri
        self.database = database
        self.hosts = hosts
        self.isSRV = isSRV
        self.username = username
        self.hasPassword = hasPassword
        self.redacted = URIRedactor.redact(uri)
    }

    /// The redacted string.
    public var description: String { redacted }
    /// The redacted string.
    public var debugDescription: String { "ConnectionString(\(redacted))" }
    /// Only what is safe to show.
    public var customMirror: Mirror {
        Mirror(self, children: ["redacted": redacted, "database": database as Any, "hosts": hosts])
    }

    /// Why a string was rejected; the reason never contains the string's secrets.
    struct Invalid: Error {
        let reason: String
    }

    /// Parses without wrapping the reason, so `Settings` can phrase the error around the setting.
    static func parse(_ uri: String) -> Result<ConnectionString, Invalid> {
        if uri.isEmpty {
            return .failure(Invalid(reason: "it is empty"))
        }
        // C sees only the part before a NUL; the rest would be silently ignored.
        if uri.utf8.contains(0) {
            return .failure(Invalid(reason: "it contains a NUL character"))
        }
        // Parsing needs no driver initialisation, but libmongoc logs warnings while parsing
        // ("Unsupported URI option"), and only after this are they routed through our logging
        // (and its secret scrubbing) instead of being printed to stderr.
        MongoRuntime.initialize()
        var error = bson_error_t()
        guard let handle = mongoc_uri_new_with_error(uri, &error) else {
            let message = withUnsafePointer(to: &error) { String(cString: syncctl_error_message($0)) }
            return .failure(Invalid(reason: scrubbedDriverMessage(message, uri: uri)))
        }
        defer { mongoc_uri_destroy(handle) }

        let srvHost = mongoc_uri_get_srv_hostname(handle).map { String(cString: $0) }
        var hosts: [String] = []
        if let srvHost {
            hosts = [srvHost]
        } else {
            var node = mongoc_uri_get_hosts(handle)
            while let host = node {
                hosts.append(hostAndPort(host.pointee))
                node = UnsafePointer(host.pointee.next)
            }
        }
        // libmongoc ends the user information at the FIRST `@`, so a password with a raw `@` is
        // accepted and its tail becomes a host name that would then appear in every error message.
        if hosts.contains(where: { $0.contains("@") }) {
            return .failure(Invalid(reason:
                "the user name or password contains a raw \"@\": percent-encode it (\"@\" as %40, \":\" as %3A, \"/\" as %2F)"))
        }
        return .success(ConnectionString(
            uri: uri,
            database: mongoc_uri_get_database(handle).map { String(cString: $0) },
            hosts: hosts,
            isSRV: srvHost != nil,
            username: mongoc_uri_get_username(handle).map { String(cString: $0) },
            hasPassword: mongoc_uri_get_password(handle) != nil))
    }

    /// `host_and_port` is a fixed-size C array, imported as a tuple; read it up to its NUL.
    private static func hostAndPort(_ host: mongoc_host_list_t) -> String {
        withUnsafeBytes(of: host.host_and_port) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }

    /// libmongoc's messages can quote the password ("Password "…" must not have unescaped chars")
    /// or an option's value, and it splits the user information at a different `@` than we do, so
    /// every way of reading the password is scrubbed from the message.
    private static func scrubbedDriverMessage(_ message: String, uri: String) -> String {
        let scrubber = SecretScrubber()
        scrubber.register(uri: uri)
        for candidate in URIParts.passwordCandidates(in: uri) {
            scrubber.register(candidate)
            if let decoded = candidate.removingPercentEncodingLeniently() {
                scrubber.register(decoded)
            }
        }
        return scrubber.scrub(message)
    }
}
