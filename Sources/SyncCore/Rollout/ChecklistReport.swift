import Foundation

/// A checklist with every automatic item checked: what `syncctl checklist` prints, and what a
/// sign-off records.
public struct ChecklistReport: Sendable, Codable, Equatable {
    /// An item's state. Automatic items end passed, warning (passed, with something to look
    /// at — as in preflight), failed, or not checked (a check it depends on failed first, or it
    /// did not apply); manual items are open: the operator confirms them by signing off.
    public enum ItemResult: String, Sendable, Codable {
        case passed, warning, failed
        case notChecked = "not-checked"
        case open
    }

    public struct Item: Sendable, Codable, Equatable {
        public let text: String
        /// "automatic" or "manual".
        public let kind: String
        /// The command that checks (or, for a manual item, will check) it.
        public let command: String?
        /// The preflight check id or fact id.
        public let check: String?
        public let result: ItemResult
        /// What the check saw, or the manual item's note.
        public let detail: String?
    }

    public struct Section: Sendable, Codable, Equatable {
        public let title: String
        public let items: [Item]
    }

    public struct Summary: Sendable, Codable, Equatable {
        public var passed = 0
        public var warnings = 0
        public var failed = 0
        public var notChecked = 0
        public var manual = 0
    }

    public let phase: String
    public let title: String
    public let sections: [Section]
    public let summary: Summary

    /// True when every automatic item passed (warnings included): the checklist may be signed off.
    public var ok: Bool { summary.failed == 0 && summary.notChecked == 0 }

    /// Checks every automatic item of `checklist`: preflight items against `preflight` (the
    /// outcomes of one preflight run per phase the checklist needs), facts against `facts`.
    public init(_ checklist: Checklist, preflight: [Int: [CheckOutcome]], facts: RolloutFacts) {
        var summary = Summary()
        var sections: [Section] = []
        for section in checklist.sections {
            var items: [Item] = []
            for item in section.items {
                let result: ItemResult
                let detail: String?
                switch item.check {
                case nil:
                    (result, detail) = (.open, item.note)
                case .preflight(let phase, let id)?:
                    (result, detail) = Self.judge(id: id, in: preflight[phase] ?? [])
                case .fact(let fact)?:
                    let outcome = facts.evaluate(fact)
                    (result, detail) = (outcome.result == .pass ? .passed : .failed, outcome.detail)
                }
                switch result {
                case .passed: summary.passed += 1
                case .warning: summary.warnings += 1
                case .failed: summary.failed += 1
                case .notChecked: summary.notChecked += 1
                case .open: summary.manual += 1
                }
                items.append(Item(text: item.text, kind: item.check == nil ? "manual" : "automatic", command: item.command,
                                  check: item.check?.id, result: result, detail: detail))
            }
            sections.append(Section(title: section.title, items: items))
        }
        self.phase = checklist.phase
        self.title = checklist.title
        self.sections = sections
        self.summary = summary
    }

    /// A preflight item: its outcome, or — when preflight did not report it because an earlier
    /// check of the same server failed or did not apply — "not checked", with that check's reason.
    static func judge(id: String, in outcomes: [CheckOutcome]) -> (ItemResult, String?) {
        if let outcome = outcomes.first(where: { $0.id == id }) {
            switch outcome.result {
            case .pass: return (.passed, outcome.detail)
            case .warn: return (.warning, outcome.detail)
            case .fail: return (.failed, outcome.detail)
            case .skip: return (.notChecked, outcome.detail)
            }
        }
        let group = id.split(separator: ".").first.map(String.init) ?? id
        if let blocker = outcomes.first(where: { $0.id.hasPrefix(group + ".") && ($0.result == .fail || $0.result == .warn) }) {
            return (.notChecked, "not checked: \(blocker.id) — \(blocker.detail)")
        }
        return (.notChecked, "not checked: preflight did not report '\(id)'")
    }

    /// The journal line for `syncctl checklist PHASE --sign-off NAME`: who signed, and the result
    /// of every automatic item at that moment.
    public func signOffEntry(name: String, time: Date = Date()) -> JournalEntry {
        var results: [String: JSONValue] = [:]
        for item in sections.flatMap(\.items) {
            if let check = item.check { results[check] = .string(item.result.rawValue) }
        }
        return JournalEntry(
            command: "sign-off", result: "ok",
            details: [
                "phase": .string(phase),
                "name": .string(name),
                "checklist": .string(title),
                "automatic": .object(results),
                "passed": .number(Double(summary.passed + summary.warnings)),
                "manualConfirmed": .number(Double(summary.manual)),
            ],
            time: time)
    }
}
