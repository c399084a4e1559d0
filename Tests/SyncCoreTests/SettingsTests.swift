import Testing
import SyncCore

@Suite struct SettingsTests {
    private func resolve(
        flags: [SettingKey: String] = [:], environment: [String: String] = [:], file text: String? = nil
    ) throws(ConfigError) -> Settings {
        try Settings.resolve(flags: flags, environment: environment, file: text.map { DotenvFile(text: $0, path: ".env") })
    }

    private func message(_ body: () throws -> Settings) -> String? {
        do {
            _ = try body()
            return nil
        } catch let error as ConfigError {
            #expect(error.kind == .configuration)
            return error.message
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func everyKeyHasItsDocumentedDefault() throws {
        let settings = try resolve()
        #expect(settings.syncEnabled == false)
        #expect(settings.localURI.uri == "mongodb://localhost:27017/bomba")
        #expect(settings.atlasURI == nil)
        #expect(settings.queueMaxSize == 10000)
        #expect(settings.workerIntervalMS == 100)
        #expect(settings.maxRetries == 5)
        #expect(settings.persistQueue == true)
        #expect(settings.batchSize == 100)
        #expect(settings.excludedCollections == [])
        #expect(settings.stateDir == ".syncctl")
        #expect(settings.queueFile == ".syncctl/sync-queue.jsonl")
        #expect(settings.backupDir == "backups")
        #expect(settings.localDatabase == "bomba")
        #expect(settings.atlasDatabase == "bomba")
        #expect(settings.envFile == nil)
        #expect(SettingKey.allCases.allSatisfy { settings.sources[$0] == .default })
    }

    @Test func keysAreListedInDocumentedOrder() {
        #expect(SettingKey.allCases.map(\.rawValue) == [
            "SYNC_ENABLED", "MONGODB_LOCAL_URI", "MONGODB_ATLAS_URI", "SYNC_QUEUE_MAX_SIZE", "SYNC_WORKER_INTERVAL",
            "SYNC_MAX_RETRIES", "SYNC_PERSIST_QUEUE", "SYNC_BATCH_SIZE", "SYNC_EXCLUDED_COLLECTIONS", "SYNC_STATE_DIR",
            "SYNC_QUEUE_FILE", "SYNC_BACKUP_DIR",
        ])
    }

    @Test func flagBeatsEnvironmentBeatsFileBeatsDefault() throws {
        let settings = try resolve(
            flags: [.batchSize: "4"],
            environment: ["SYNC_BATCH_SIZE": "3", "SYNC_MAX_RETRIES": "2"],
            file: "SYNC_BATCH_SIZE=1\nSYNC_MAX_RETRIES=1\nSYNC_QUEUE_MAX_SIZE=7\n")
        #expect(settings.batchSize == 4)
        #expect(settings.maxRetries == 2)
        #expect(settings.queueMaxSize == 7)
        #expect(settings.workerIntervalMS == 100)
        #expect(settings.sources[.batchSize] == .flag)
        #expect(settings.sources[.maxRetries] == .env)
        #expect(settings.sources[.queueMaxSize] == .file)
        #expect(settings.sources[.workerInterval] == .default)
        #expect(settings.envFile == ".env")
    }

    @Test func emptyVariableHidesLowerLevelsAndMeansDefault() throws {
        let settings = try resolve(
            environment: ["SYNC_BATCH_SIZE": "", "MONGODB_ATLAS_URI": ""],
            file: "SYNC_BATCH_SIZE=500\nMONGODB_ATLAS_URI=mongodb://u:p@atlas.example.net/bomba\nSYNC_ENABLED=\n")
        #expect(settings.batchSize == 100)
        #expect(settings.sources[.batchSize] == .env)
        #expect(settings.atlasURI == nil)
        #expect(settings.sources[.atlasURI] == .env)
        #expect(settings.syncEnabled == false)
        #expect(settings.sources[.syncEnabled] == .file)
    }

    @Test func seedFileResolvesWithAtlasNotConfigured() throws {
        let settings = try resolve(file: """
            SYNC_ENABLED=false                    # Keep disabled during setup
            MONGODB_LOCAL_URI=mongodb://localhost:27017/bomba
            MONGODB_ATLAS_URI=                    # Add your Atlas URI here
            SYNC_QUEUE_MAX_SIZE=10000
            SYNC_WORKER_INTERVAL=100
            SYNC_MAX_RETRIES=5
            SYNC_PERSIST_QUEUE=true
            SYNC_BATCH_SIZE=100
            SYNC_EXCLUDED_COLLECTIONS=

            """)
        #expect(settings.atlasURI == nil)
        #expect(settings.sources[.atlasURI] == .file)
        #expect(settings.sources[.stateDir] == .default)
    }

