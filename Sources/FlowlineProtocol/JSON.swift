/// A parsed JSON value. Objects keep their members in a dictionary: the daemon never needs the
/// order of incoming keys, and everything it sends is written by `JSONWriter` in a fixed order.
public enum JSON: Equatable, Sendable {
    /// `null`.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A number written without fraction or exponent that fits in 64 bits.
    case int(Int64)
    /// Any other number.
    case double(Double)
    /// A string, unescaped.
    case string(String)
    /// An array.
    case array([JSON])
    /// An object.
    case object([String: JSON])
}
