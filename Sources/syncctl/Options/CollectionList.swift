/// `--collections a, b` (backup, restore, full-sync, verify-consistency) → ["a", "b"].
enum CollectionList {
    static func parse(_ text: String) -> [String] {
        text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    }
}
