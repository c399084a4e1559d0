import Foundation
import Testing
import SyncCore

@Suite struct SecretScrubberTests {
    @Test func registeredSecretIsRemovedFromASentence() {
        let scrubber = SecretScrubber()
        scrubber.register("hunter2")
        #expect(scrubber.scrub("auth failed for hunter2, twice: hunter2") == "auth failed for ***, twice: ***")
    }

    @Test func uriRegistrationCoversRawPercentDecodedAndWholeURI() {
        let scrubber = SecretScrubber()
        let uri = "mongodb+srv://app:p%40ss%2Fw0rd@cluster0.x.mongodb.net/bomba"
        scrubber.register(uri: uri)
        #expect(scrubber.scrub("connecting to \(uri) failed") == "connecting to *** failed")
        #expect(scrubber.scrub("password p%40ss%2Fw0rd rejected") == "password *** rejected")
        #expect(scrubber.scrub("password p@ss/w0rd rejected") == "password *** rejected")
        #expect(scrubber.scrub("user app on cluster0.x.mongodb.net") == "user app on cluster0.x.mongodb.net")
    }

    @Test func reEncodedPasswordIsRecognisedToo() {
        let scrubber = SecretScrubber()
        scrubber.register(uri: "mongodb://u:p%2fss@h/db")  // lower-case escape as typed
        #expect(scrubber.scrub("p%2Fss") == "***")
    }

    @Test func secretIsRemovedFromJSONEscapedText() throws {
        let scrubber = SecretScrubber()
        let password = "a/b\"c\\d"
        scrubber.register(password)
        let json = String(decoding: try JSONSerialization.data(withJSONObject: ["error": "bad password \(password)"]), as: UTF8.self)
        #expect(!scrubber.scrub(json).contains("c\\\\d"))
        #expect(scrubber.scrub(#"{"e":"a\/b\"c\\d"}"#) == #"{"e":"***"}"#)
        #expect(scrubber.scrub(#"{"e":"a/b\"c\\d"}"#) == #"{"e":"***"}"#)
    }

    @Test func passwordOptionValuesInURIAreRegistered() {
        let scrubber = SecretScrubber()
        scrubber.register(uri: "mongodb://h/db?tlsCertificateKeyFilePassword=k3yp4ss")
        #expect(scrubber.scrub("could not decrypt key with k3yp4ss") == "could not decrypt key with ***")
    }

    @Test func uriWithoutSecretsRegistersNothing() {
        let scrubber = SecretScrubber()
        scrubber.register(uri: "mongodb://localhost:27017/bomba")
        #expect(scrubber.scrub("mongodb://localhost:27017/bomba") == "mongodb://localhost:27017/bomba")
    }

    @Test func longerSecretIsReplacedBeforeAShorterOneInsideIt() {
        let scrubber = SecretScrubber()
        scrubber.register("pass")
        scrubber.register("password123")
        #expect(scrubber.scrub("x password123 pass") == "x *** ***")
    }

    @Test func textWithoutSecretsIsReturnedUnchangedIncludingNonASCII() {
        let scrubber = SecretScrubber()
        scrubber.register("s3cr3t")
        let text = "café ☕️ e\u{301} 😀"
        #expect(scrubber.scrub(text) == text)
        #expect(scrubber.scrub("é s3cr3t é") == "é *** é")
    }

    @Test func scrubbingIsSafeFromManyTasksAtOnce() async {
        let scrubber = SecretScrubber()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    scrubber.register("secret-\(index)")
                    _ = scrubber.scrub("secret-\(index) here")
                }
            }
        }
        #expect(scrubber.scrub("secret-7 and secret-42") == "*** and ***")
    }
}
