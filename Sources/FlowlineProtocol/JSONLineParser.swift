/// A `JSONParser` for a stream of documents, such as the lines of one connection: it keeps its working storage
/// between documents instead of allocating it for each one. It accepts and rejects exactly what
/// `JSONParser.parse` does, with the same values and errors.
public struct JSONLineParser {
    /// Above this many stacked members the storage is released after a document, so one huge line does not pin
    /// its memory for the life of the connection.
    static let keptCapacity = 1024

    private var parser: Parser

    /// Creates a parser that rejects more than `maxDepth` nested arrays and objects. With `capturesPayloads`, the
    /// members named `input`, `result` and `progress` within a message's `params` come back as `.raw` text, for a
    /// daemon that carries them verbatim (SPEC §7); without, every value is built.
    /// With `keepsNumberText`, a number an `Int64` or a `Double` would change comes back as `.raw` text.
    public init(maxDepth: Int = 256, capturesPayloads: Bool = false, keepsNumberText: Bool = false) {
        parser = Parser(
            maxDepth: maxDepth,
            payloadDepth: capturesPayloads ? 2 : .max,
            keepsNumberText: keepsNumberText
        )
    }

    /// Parses exactly one JSON value from `bytes`, allowing whitespace around it.
    public mutating func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSON {
        defer { parser.reset(keptCapacity: Self.keptCapacity) }
        return try parser.parseDocument(bytes.span)
    }

    /// Parses exactly one JSON value from `bytes`; error offsets count from `bytes.startIndex`.
    public mutating func parse(_ bytes: ArraySlice<UInt8>) throws(JSONParseError) -> JSON {
        defer { parser.reset(keptCapacity: Self.keptCapacity) }
        return try parser.parseDocument(bytes.span)
    }
}
