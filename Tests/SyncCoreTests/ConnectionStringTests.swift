import Testing
import SyncCore

@Suite struct ConnectionStringTests {
    @Test func localURIGivesHostAndDatabase() throws {
        let uri = try ConnectionString("mongodb://localhost:27017/bomba")
        #expect(uri.database == "bomba")
        #expect(uri.hosts == ["localhost:27017"])
        #expect(!uri.isSRV)
        #expect(uri.username == nil)
        #expect(!uri.hasPassword)
        #expect(uri.redacted == "mongodb://localhost:27017/bomba")
    }

    @Test func srvURIIsPassedThroughAndReportsItsSRVHost() throws {
        let raw = "mongodb+srv://bomba-user:p%40ss@cluster0.xxxxx.mongodb.net/?retryWrites=true&w=majority&tls=true"
        let uri = try ConnectionString(raw)
        #expect(uri.uri == raw)
        #expect(uri.isSRV)
        #expect(uri.hosts == ["cluster0.xxxxx.mongodb.net"])
        #expect(uri.database == nil)
        #expect(uri.username == "bomba-user")
        #expect(uri.hasPassword)
        #expect(uri.redacted == "mongodb+srv://bomba-user:***@cluster0.xxxxx.mongodb.net/?retryWrites=true&w=majority&tls=true")
    }

    @Test func multipleAndIPv6HostsAreListedWithPorts() throws {
        let uri = try ConnectionString("mongodb://h1,h2:27018,[::1]:27019/db?replicaSet=rs")
        #expect(uri.hosts == ["h1:27017", "h2:27018", "[::1]:27019"])
    }

    @Test func descriptionAndDumpShowOnlyTheRedactedForm() throws {
        let uri = try ConnectionString("mongodb://u:hunter2@h/db")
        #expect("\(uri)" == "mongodb://u:***@h/db")
        #expect(!String(reflecting: uri).contains("hunter2"))
        var dumped = ""
        dump(uri, to: &dumped)
        #expect(!dumped.contains("hunter2"))
    }

    @Test func invalidSchemeIsAConfigurationErrorWithDriverReason() {
        #expect {
            _ = try ConnectionString("http://u:hunter2@h/db")
        } throws: { error in
            let error = error as? ConfigError
            return error?.kind == .configuration && error?.message.contains("mongodb://") == true
                && error?.message.contains("hunter2") == false && error?.message.contains("u:***@h") == true
        }
    }

    @Test func driverMessageQuotingThePasswordIsScrubbed() {
        // libmongoc answers: Password "hun:ter2" must not have unescaped chars.
        #expect {
            _ = try ConnectionString("mongodb://u:hun:ter2@h/db")
        } throws: { error in
            let message = (error as? ConfigError)?.message ?? ""
            return !message.contains("hun:ter2") && !message.contains("ter2") && message.contains("Percent-encode")
        }
    }

    @Test func rawAtSignInPasswordIsRejectedInsteadOfBecomingAHostName() {
        // libmongoc itself would accept this with host "ss@h".
        #expect {
            _ = try ConnectionString("mongodb://u:p@ss@h/db")
        } throws: { error in
            let message = (error as? ConfigError)?.message ?? ""
            return message.contains("%40") && !message.contains("p@ss")
        }
    }

    @Test func emptyAndNULStringsAreRejected() {
        #expect(throws: ConfigError.self) { try ConnectionString("") }
        #expect(throws: ConfigError.self) { try ConnectionString("mongodb://h/db\u{0}x") }
    }

    @Test func percentEncodedCredentialsAreDecoded() throws {
        let uri = try ConnectionString("mongodb://us%40er:p%3Ass@h/db")
        #expect(uri.username == "us@er")
        #expect(uri.hasPassword)
    }

    @Test func tlsAndOtherOptionsArePassedThroughUntouched() throws {
        let raw = "mongodb://h/db?tls=true&tlsCAFile=/etc/ssl/ca.pem&retryWrites=true&w=majority&appName=syncctl"
        let uri = try ConnectionString(raw)
        #expect(uri.uri == raw)
        #expect(uri.redacted == raw)
    }
}
