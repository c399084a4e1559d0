import Testing

@testable import SyncCore

struct UnifiedDiffTests {
    @Test func oneChangedLineWithOneLineOfContext() {
        let diff = UnifiedDiff.make(old: "a\nb\nc\nd\ne\n", new: "a\nb\nC\nd\ne\n", oldLabel: "x", newLabel: "y")
        #expect(diff == "--- x\n+++ y\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n")
    }

    @Test func distantChangesMakeTwoHunks() {
        let diff = UnifiedDiff.make(old: "1\n2\n3\n4\n5\n6\n7\n", new: "one\n2\n3\n4\n5\n6\nseven\n", oldLabel: "x", newLabel: "y")
        #expect(diff == "--- x\n+++ y\n@@ -1,2 +1,2 @@\n-1\n+one\n 2\n@@ -6,2 +6,2 @@\n 6\n-7\n+seven\n")
    }

    @Test func appendedLineAndMissingFinalNewlineAreShown() {
        let diff = UnifiedDiff.make(old: "a", new: "a\nb\n", oldLabel: "x", newLabel: "y")
        #expect(diff == "--- x\n+++ y\n@@ -1 +1,2 @@\n-a\n\\ No newline at end of file\n+a\n+b\n")
    }

    @Test func crlfEndingsAreComparedButNotPrinted() {
        let diff = UnifiedDiff.make(old: "a\r\nb\r\n", new: "a\r\nB\r\n", oldLabel: "x", newLabel: "y")
        #expect(diff == "--- x\n+++ y\n@@ -1,2 +1,2 @@\n a\n-b\n+B\n")
        #expect(UnifiedDiff.make(old: "a\r\n", new: "a\n", oldLabel: "x", newLabel: "y").contains("-a\n+a\n"))
    }

    @Test func equalTextsHaveNoDiff() {
        #expect(UnifiedDiff.make(old: "a\nb\n", new: "a\nb\n", oldLabel: "x", newLabel: "y").isEmpty)
    }

    @Test func linesSplitAsDotenvCountsThem() {
        #expect(UnifiedDiff.lines(of: "a\r\nb\rc\nd") == ["a\r\n", "b\r", "c\n", "d"])
    }
}
