internal import CLibMongoC

/// Any failure reported by the driver or a server, mapped from libmongoc's `bson_error_t`
/// (error API version 2) and, for command failures, the server's reply.
public struct MongoError: ClassifiedError {
    /// Why a server could not be used, as an operator would put it.
    public enum Reason: String, Sendable, Codable {
        case refused, timeout, dns, tls, authentication
        /// The connection broke while a command was in flight.
        case connectionClosed
        /// The server answered with an error code.
        case command
        case invalidURI
        case other
    }

    public let kind: FailureKind
    public let reason: Reason
    /// libmongoc's error domain and code (server error code for server errors).
    public let domain: UInt32
    public let code: Int32
    /// The server's `codeName`, when it sent one.
    public let codeName: String?
    /// The server's `errorLabels` (e.g. "RetryableWriteError").
    public let labels: [String]
    public let message: String

    public var description: String { message }

    public init(kind: FailureKind, reason: Reason, message: String, code: Int32 = 0, domain: UInt32 = 0,
                codeName: String? = nil, labels: [String] = []) {
        self.kind = kind
        self.reason = reason
        self.message = message
        self.code = code
        self.domain = domain
        self.codeName = codeName
        self.labels = labels
    }

    /// The one mapping from a driver error (and optional server reply) to our error.
    init(_ error: bson_error_t, reply: BSONDocument? = nil) {
        var error = error
        let text = String(cString: syncctl_error_message(&error))
        let domain = error.domain
        let code = Int32(bitPattern: error.code)
        let codeName = reply?["codeName"]?.stringValue
        let labels = reply?["errorLabels"]?.arrayValue?.compactMap(\.stringValue) ?? []

        switch domain {
        case MONGOC_ERROR_SERVER_SELECTION.rawValue, MONGOC_ERROR_STREAM.rawValue:
            let reason = MongoError.networkReason(text, streamCode: domain == MONGOC_ERROR_STREAM.rawValue ? error.code : nil)
            self.init(kind: reason == .authentication ? .authentication : .unreachable, reason: reason,
                      message: text, code: code, domain: domain, codeName: codeName, labels: labels)
        case MONGOC_ERROR_CLIENT.rawValue where error.code == MONGOC_ERROR_CLIENT_AUTHENTICATE.rawValue,
             MONGOC_ERROR_SASL.rawValue, MONGOC_ERROR_SCRAM.rawValue:
            self.init(kind: .authentication, reason: .authentication, message: text, code: code, domain: domain,
                      codeName: codeName, labels: labels)
        case MONGOC_ERROR_SERVER.rawValue, MONGOC_ERROR_QUERY.rawValue, MONGOC_ERROR_WRITE_CONCERN.rawValue,
             MONGOC_ERROR_COLLECTION.rawValue, MONGOC_ERROR_COMMAND.rawValue:
            let auth = code == 18 || code == 13  // AuthenticationFailed, Unauthorized
            self.init(kind: auth ? .authentication : .unexpected, reason: auth ? .authentication : .command,
                      message: text, code: code, domain: domain, codeName: codeName, labels: labels)
        default:
            self.init(kind: .unexpected, reason: .other, message: text, code: code, domain: domain,
                      codeName: codeName, labels: labels)
        }
    }

    /// Server error codes MongoDB documents as transient (retryable reads/writes).
    static let retryableCodes: Set<Int32> = [6, 7, 89, 91, 189, 262, 9001, 10107, 11600, 11602, 13435, 13436, 63, 150, 13388, 134]

    /// True when trying the same operation again may succeed: a network failure or one of the
    /// server's retryable conditions.
    public var isTransient: Bool {
        if kind == .unreachable || reason == .connectionClosed || reason == .timeout { return true }
        if labels.contains("RetryableWriteError") || labels.contains("TransientTransactionError") { return true }
        return reason == .command && MongoError.retryableCodes.contains(code)
    }

    /// Classifies a connection failure from libmongoc's message. Server selection failures
    /// carry the last connection error in brackets ("… expired: [Failed to connect to target
    /// host: …]"), which says more than the outer text, so it is read first.
    static func networkReason(_ text: String, streamCode: UInt32?) -> Reason {
        if streamCode == MONGOC_ERROR_STREAM_NAME_RESOLUTION.rawValue { return .dns }
        let inner = text.range(of: "[", options: .backwards).map { String(text[$0.upperBound...]) }
        for candidate in [inner, text].compactMap({ $0?.lowercased() }) {
            if candidate.contains("resolve") || candidate.contains("getaddrinfo") || candidate.contains("srv") { return .dns }
            if candidate.contains("authenticat") { return .authentication }
            if candidate.contains("tls") || candidate.contains("ssl") || candidate.contains("certificate") { return .tls }
            if candidate.contains("refused") || candidate.contains("failed to connect") { return .refused }
            if candidate.contains("timed out") || candidate.contains("timeout") { return .timeout }
            if candidate.contains("closed") || candidate.contains("socket error") || candidate.contains("failed to send")
                || candidate.contains("failed to read")
            {
                return .connectionClosed
            }
        }
        if streamCode == MONGOC_ERROR_STREAM_SOCKET.rawValue { return .connectionClosed }
        if streamCode == MONGOC_ERROR_STREAM_CONNECT.rawValue { return .refused }
        return text.lowercased().contains("expired") ? .timeout : .other
    }
}
