import Foundation

/// One line of the sync queue file: "the application wrote document `_id` of
/// `database.collection` locally". Format version 1 (README, "The queue file"):
///
///     {"v":1,"id":"<uuid>","time":"2026-01-19T10:00:00.123Z","db":"bomba","coll":"orders","op":"update","_id":{"$oid":"…"}}
///
/// The entry names the document, not the change: replay reads the document's current local
/// state, so `op` is informational (counted, shown) and never decides what is written.
public struct QueueEntry: Sendable, Equatable {
    /// The format version this syncctl writes and reads.
    public static let formatVersion = 1

    /// What the application did locally.
    public enum Operation: String, Sendable, Codable, CaseIterable {
        case insert, update, replace, delete
    }

    /// A unique id for the operation (UUID).
    public var id: UUID
    /// When the application made the write (the start of the sync-lag clock).
    public var time: Date
    public var database: String
    public var collection: String
    public var operation: Operation
    /// The document's `_id`, with its exact BSON type.
    public var documentID: BSONValue

    public init(id: UUID = UUID(), time: Date = Date(), database: String, collection: String,
                operation: Operation, documentID: BSONValue) {
        self.id = id
        self.time = time
        self.database = database
        self.collection = collection
        self.operation = operation
        self.documentID = documentID
    }

    /// The entry as one queue line, without the newline. `_id` is canonical Extended JSON, so
    /// every BSON type (Int64 vs Int32 vs Double, binary subtypes, …) survives the trip.
    public var jsonLine: String {
        "{\"v\":\(QueueEntry.formatVersion),\"id\":\"\(id.uuidString.lowercased())\",\"time\":\"\(QueueTime.format(time))\","
            + "\"db\":\"\(SecretScrubber.jsonEscaped(database))\",\"coll\":\"\(SecretScrubber.jsonEscaped(collection))\","
            + "\"op\":\"\(operation.rawValue)\",\"_id\":\(QueueEntry.canonicalJSON(of: documentID))}"
    }

    /// Canonical Extended JSON of one value, as libbson writes it.
    public static func canonicalJSON(of value: BSONValue) -> String {
        let json = BSONDocument(pairs: [("_id", value)]).canonicalExtendedJSON
        // libbson writes `{ "_id" : <value> }`; the value is what lies between.
        let prefix = "{ \"_id\" : "
        let suffix = " }"
        guard json.hasPrefix(prefix), json.hasSuffix(suffix), json.count >= prefix.count + suffix.count else { return json }
        return String(json.dropFirst(prefix.count).dropLast(suffix.count))
    }

    /// Parses one line (without its newline). Fields beyond the documented ones are ignored,
    /// so writers may add their own (e.g. "source").
    public init(line: some Collection<UInt8>) throws(QueueLineError) {
        var bytes = Array(line)
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }  // a writer using CRLF
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw QueueLineError("not valid UTF-8")
        }
        guard bytes.first(where: { $0 != 0x20 && $0 != 0x09 }) == UInt8(ascii: "{") else {
            throw QueueLineError("not a JSON object")
        }
        let document: BSONDocument
        do {
            document = try BSONDocument(extendedJSON: text)
        } catch {
            throw QueueLineError("not a JSON object (\(error.message))")
        }
        guard let version = document["v"] else { throw QueueLineError("no \"v\" (format version)") }
        guard version.intValue == QueueEntry.formatVersion else {
            throw QueueLineError("format version \(QueueEntry.canonicalJSON(of: version)) is not supported (this syncctl reads version \(QueueEntry.formatVersion)): upgrade syncctl, then retry the dead letters")
        }
        guard let idText = document["id"]?.stringValue else { throw QueueLineError("no \"id\" (operation UUID)") }
        guard let id = UUID(uuidString: idText) else { throw QueueLineError("\"id\" is not a UUID: \(idText)") }
        guard let timeText = document["time"]?.stringValue else { throw QueueLineError("no \"time\"") }
        guard let time = QueueTime.parse(timeText) else {
            throw QueueLineError("\"time\" is not an ISO 8601 time such as 2026-01-19T10:00:00.123Z: \(timeText)")
        }
        guard let database = document["db"]?.stringValue, !database.isEmpty else { throw QueueLineError("no \"db\"") }
        guard let collection = document["coll"]?.stringValue, !collection.isEmpty else { throw QueueLineError("no \"coll\"") }
        guard let opText = document["op"]?.stringValue else { throw QueueLineError("no \"op\"") }
        guard let operation = Operation(rawValue: opText) else {
            throw QueueLineError("\"op\" must be insert, update, replace or delete, not \(opText)")
        }
        guard let documentID = document["_id"] else { throw QueueLineError("no \"_id\"") }
        if case .array = documentID { throw QueueLineError("\"_id\" cannot be an array") }
        self.init(id: id, time: time, database: database, collection: collection, operation: operation, documentID: documentID)
    }
}

/// Why a queue line cannot be used; it goes to the dead-letter file with this reason.
public struct QueueLineError: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public var description: String { reason }
    init(_ reason: String) { self.reason = reason }
}

/// The queue's time format: ISO 8601 in UTC with milliseconds, as JavaScript's
/// `Date.prototype.toISOString()` writes it. Reading also accepts no fraction and offsets.
enum QueueTime {
    private static let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
    private static let withoutFraction = Date.ISO8601FormatStyle()

    /// `2026-01-19T10:00:00.123Z`, rounded to the millisecond (a formatter would truncate
    /// 0.123 stored as 0.12299… to .122).
    static func format(_ date: Date) -> String {
        let millis = Int64((date.timeIntervalSince1970 * 1000).rounded())
        var seconds = time_t(millis >= 0 ? millis / 1000 : (millis - 999) / 1000)
        let fraction = Int(millis - Int64(seconds) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec, fraction)
    }

    static func parse(_ text: String) -> Date? {
        if let date = try? withFraction.parse(text) { return date }
        if let date = try? withoutFraction.parse(text) { return date }
        // Offsets other than Z ("+02:00"): the lenient parse strategy reads those.
        return try? Date(text, strategy: .iso8601)
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