    @Test(arguments: [("true", true), ("TRUE", true), ("1", true), ("yes", true), ("Yes", true),
                      ("false", false), ("False", false), ("0", false), ("no", false), ("NO", false)])
    func booleansAcceptTrueFalseOneZeroYesNo(text: String, value: Bool) throws {
        #expect(try resolve(environment: ["SYNC_ENABLED": text]).syncEnabled == value)
        #expect(try resolve(environment: ["SYNC_PERSIST_QUEUE": text]).persistQueue == value)
    }

    @Test func otherBooleanSpellingsAreRejectedNamingKeyValueAndSource() {
        #expect(message { try resolve(file: "SYNC_ENABLED=on\n") }
            == #"SYNC_ENABLED="on" (from .env) is not valid: expected true or false (1/0 and yes/no are also accepted)"#)
        #expect(message { try resolve(environment: ["SYNC_PERSIST_QUEUE": "true "]) }?
            .hasPrefix(#"SYNC_PERSIST_QUEUE="true " (from the environment)"#) == true)
    }

    @Test func batchSizeMessageMatchesTheDocumentedFormat() {
        #expect(message { try resolve(file: "SYNC_BATCH_SIZE=abc\n") }
            == #"SYNC_BATCH_SIZE="abc" (from .env) is not valid: expected a whole number from 1 to 100000"#)
    }

    @Test func integerBoundsAreEnforced() throws {
        #expect(try resolve(flags: [.batchSize: "100000"]).batchSize == 100000)
        #expect(try resolve(flags: [.maxRetries: "0"]).maxRetries == 0)
        #expect(message { try resolve(flags: [.batchSize: "100001"]) }?.contains("(from the command line)") == true)
        #expect(message { try resolve(flags: [.batchSize: "0"]) } != nil)
        #expect(message { try resolve(flags: [.queueMaxSize: "0"]) }?.hasSuffix("expected a whole number of at least 1") == true)
        #expect(message { try resolve(flags: [.workerInterval: "0"]) }?
            .hasSuffix("expected a whole number of milliseconds of at least 1") == true)
        #expect(message { try resolve(flags: [.maxRetries: "-1"]) }?.hasSuffix("of at least 0") == true)
        #expect(message { try resolve(flags: [.queueMaxSize: "1e3"]) } != nil)
        #expect(message { try resolve(flags: [.queueMaxSize: " 5"]) } != nil)
        #expect(message { try resolve(flags: [.queueMaxSize: "99999999999999999999999"]) } != nil)
    }

    @Test func excludedCollectionsAreTrimmedDeduplicatedAndEmptyEntriesSkipped() throws {
        let settings = try resolve(file: "SYNC_EXCLUDED_COLLECTIONS= bills, orders,,sessions ,bills,\n")
        #expect(settings.excludedCollections == ["bills", "orders", "sessions"])
    }

    @Test func invalidCollectionNamesAreRejected() {
        for bad in ["orders,$cmd", "system.users", "a\u{0}b"] {
            let text = message { try resolve(flags: [.excludedCollections: bad]) }
            #expect(text?.hasPrefix("SYNC_EXCLUDED_COLLECTIONS=") == true, "\(bad)")
            #expect(text?.contains("is not a collection name") == true)
        }
        #expect(throws: Never.self) { try resolve(flags: [.excludedCollections: "my.system.things"]) }
    }

    @Test func queueFileFollowsTheEffectiveStateDirUnlessSet() throws {
        #expect(try resolve(environment: ["SYNC_STATE_DIR": "/var/lib/syncctl/"]).queueFile == "/var/lib/syncctl/sync-queue.jsonl")
        #expect(try resolve(file: "SYNC_STATE_DIR=state\n").queueFile == "state/sync-queue.jsonl")
        let explicit = try resolve(file: "SYNC_STATE_DIR=state\nSYNC_QUEUE_FILE=q/queue.jsonl\n")
        #expect(explicit.queueFile == "q/queue.jsonl")
        #expect(explicit.sources[.queueFile] == .file)
    }

