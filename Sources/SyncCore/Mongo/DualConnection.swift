/// The two deployments syncctl works between: the local MongoDB (authoritative, the
/// application's primary) and MongoDB Atlas (the mirror). Atlas is nil until configured.
public final class DualConnection: Sendable {
    public let local: MongoConnection
    public let atlas: MongoConnection?
    public let localDatabase: String
    public let atlasDatabase: String

    /// Creates both pools from the settings; nothing touches the network yet.
    public init(settings: Settings, options: PoolOptions = PoolOptions()) throws(MongoError) {
        local = try MongoConnection(
            uri: settings.localURI.uri, redactedURI: settings.localURI.redacted, name: "local", options: options)
        if let atlasURI = settings.atlasURI {
            do {
                atlas = try MongoConnection(uri: atlasURI.uri, redactedURI: atlasURI.redacted, name: "atlas", options: options)
            } catch {
                local.close()
                throw error
            }
        } else {
            atlas = nil
        }
        localDatabase = settings.localDatabase
        atlasDatabase = settings.atlasDatabase
    }

    /// Atlas, or an error saying it is not configured.
    public func requireAtlas() throws(MongoError) -> MongoConnection {
        guard let atlas else {
            throw MongoError(kind: .configuration, reason: .invalidURI,
                             message: "MONGODB_ATLAS_URI is not set: add the Atlas connection string to the .env file")
        }
        return atlas
    }

    public func close() {
        local.close()
        atlas?.close()
    }
}
