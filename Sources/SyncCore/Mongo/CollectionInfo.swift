/// A collection as `listCollections` describes it.
public struct CollectionInfo: Sendable, Hashable {
    public let name: String
    /// "collection", "view" or "timeseries".
    public let type: String
    /// Creation options (capped, validator, collation, …) exactly as the server reports them.
    public let options: BSONDocument
    /// The collection's UUID (`info.uuid`), when the server reports one.
    public let uuid: BSONValue?

    public init(name: String, type: String = "collection", options: BSONDocument = .empty, uuid: BSONValue? = nil) {
        self.name = name
        self.type = type
        self.options = options
        self.uuid = uuid
    }

    init?(listCollectionsEntry entry: BSONDocument) {
        guard let name = entry["name"]?.stringValue else { return nil }
        self.init(
            name: name,
            type: entry["type"]?.stringValue ?? "collection",
            options: entry["options"]?.documentValue ?? .empty,
            uuid: entry["info"]?.documentValue?["uuid"])
    }
}
