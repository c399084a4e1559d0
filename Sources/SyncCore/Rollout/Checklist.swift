/// One rollout checklist, parsed from its Markdown file in `Checklists/` — the only place the
/// checklists are written down. `Checklists/README.md` describes the format:
///
/// - the first `# ` heading is the title; `## ` and `### ` headings start sections;
/// - every item is a line `- [ ] text — marker` (an em dash between spaces), where the marker is
///   `` auto: `syncctl preflight --phase N` check `id` `` (a preflight check),
///   `` auto: `syncctl status` fact `state.…` `` (a `RolloutFact`), or `manual` optionally
///   followed by `: note` (which may name the command that will automate it);
/// - everything else (prose, code blocks, sub-lists) is for people and is ignored.
public struct Checklist: Sendable, Equatable {
    /// The phases, in rollout order; each is a file `<phase>.md`.
    public static let phases = ["pre-deployment", "phase1", "phase2", "phase3", "post-deployment", "rollback"]

    /// What checks an automatic item.
    public enum Check: Sendable, Equatable {
        /// A `syncctl preflight` check, run for the given phase.
        case preflight(phase: Int, id: String)
        /// A fact from the settings and the journal.
        case fact(RolloutFact)

        public var id: String {
            switch self {
            case .preflight(_, let id): id
            case .fact(let fact): fact.id
            }
        }
    }

    public struct Item: Sendable, Equatable {
        public let text: String
        /// Nil for a manual item.
        public let check: Check?
        /// The command named in the marker (`syncctl preflight --phase 1`), if any.
        public let command: String?
        /// What a manual item's marker adds (`` `syncctl perf-test` (not built yet) ``).
        public let note: String?
        /// 1-based line in the file.
        public let line: Int
    }

    public struct Section: Sendable, Equatable {
        public let title: String
        public let items: [Item]
    }

    public let phase: String
    public let title: String
    public let sections: [Section]

    /// The preflight phases the automatic items need, each to be run once.
    public var preflightPhases: Set<Int> {
        var phases = Set<Int>()
        for item in sections.flatMap(\.items) {
            if case .preflight(let phase, _)? = item.check { phases.insert(phase) }
        }
        return phases
    }

    /// Parses a checklist file.
    ///
    /// - Throws: `ConfigError` (`.badInput`) naming the file's line for an item without a valid
    ///   marker, an unknown fact, or a file without a title or items.
    public static func parse(markdown: String, phase: String, source: String) throws(ConfigError) -> Checklist {
        var title: String?
        var sections: [Section] = []
        var sectionTitle = ""
        var items: [Item] = []
        var inFence = false

        func closeSection() {
            if !items.isEmpty { sections.append(Section(title: sectionTitle, items: items)) }
            items = []
        }

        for (offset, rawLine) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            let number = offset + 1
            if line.hasPrefix("```") {
                inFence.toggle()
                continue
            }
            if inFence { continue }
            if line.hasPrefix("# "), title == nil {
                title = String(line.dropFirst(2)).trimmed
            } else if line.hasPrefix("## ") || line.hasPrefix("### ") {
                closeSection()
                sectionTitle = String(line.drop { $0 == "#" }).trimmed
            } else if line.hasPrefix("- [ ] ") || line.hasPrefix("- [x] ") {
                items.append(try parseItem(String(line.dropFirst(6)), line: number, source: source))
            }
        }
        closeSection()
        guard let title, !title.isEmpty else {
            throw ConfigError(.badInput, "\(source): no title (a first line `# Title`)")
        }
        guard !sections.isEmpty else {
            throw ConfigError(.badInput, "\(source): no items (lines `- [ ] text — manual`)")
        }
        return Checklist(phase: phase, title: title, sections: sections)
    }

    private static func parseItem(_ body: String, line: Int, source: String) throws(ConfigError) -> Item {
        func bad(_ why: String) -> ConfigError {
            ConfigError(.badInput, "\(source):\(line): \(why)")
        }
        guard let separator = body.range(of: " — ", options: .backwards) else {
            throw bad("the item has no marker: end it with ` — manual` or ` — auto: `command` check `id``")
        }
        let text = String(body[..<separator.lowerBound]).trimmed
        let marker = String(body[separator.upperBound...]).trimmed
        if marker.hasPrefix("manual") {
            let note = marker.dropFirst("manual".count).drop { $0 == ":" || $0 == " " }
            return Item(text: text, check: nil, command: codeSpans(in: String(note)).first,
                        note: note.isEmpty ? nil : String(note), line: line)
        }
        guard marker.hasPrefix("auto:") else {
            throw bad("unknown marker '\(marker)': use `manual` or `auto: `command` check `id``")
        }
        let spans = codeSpans(in: marker)
        guard spans.count == 2 else {
            throw bad("an automatic item names a command and an id: auto: `syncctl preflight --phase 1` check `local.reachable`")
        }
        let command = spans[0]
        let id = spans[1]
        if command.hasPrefix("syncctl preflight") {
            let words = command.split(separator: " ")
            var phase = 1
            if let flag = words.firstIndex(of: "--phase") {
                guard flag + 1 < words.count, let value = Int(words[flag + 1]), (1...3).contains(value) else {
                    throw bad("`\(command)`: --phase must be 1, 2 or 3")
                }
                phase = value
            }
            guard id.contains("."), !id.hasPrefix("state.") else { throw bad("'\(id)' is not a preflight check id") }
            return Item(text: text, check: .preflight(phase: phase, id: id), command: command, note: nil, line: line)
        }
        if command == "syncctl status" {
            guard let fact = RolloutFact(id: id) else {
                throw bad("unknown fact '\(id)' (known: \(RolloutFact.knownIDs))")
            }
            return Item(text: text, check: .fact(fact), command: command, note: nil, line: line)
        }
        throw bad("`\(command)` cannot check an item automatically (only `syncctl preflight` and `syncctl status` can); mark it manual")
    }

    /// The texts between backticks.
    private static func codeSpans(in text: String) -> [String] {
        let parts = text.split(separator: "`", omittingEmptySubsequences: false)
        return stride(from: 1, to: parts.count - 1, by: 2).map { String(parts[$0]) }
    }
}

extension String {
    fileprivate var trimmed: String {
        var text = Substring(self)
        while let first = text.first, first == " " || first == "\t" { text = text.dropFirst() }
        while let last = text.last, last == " " || last == "\t" { text = text.dropLast() }
        return String(text)
    }
}
