import SyncTestSupport
import Testing

@Test func serversAreConfiguredUnderCI() {
    if !TestServers.available {
        print("integration tests skipped: set SYNCCTL_TEST_LOCAL_URI and SYNCCTL_TEST_ATLAS_URI (make test does)")
    }
    #expect(TestServers.available || !TestServers.isCI, "CI=true but SYNCCTL_TEST_LOCAL_URI/SYNCCTL_TEST_ATLAS_URI are unset")
}
