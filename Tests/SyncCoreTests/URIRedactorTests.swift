import Testing
import SyncCore

@Suite struct URIRedactorTests {
    @Test(arguments: [
        ("mongodb://user:secret@localhost:27017/bomba", "mongodb://user:***@localhost:27017/bomba"),
        ("mongodb://user:p@ss@host/db", "mongodb://user:***@host/db"),
        ("mongodb://user:pa:ss@host/db", "mongodb://user:***@host/db"),
        ("mongodb://user:100%@host/db", "mongodb://user:***@host/db"),
        ("mongodb://user:p%40ss%3A@host/db", "mongodb://user:***@host/db"),
        ("mongodb://user:a/b@host/db", "mongodb://user:***@host/db"),
        ("mongodb://user:a?b@host/db?w=1", "mongodb://user:***@host/db?w=1"),
        ("mongodb://user:p@ss?w@rd@host/db?w=1", "mongodb://user:***@host/db?w=1"),
    ])
    func passwordIsHiddenWhateverCharactersItContains(uri: String, expected: String) {
        #expect(URIRedactor.redact(uri) == expected)
    }

    @Test func srvStringKeepsHostDatabaseAndOptions() {
        #expect(
            URIRedactor.redact("mongodb+srv://bomba-user:YOUR_PASSWORD@cluster0.xxxxx.mongodb.net/bomba?retryWrites=true&w=majority")
                == "mongodb+srv://bomba-user:***@cluster0.xxxxx.mongodb.net/bomba?retryWrites=true&w=majority")
    }

    @Test func stringsWithoutPasswordAreUnchanged() {
        for uri in [
            "mongodb://localhost:27017/bomba", "mongodb://user@host/db", "mongodb://h1:1,h2:2,[::1]:27019/db?replicaSet=rs",
            "mongodb://[::1]:27017/x",
        ] {
            #expect(URIRedactor.redact(uri) == uri)
        }
    }

    @Test func userWithEmptyPasswordStillShowsMask() {
        #expect(URIRedactor.redact("mongodb://user:@host/db") == "mongodb://user:***@host/db")
    }

    @Test func multipleAndIPv6HostsSurviveRedaction() {
        #expect(URIRedactor.redact("mongodb://u:p@h1:27017,[::1]:27018,h3/db?replicaSet=rs")
            == "mongodb://u:***@h1:27017,[::1]:27018,h3/db?replicaSet=rs")
    }

    @Test func optionsNamedLikePasswordLoseTheirValues() {
        #expect(URIRedactor.redact("mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=s3cret&w=1")
            == "mongodb://h/db?tls=true&tlsCertificateKeyFilePassword=***&w=1")
        #expect(URIRedactor.redact("mongodb://u:p@h/db?a=1;PASSWORD=x")
            == "mongodb://u:***@h/db?a=1;PASSWORD=***")
    }

    @Test func atSignInsidePasswordOptionDoesNotExposeIt() {
        #expect(URIRedactor.redact("mongodb://h/db?tlsCertificateKeyFilePassword=a@b")
            == "mongodb://h/db?tlsCertificateKeyFilePassword=***")
        #expect(URIRedactor.redact("mongodb://h/db@x") == "mongodb://h/db@x")
    }

    @Test func atSignInAnOptionHidesMoreButNeverShowsThePassword() {
        let redacted = URIRedactor.redact("mongodb://u:secret@h/db?appName=me@example")
        #expect(!redacted.contains("secret"))
        #expect(redacted.hasPrefix("mongodb://u:***@"))
    }

    @Test func nonURIStringsAreUnchanged() {
        for text in ["", "localhost:27017", "not a uri: user:pass@host", "://x", "1http://u:p@h"] {
            #expect(URIRedactor.redact(text) == text)
        }
    }

    @Test func combiningMarkAfterAtSignDoesNotHideTheSplit() {
        #expect(URIRedactor.redact("mongodb://u:secret@\u{301}h/db") == "mongodb://u:***@\u{301}h/db")
    }

    @Test func noCharacterOfARawPasswordEverSurvives() {
        // Passwords are made of "Z" and URI delimiters; nothing else in the URI contains a "Z".
        let alphabet = Array("Z@:/?%#&=;,[] Z\u{301}Z%40")
        var state: UInt64 = 0x5EED
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<2000 {
            let password = String((0..<(1 + next(12))).map { _ in alphabet[next(alphabet.count)] }) + "Z"
            let options = ["", "?w=majority", "?tls=true&tlsCertificateKeyFilePassword=Z@Z", "?appName=a@b"][next(4)]
            for uri in ["mongodb://user:\(password)@host:27017/db\(options)",
                        "mongodb+srv://user:\(password)@cluster0.x.mongodb.net/\(options)"] {
                #expect(!URIRedactor.redact(uri).contains("Z"), "\(uri)")
            }
        }
    }

    @Test func noCharacterOfARawSecretOptionValueEverSurvives() {
        // Secret values are made of "Z" and delimiters other than "=" (a raw "&x=" inside a value
        // reads as a new option, which no parser can tell apart).
        let alphabet = Array("Z@:/?%#&; Z")
        var state: UInt64 = 0xC0FFEE
        func next(_ bound: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(bound))
        }
        for _ in 0..<2000 {
            let secret = String((0..<(1 + next(10))).map { _ in alphabet[next(alphabet.count)] }) + "Z"
            let credentials = ["", "user@", "user:Z@Z@", "user:pw@"][next(4)]
            let options = ["w=1&", "", "appName=a@b&"][next(3)]
            let uri = "mongodb://\(credentials)host:27017,[::1]:27018/db?\(options)tlsCertificateKeyFilePassword=\(secret)"
            #expect(!URIRedactor.redact(uri).contains("Z"), "\(uri)")
            let scrubber = SecretScrubber()
            scrubber.register(uri: uri)
            #expect(!scrubber.scrub("error: \(uri)").contains("Z"), "\(uri)")
        }
    }
}
