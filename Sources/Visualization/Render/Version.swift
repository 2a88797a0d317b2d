/// The tool version recorded in every manifest.
public enum FilterVisVersion {
    public static let current = "0.1.0"
}
