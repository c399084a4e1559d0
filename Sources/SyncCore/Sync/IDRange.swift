/// A range of documents in `_id` order: `lower` ≤ `_id` < `upper`, either end open (nil).
///
/// Ranges are read with `find`'s `min`/`max` index bounds on `{_id: 1}` rather than
/// `$gte`/`$lt`: a query operator only matches values of its operand's type ("type
/// bracketing"), so `{$gte: 5}` would skip every string `_id`, while index bounds follow BSON's
/// cross-type order and so cover every `_id` of every type.
public struct IDRange: Sendable, Codable, Equatable {
    /// Inclusive; nil means from the first document.
    public var lower: DocumentID?
    /// Exclusive; nil means to the last document.
    public var upper: DocumentID?

    public init(lower: DocumentID? = nil, upper: DocumentID? = nil) {
        self.lower = lower
        self.upper = upper
    }

    /// The whole collection.
    public static let all = IDRange()

    /// `find` options reading the range, in `_id` order unless `sorted` is false (the index
    /// bounds still select exactly the range).
    func findOptions(batchSize: Int32? = nil, sorted: Bool = true) -> FindOptions {
        var options = FindOptions.byID(batchSize: batchSize)
        if !sorted { options.sort = nil }
        if lower != nil || upper != nil {
            options.hint = ["_id": 1]
            options.min = lower?.filter
            options.max = upper?.filter
        }
        return options
    }
}