    @Test func relativePathsAreKeptAsGivenAndResolvedOnRequest() throws {
        let settings = try resolve(file: "SYNC_BACKUP_DIR=../backups\n")
        #expect(settings.backupDir == "../backups")
        #expect(Settings.resolvePath(settings.backupDir, against: "/srv/app") == "/srv/app/../backups")
        #expect(Settings.resolvePath("/abs/dir", against: "/srv/app") == "/abs/dir")
        #expect(Settings.resolvePath("x", against: "/srv/app/") == "/srv/app/x")
    }

    @Test func localURIWithoutDatabaseIsRejectedWithAnExample() {
        #expect(message { try resolve(file: "MONGODB_LOCAL_URI=mongodb://u:hunter2@localhost:27017\n") }
            == #"MONGODB_LOCAL_URI="mongodb://u:***@localhost:27017" (from .env) is not valid: the local URI must name the database, e.g. mongodb://localhost:27017/bomba"#)
    }

    @Test func atlasDatabaseComesFromAtlasURIOrFallsBackToLocal() throws {
        let withoutPath = try resolve(
            environment: ["MONGODB_LOCAL_URI": "mongodb://localhost/bomba-test",
                          "MONGODB_ATLAS_URI": "mongodb+srv://u:p@cluster0.x.mongodb.net/?retryWrites=true"])
        #expect(withoutPath.localDatabase == "bomba-test")
        #expect(withoutPath.atlasDatabase == "bomba-test")
        #expect(withoutPath.atlasURI?.isSRV == true)
        let withPath = try resolve(environment: ["MONGODB_ATLAS_URI": "mongodb+srv://u:p@cluster0.x.mongodb.net/other"])
        #expect(withPath.atlasDatabase == "other")
    }

    @Test func invalidURIErrorIsRedactedAndNamesTheKey() {
        let text = message { try resolve(flags: [.atlasURI: "mongodb://u:hun:ter2@h/db"]) }
        #expect(text?.hasPrefix(#"MONGODB_ATLAS_URI="mongodb://u:***@h/db" (from the command line) is not valid: "#) == true)
        #expect(text?.contains("ter2") == false)
    }

    @Test func resolveRegistersURISecretsWithTheSharedScrubber() throws {
        _ = try resolve(
            environment: ["MONGODB_ATLAS_URI": "mongodb+srv://u:Settings%2FTest%40Pw@cluster0.x.mongodb.net/"],
            file: "MONGODB_ATLAS_URI=mongodb://u:ShadowedFilePw@h/db\n")
        #expect(SecretScrubber.shared.scrub("Settings/Test@Pw") == "***")
        #expect(SecretScrubber.shared.scrub("Settings%2FTest%40Pw") == "***")
        #expect(SecretScrubber.shared.scrub("ShadowedFilePw") == "***")
    }

    @Test func invalidURISecretsAreRegisteredToo() {
        _ = message { try resolve(flags: [.localURI: "mongodb://u:Inval:idPw@h/db"]) }
        #expect(SecretScrubber.shared.scrub("Inval:idPw") == "***")
    }

    @Test func effectiveValuesListEveryKeyInOrderRedactedWithSources() throws {
        let settings = try resolve(
            flags: [.excludedCollections: "a, b"],
            environment: ["MONGODB_ATLAS_URI": "mongodb+srv://u:pw@c.x.mongodb.net/bomba"],
            file: "SYNC_ENABLED=yes\n")
        let values = settings.effectiveValues()
        #expect(values.map(\.key) == SettingKey.allCases)
        let byKey = Dictionary(uniqueKeysWithValues: values.map { ($0.key, ($0.display, $0.source)) })
        #expect(byKey[.syncEnabled]! == ("true", .file))
        #expect(byKey[.atlasURI]! == ("mongodb+srv://u:***@c.x.mongodb.net/bomba", .env))
        #expect(byKey[.excludedCollections]! == ("a,b", .flag))
        #expect(byKey[.queueFile]! == (".syncctl/sync-queue.jsonl", .default))
        #expect(values.allSatisfy { !$0.display.contains("pw@") })
    }

    @Test func unconfiguredAtlasDisplaysEmpty() throws {
        #expect(try resolve().effectiveValues().first { $0.key == .atlasURI }?.display == "")
    }

    @Test func valueWithLineBreakStaysOnOneLineInTheError() {
        let text = message { try resolve(environment: ["SYNC_BATCH_SIZE": "1\n2"]) }
        #expect(text?.contains(#""1\n2""#) == true)
        #expect(text?.contains("\n") == false)
    }
}
