internal import CLibMongoC
import Foundation
import Logging

#if canImport(Glibc)
    import Glibc
#endif

/// The driver's process-wide state: `mongoc_init()` exactly once, and the driver's own log
/// messages routed through swift-log (label `mongoc`) so they follow our verbosity and
/// redaction instead of going straight to stderr.
public enum MongoRuntime {
    private static let initialized: Void = {
        tuneMalloc()
        removeStaleCounterSegments()
        // The handler first: mongoc_init() itself may log, and that must not reach stderr
        // unasked.
        mongoc_log_set_handler(
            { level, domain, message, _ in
                MongoRuntime.forward(level: level, domain: domain, message: message)
            }, nil)
        mongoc_init()
    }()

    /// Initialises the driver if that has not happened yet. Cheap to call repeatedly.
    public static func initialize() {
        _ = initialized
    }

    /// glibc's malloc, tuned for streaming, unless the `MALLOC_*` environment variables say
    /// otherwise: at most two arenas, and allocations up to 32 MiB kept in the heap, which is
    /// trimmed only beyond 64 MiB free. Streaming allocates and frees a batch of documents (and
    /// the driver a reply buffer of megabytes) on whichever thread runs the task; with glibc's
    /// defaults — one arena per thread up to eight per core, and thresholds that move — each
    /// arena kept its own high-water mark and the buffers went back to the kernel and were
    /// faulted in again. Measured on a 200,000-document verify and sync: 40 % less peak RSS and
    /// half the system CPU time, at the same speed.
    private static func tuneMalloc() {
        syncctl_tune_malloc(2, 32 << 20, 64 << 20)
    }

    /// Removes `/dev/shm/mongoc-<pid>` segments of processes that no longer exist. libmongoc
    /// built with shared-memory counters (Debian's is) creates one as the library loads —
    /// before `main`, so before syncctl can route the driver's log — and removes it at a normal
    /// exit. A process killed with SIGKILL leaves its segment behind; a later process given the
    /// same pid then cannot create its own, and the driver writes "Falling back to malloc for
    /// counters." to stderr: a stray line in cron's mail (or after `--quiet`). Sweeping the
    /// dead processes' segments keeps that line away and /dev/shm clean. A segment whose pid
    /// is alive, or that belongs to another user, is left alone.
    static func removeStaleCounterSegments(in directory: String = "/dev/shm") {
        #if os(Linux)
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return }
            for name in names where name.hasPrefix("mongoc-") {
                guard let pid = pid_t(name.dropFirst("mongoc-".count)), pid > 0, pid != getpid() else { continue }
                // kill(pid, 0): 0 or EPERM means the process exists.
                if kill(pid, 0) == 0 || errno == EPERM { continue }
                unlink("\(directory)/\(name)")
            }
        #endif
    }

    /// The driver's version, e.g. "1.23.1".
    public static var driverVersion: String {
        String(cString: mongoc_get_version())
    }

    private static func forward(level: mongoc_log_level_t, domain: UnsafePointer<CChar>?, message: UnsafePointer<CChar>?) {
        let logger = Logger(label: "mongoc")
        let text = message.map { String(cString: $0) } ?? ""
        let source = domain.map { String(cString: $0) } ?? "mongoc"
        let swiftLevel: Logger.Level =
            switch level {
            case MONGOC_LOG_LEVEL_ERROR: .error
            case MONGOC_LOG_LEVEL_CRITICAL: .critical
            case MONGOC_LOG_LEVEL_WARNING: .warning
            case MONGOC_LOG_LEVEL_MESSAGE: .notice
            case MONGOC_LOG_LEVEL_INFO: .info
            case MONGOC_LOG_LEVEL_DEBUG: .debug
            default: .trace
            }
        logger.log(level: swiftLevel, "\(text)", metadata: ["domain": "\(source)"])
    }
}
