import Testing
import SyncCore

@Suite struct ConfigErrorTests {
    @Test func descriptionIsTheMessageOnOneLine() {
        let error = ConfigError(.configuration, "first\nsecond\r\nthird")
        #expect(error.description == "first second third")
        #expect(error.kind == .configuration)
        #expect("\(error)" == error.message)
    }
}
