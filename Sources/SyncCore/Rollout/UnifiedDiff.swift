/// A line diff in the unified format `diff -u` prints, for showing a planned dotenv edit
/// (`--dry-run`, and before asking). Lines are compared with their line endings, so a changed
/// ending would show; the endings themselves are not printed.
public enum UnifiedDiff {
    /// The diff from `old` to `new` with `context` unchanged lines around each change; empty
    /// when the texts are equal. `display` transforms every shown line (used to hide secrets).
    public static func make(
        old: String, new: String, oldLabel: String, newLabel: String, context: Int = 1,
        display: (String) -> String = { $0 }
    ) -> String {
        let oldLines = lines(of: old)
        let newLines = lines(of: new)
        let difference = newLines.difference(from: oldLines)
        guard !difference.isEmpty else { return "" }
        var removed = Set<Int>()
        var inserted = Set<Int>()
        for change in difference {
            switch change {
            case .remove(let offset, _, _): removed.insert(offset)
            case .insert(let offset, _, _): inserted.insert(offset)
            }
        }

        // The edit script: every line of both texts in order, tagged.
        enum Tag { case same, removed, inserted }
        var script: [(tag: Tag, oldIndex: Int, newIndex: Int)] = []
        var i = 0
        var j = 0
        while i < oldLines.count || j < newLines.count {
            if i < oldLines.count, removed.contains(i) {
                script.append((.removed, i, j))
                i += 1
            } else if j < newLines.count, inserted.contains(j) {
                script.append((.inserted, i, j))
                j += 1
            } else {
                script.append((.same, i, j))
                i += 1
                j += 1
            }
        }

        // Hunks: runs of changes with their context, merged when the contexts touch.
        let changed = script.indices.filter { script[$0].tag != .same }
        var hunks: [ClosedRange<Int>] = []
        for index in changed {
            let range = max(0, index - context)...min(script.count - 1, index + context)
            if let last = hunks.last, range.lowerBound <= last.upperBound + 1 {
                hunks[hunks.count - 1] = last.lowerBound...max(last.upperBound, range.upperBound)
            } else {
                hunks.append(range)
            }
        }

        var output = "--- \(oldLabel)\n+++ \(newLabel)\n"
        for hunk in hunks {
            let steps = script[hunk]
            let oldCount = steps.filter { $0.tag != .inserted }.count
            let newCount = steps.filter { $0.tag != .removed }.count
            let oldStart = oldCount == 0 ? steps.first!.oldIndex : steps.first { $0.tag != .inserted }!.oldIndex + 1
            let newStart = newCount == 0 ? steps.first!.newIndex : steps.first { $0.tag != .removed }!.newIndex + 1
            output += "@@ -\(range(oldStart, oldCount)) +\(range(newStart, newCount)) @@\n"
            for step in steps {
                let (marker, line) =
                    switch step.tag {
                    case .same: (" ", oldLines[step.oldIndex])
                    case .removed: ("-", oldLines[step.oldIndex])
                    case .inserted: ("+", newLines[step.newIndex])
                    }
                output += marker + display(strippingEnding(line)) + "\n"
                if !hasEnding(line) { output += "\\ No newline at end of file\n" }
            }
        }
        return output
    }

    private static func range(_ start: Int, _ count: Int) -> String {
        count == 1 ? "\(start)" : "\(start),\(count)"
    }

    /// The lines of `text`, each with its ending (`\n`, `\r\n` or `\r`, as dotenv counts them).
    static func lines(of text: String) -> [String] {
        var result: [String] = []
        var current = String.UnicodeScalarView()
        var previousWasCR = false
        for scalar in text.unicodeScalars {
            if previousWasCR {
                if scalar == "\n" {
                    current.append(scalar)
                    result.append(String(current))
                    current = String.UnicodeScalarView()
                    previousWasCR = false
                    continue
                }
                result.append(String(current))
                current = String.UnicodeScalarView()
                previousWasCR = false
            }
            current.append(scalar)
            if scalar == "\n" {
                result.append(String(current))
                current = String.UnicodeScalarView()
            } else if scalar == "\r" {
                previousWasCR = true
            }
        }
        if !current.isEmpty { result.append(String(current)) }
        return result
    }

    private static func hasEnding(_ line: String) -> Bool {
        line.unicodeScalars.last == "\n" || line.unicodeScalars.last == "\r"
    }

    private static func strippingEnding(_ line: String) -> String {
        var scalars = line.unicodeScalars
        while let last = scalars.last, last == "\n" || last == "\r" { scalars.removeLast() }
        return String(scalars)
    }
}
