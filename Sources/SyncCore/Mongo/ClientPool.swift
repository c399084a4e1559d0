internal import CLibMongoC
import Synchronization

/// Connection settings syncctl applies on top of what the URI says.
public struct PoolOptions: Sendable {
    /// How long to wait for a usable server. A value in the URI wins over this default;
    /// an explicit override (`overrideTimeouts`) wins over the URI.
    public var serverSelectionTimeoutMS: Int32 = 5_000
    public var connectTimeoutMS: Int32 = 5_000
    /// How long one network read may block; nil leaves the driver's default (5 minutes),
    /// which long bulk writes need. Probes set it short.
    public var socketTimeoutMS: Int32?
    /// When true, the timeouts above replace any the URI sets.
    public var overrideTimeouts = false
    public var maxPoolSize: UInt32 = 16
    /// Sent in the handshake; servers log it, and failpoints can target it.
    public var appName = "syncctl"

    public init() {}
}

/// A libmongoc client pool: thread-safe, hands out one `mongoc_client_t` per unit of work.
/// Its lifecycle is explicit: `close()` destroys it once every client is back.
final class ClientPool: @unchecked Sendable {
    // mongoc_client_pool_t is documented thread-safe; `state` guards our own lifecycle.
    private let pool: OpaquePointer
    private let state = Mutex(State.open)

    private enum State { case open, closed }

    init(uri: String, options: PoolOptions) throws(MongoError) {
        MongoRuntime.initialize()
        var error = bson_error_t()
        guard let parsed = mongoc_uri_new_with_error(uri, &error) else {
            throw MongoError(kind: .configuration, reason: .invalidURI,
                             message: "invalid MongoDB URI: \(String(cString: syncctl_error_message(&error)))")
        }
        defer { mongoc_uri_destroy(parsed) }
        func set(_ key: String, _ value: Int32?) {
            guard let value, options.overrideTimeouts || !mongoc_uri_has_option(parsed, key) else { return }
            mongoc_uri_set_option_as_int32(parsed, key, value)
        }
        set(MONGOC_URI_SERVERSELECTIONTIMEOUTMS, options.serverSelectionTimeoutMS)
        set(MONGOC_URI_CONNECTTIMEOUTMS, options.connectTimeoutMS)
        set(MONGOC_URI_SOCKETTIMEOUTMS, options.socketTimeoutMS)
        if mongoc_uri_get_appname(parsed) == nil {
            mongoc_uri_set_appname(parsed, options.appName)
        }
        guard let pool = mongoc_client_pool_new_with_error(parsed, &error) else {
            throw MongoError(kind: .configuration, reason: .invalidURI,
                             message: "cannot use this MongoDB URI: \(String(cString: syncctl_error_message(&error)))")
        }
        mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2)
        mongoc_client_pool_max_size(pool, options.maxPoolSize)
        self.pool = pool
    }

    /// Takes a client, blocking while all are in use. Must be given back with `push`.
    func pop() -> OpaquePointer {
        mongoc_client_pool_pop(pool)
    }

    func push(_ client: OpaquePointer) {
        mongoc_client_pool_push(pool, client)
    }

    /// Lends a client to `body` (blocking; call from a driver thread) and takes it back.
    func withClient<T>(_ body: (OpaquePointer) throws -> T) rethrows -> T {
        let client = pop()
        defer { push(client) }
        return try body(client)
    }

    /// Destroys the pool. Every client must have been pushed back.
    func close() {
        let wasOpen = state.withLock { state -> Bool in
            defer { state = .closed }
            return state == .open
        }
        if wasOpen {
            mongoc_client_pool_destroy(pool)
        }
    }

    deinit {
        // `close()` is the contract; closing here too keeps a forgotten close from leaking
        // the pool's monitor threads in a long-running process.
        close()
    }
}
