/// How to reach a server through a `FaultProxy`: which host the proxy forwards to, and the
/// connection string a client uses to go through it instead.
public struct ProxyRoute: Sendable {
    public let host: String
    public let port: UInt16

    /// The server to forward to: the replica set's primary as `hello` names it (Atlas, and
    /// any replica set: writes must reach the primary), else the standalone's own address.
    public init(hello: BSONDocument, connection: ConnectionString) throws(ConfigError) {
        let address = hello["primary"]?.stringValue ?? hello["me"]?.stringValue ?? (connection.isSRV ? nil : connection.hosts.first)
        guard let address, let parsed = ProxyRoute.split(address) else {
            throw ConfigError(.configuration, "cannot tell which server of \(connection.redacted) takes writes (hello names no primary)")
        }
        (host, port) = parsed
    }

    /// `host:port` or `[v6]:port` (default port 27017).
    static func split(_ address: String) -> (String, UInt16)? {
        var host = address
        var port: UInt16 = 27017
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            host = String(address[address.index(after: address.startIndex)..<close])
            let rest = address[address.index(after: close)...]
            if rest.hasPrefix(":") {
                guard let value = UInt16(rest.dropFirst()) else { return nil }
                port = value
            }
        } else if let colon = address.lastIndex(of: ":") {
            host = String(address[..<colon])
            guard let value = UInt16(address[address.index(after: colon)...]) else { return nil }
            port = value
        }
        return host.isEmpty ? nil : (host, port)
    }

    /// `connection` rewritten to reach its server through a proxy on 127.0.0.1:`proxyPort`:
    /// the same user, password, database and options, one host, `directConnection=true` (the
    /// driver must not discover the other members and bypass the proxy). A `mongodb+srv://`
    /// string becomes `mongodb://` with what SRV implies spelled out (`tls=true`,
    /// `authSource=admin`). With TLS, the server's certificate names the real host, not
    /// 127.0.0.1, so host-name checking is relaxed for this loopback connection only.
    public static func proxiedURI(_ connection: ConnectionString, proxyPort: UInt16) -> String {
        let uri = connection.uri
        guard let schemeEnd = uri.range(of: "://") else { return uri }
        let rest = uri[schemeEnd.upperBound...]
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        let userInfo = authority.lastIndex(of: "@").map { String(authority[...$0]) } ?? ""
        let tail = rest[authorityEnd...]
        let queryStart = tail.firstIndex(of: "?")
        let path = queryStart.map { String(tail[..<$0]) } ?? String(tail)
        let query = queryStart.map { String(tail[tail.index(after: $0)...]) } ?? ""

        let dropped: Set<String> = ["replicaset", "directconnection", "loadbalanced", "srvservicename", "srvmaxhosts"]
        var options = query.split(whereSeparator: { $0 == "&" || $0 == ";" }).map(String.init).filter { option in
            let key = option.split(separator: "=", maxSplits: 1).first.map { $0.lowercased() } ?? ""
            return !dropped.contains(key)
        }
        func value(_ key: String) -> String? {
            options.first { $0.lowercased().hasPrefix(key.lowercased() + "=") }.map { String($0.split(separator: "=", maxSplits: 1).last ?? "") }
        }
        let tlsSetting = value("tls") ?? value("ssl")
        let tls = tlsSetting.map { $0.lowercased() == "true" } ?? connection.isSRV
        if connection.isSRV && tlsSetting == nil { options.append("tls=true") }
        if connection.isSRV && value("authSource") == nil { options.append("authSource=admin") }
        if tls && value("tlsInsecure") == nil && value("tlsAllowInvalidHostnames") == nil {
            options.append("tlsAllowInvalidHostnames=true")
        }
        options.append("directConnection=true")
        let database = path.isEmpty ? "/" : path
        return "mongodb://\(userInfo)127.0.0.1:\(proxyPort)\(database)?\(options.joined(separator: "&"))"
    }
}
