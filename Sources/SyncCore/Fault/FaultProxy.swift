import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A TCP proxy on loopback that can be told to misbehave, put between syncctl and a server
/// by resilience-test. Plain sockets and one thread per connection: the traffic is a test's.
///
/// - `forward`: relays bytes both ways.
/// - `refuse`: the listening socket is closed (new connections are refused) and every open
///   connection is reset — the server is down.
/// - `hang`: connections are accepted and never answered; open ones stop relaying — the
///   server is up at the TCP level but silent. Leaving `hang` resets those connections, so
///   clients reconnect instead of reading a stale reply.
public final class FaultProxy: Sendable {
    public enum Mode: String, Sendable, Codable {
        case forward, refuse, hang
    }

    /// The loopback port to connect to instead of the server.
    public let port: UInt16
    public let targetHost: String
    public let targetPort: UInt16

    private struct Shared {
        var mode = Mode.forward
        /// Bumped by every `set`; threads report the generation they have acted on.
        var generation = 0
        var stopped = false
        var listenerSeen = 0
        var listenerRunning = true
        /// Open connections and the generation each has acted on.
        var connections: [Int: Int] = [:]
        var nextConnection = 0
        var accepted = 0
    }

    private let shared = Mutex(Shared())

    /// Starts listening on 127.0.0.1 (a free port) and relaying to `targetHost:targetPort`.
    public init(targetHost: String, targetPort: UInt16) throws(StateError) {
        self.targetHost = targetHost
        self.targetPort = targetPort
        let (fd, port) = try FaultProxy.listen(port: 0)
        self.port = port
        let thread = Thread { [self] in self.acceptLoop(listening: fd) }
        thread.name = "fault-proxy-listener"
        thread.start()
    }

    /// The current mode.
    public var mode: Mode { shared.withLock { $0.mode } }

    /// Connections accepted so far.
    public var acceptedConnections: Int { shared.withLock { $0.accepted } }

    /// Switches mode and returns once the listener and every open connection act on it.
    public func set(_ mode: Mode) {
        let generation = shared.withLock { state -> Int in
            state.mode = mode
            state.generation += 1
            return state.generation
        }
        waitUntilSeen(generation)
    }

    /// Stops the proxy: closes the listener and resets every connection.
    public func stop() {
        let generation = shared.withLock { state -> Int in
            state.stopped = true
            state.generation += 1
            return state.generation
        }
        waitUntilSeen(generation)
    }

    private func waitUntilSeen(_ generation: Int) {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            let done = shared.withLock { state in
                (state.listenerSeen >= generation || !state.listenerRunning) && state.connections.values.allSatisfy { $0 >= generation }
            }
            if done { return }
            usleep(2_000)
        }
    }

    deinit { stop() }

    // MARK: Listener

    private func acceptLoop(listening initial: Int32) {
        var listener: Int32? = initial
        while true {
            let (mode, generation, stopped) = shared.withLock { ($0.mode, $0.generation, $0.stopped) }
            if stopped || mode == .refuse, let fd = listener {
                close(fd)
                listener = nil
            }
            if stopped {
                shared.withLock {
                    $0.listenerSeen = generation
                    $0.listenerRunning = false
                }
                return
            }
            if mode != .refuse && listener == nil {
                // Listen again on the same port; retried until it is free.
                listener = try? FaultProxy.listen(port: port).fd
            }
            shared.withLock { $0.listenerSeen = generation }
            guard let fd = listener else {
                usleep(10_000)
                continue
            }
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 20) > 0 else { continue }
            let client = accept(fd, nil, nil)
            guard client >= 0 else { continue }
            let id = shared.withLock { state -> Int in
                state.nextConnection += 1
                state.accepted += 1
                state.connections[state.nextConnection] = generation
                return state.nextConnection
            }
            let thread = Thread { [self] in self.relay(client: client, id: id, acceptedIn: mode) }
            thread.name = "fault-proxy-\(id)"
            thread.start()
        }
    }

    // MARK: Connections

    private func relay(client: Int32, id: Int, acceptedIn mode: Mode) {
        var upstream: Int32?
        var hung = mode == .hang
        if !hung {
            upstream = FaultProxy.connect(host: targetHost, port: targetPort)
            if upstream == nil {
                // The server itself is down: the client sees its connection reset.
                finish(id: id, client: client, upstream: nil)
                return
            }
        }
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let (mode, generation, stopped) = shared.withLock { ($0.mode, $0.generation, $0.stopped) }
            if stopped || mode == .refuse || (mode == .forward && hung) {
                finish(id: id, client: client, upstream: upstream)
                return
            }
            shared.withLock { $0.connections[id] = generation }
            if mode == .hang {
                hung = true
                usleep(10_000)
                continue
            }
            guard let server = upstream else { continue }
            var fds = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: server, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 20) > 0 else { continue }
            for (index, entry) in fds.enumerated() where entry.revents != 0 {
                let from = index == 0 ? client : server
                let to = index == 0 ? server : client
                let count = buffer.withUnsafeMutableBytes { recv(from, $0.baseAddress, $0.count, 0) }
                if count <= 0 || !FaultProxy.sendAll(buffer, count: count, to: to) {
                    // One side closed: close both, as a server closing its socket would.
                    close(client)
                    close(server)
                    shared.withLock { _ = $0.connections.removeValue(forKey: id) }
                    return
                }
            }
        }
    }

    private func finish(id: Int, client: Int32, upstream: Int32?) {
        FaultProxy.reset(client)
        if let upstream { FaultProxy.reset(upstream) }
        shared.withLock { _ = $0.connections.removeValue(forKey: id) }
    }

    // MARK: Sockets

    private static func listen(port: UInt16) throws(StateError) -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw StateError(.unexpected, "fault proxy: cannot create a socket: \(String(cString: strerror(errno)))") }
        var yes: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = port.bigEndian
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) }
        }
        guard bound == 0, Glibc.listen(fd, 128) == 0 else {
            let reason = String(cString: strerror(errno))
            close(fd)
            throw StateError(.unexpected, "fault proxy: cannot listen on 127.0.0.1:\(port): \(reason)")
        }
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        return (fd, UInt16(bigEndian: address.sin_port))
    }

    private static func connect(host: String, port: UInt16) -> Int32? {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(list) }
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            let fd = socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
            if fd >= 0 {
                if Glibc.connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 {
                    var yes: Int32 = 1
                    setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &yes, socklen_t(MemoryLayout<Int32>.size))
                    return fd
                }
                close(fd)
            }
            candidate = info.pointee.ai_next
        }
        return nil
    }

    private static func sendAll(_ buffer: [UInt8], count: Int, to fd: Int32) -> Bool {
        var sent = 0
        while sent < count {
            let n = buffer.withUnsafeBytes { send(fd, $0.baseAddress! + sent, count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            sent += n
        }
        return true
    }

    /// Closes with a reset (RST) instead of an orderly FIN: the peer's next read fails at once.
    private static func reset(_ fd: Int32) {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        close(fd)
    }
}
