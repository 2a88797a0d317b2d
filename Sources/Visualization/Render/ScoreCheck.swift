extension FilterResult {
    /// Throws naming the filters whose final score is NaN or infinite: such images are noise, not results, and a
    /// run that made them must not exit 0.
    public static func requireFiniteScores(_ results: [FilterResult], layer: String) throws {
        let bad = results.filter { !$0.score.isFinite || !$0.curve.allSatisfy(\.isFinite) }.map(\.filter)
        if !bad.isEmpty { throw VisualizationError.nonFiniteScores(layer: layer, filters: bad) }
    }
}
