import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loopback endpoints that misbehave on purpose: a port nobody listens on (refused) and a
/// listener that accepts connections at the TCP level but never answers (hangs).
public enum FaultyEndpoints {
    /// A loopback port that was free a moment ago and now refuses connections.
    public static func closedPort() -> UInt16 {
        let listener = HangingListener()
        let port = listener.port
        listener.close()
        return port
    }
}

/// A socket that listens and never accepts: the kernel completes the TCP handshake (up to
/// the backlog), so a client connects and then waits forever for a reply.
public final class HangingListener: @unchecked Sendable {
    private var descriptor: Int32
    public let port: UInt16

    public init() {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) }
        }
        listen(descriptor, 64)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    /// Whether a client has connected (a connection waits in the backlog): proof that
    /// something tried to reach this "server".
    public var hasPendingConnection: Bool {
        var poller = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        return poll(&poller, 1, 0) > 0
    }

    public func close() {
        if descriptor >= 0 {
            Glibc.close(descriptor)
            descriptor = -1
        }
    }

    deinit { close() }
}
