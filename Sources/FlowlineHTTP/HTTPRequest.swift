/// One parsed HTTP/1.x request (RFC 9112): what the daemon's small server needs, no more.
public struct HTTPRequest: Sendable, Equatable {
    public var method: String
    /// The request target as sent (`/api/workflows?state=failed`).
    public var target: String
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    public var minorVersion: Int
    /// Field names lower-cased, values with surrounding whitespace trimmed, in the order sent.
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]

    public init(
        method: String,
        target: String,
        minorVersion: Int = 1,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) {
        self.method = method
        self.target = target
        self.minorVersion = minorVersion
        self.headers = headers
        self.body = body
    }

    public static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.target == b.target && a.minorVersion == b.minorVersion && a.body == b.body
            && a.headers.map(\.name) == b.headers.map(\.name) && a.headers.map(\.value) == b.headers.map(\.value)
    }

    /// The first value of field `name` (lower-case).
    public func header(_ name: String) -> String? { headers.first { $0.name == name }?.value }

    /// The path, percent-decoded segment by segment (`/api/workflows/a%2Fb` gives `["api", "workflows", "a/b"]`).
    public var pathSegments: [String] {
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return path.split(separator: "/").map { percentDecoded($0, plusIsSpace: false) ?? String($0) }
    }

    /// The path as sent, without the query.
    public var path: String {
        String(target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }

    /// The query's pairs, percent-decoded, `+` read as a space, in the order sent.
    public var query: [(name: String, value: String)] {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return [] }
        return Self.formPairs(parts[1])
    }

    /// Pairs of an `application/x-www-form-urlencoded` text (a query, or a form's body).
    public static func formPairs(_ text: Substring) -> [(name: String, value: String)] {
        text.split(separator: "&").compactMap { pair in
            let nv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecoded(nv[0], plusIsSpace: true) else { return nil }
            let value = nv.count == 2 ? percentDecoded(nv[1], plusIsSpace: true) : ""
            return value.map { (name, $0) }
        }
    }

    /// The cookie `name`'s value, from the `Cookie` fields.
    public func cookie(_ name: String) -> String? {
        for field in headers where field.name == "cookie" {
            for pair in field.value.split(separator: ";") {
                let nv = pair.split(separator: "=", maxSplits: 1)
                if nv.count == 2 && nv[0].trimmingSpaces == name { return String(nv[1].trimmingSpaces) }
            }
        }
        return nil
    }

    /// Whether the connection stays open after the answer: HTTP/1.1 unless `Connection: close`, HTTP/1.0 only
    /// with `Connection: keep-alive`.
    public var keepAlive: Bool {
        let tokens = headers.filter { $0.name == "connection" }.flatMap {
            $0.value.lowercased().split(separator: ",").map { $0.trimmingSpaces }
        }
        if tokens.contains("close") { return false }
        return minorVersion >= 1 || tokens.contains("keep-alive")
    }
}

/// `%XX` escapes decoded (and `+` as a space when `plusIsSpace`); nil for a bad escape or bytes that are not UTF-8.
public func percentDecoded(_ text: Substring, plusIsSpace: Bool) -> String? {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(text.utf8.count)
    var i = text.utf8.startIndex
    let utf8 = text.utf8
    while i != utf8.endIndex {
        let b = utf8[i]
        if b == UInt8(ascii: "%") {
            let h = utf8.index(after: i)
            guard h != utf8.endIndex, utf8.index(after: h) != utf8.endIndex,
                let hi = hexValue(utf8[h]), let lo = hexValue(utf8[utf8.index(after: h)])
            else { return nil }
            bytes.append(hi << 4 | lo)
            i = utf8.index(h, offsetBy: 2)
            continue
        }
        bytes.append(plusIsSpace && b == UInt8(ascii: "+") ? UInt8(ascii: " ") : b)
        i = utf8.index(after: i)
    }
    return String(validating: bytes, as: UTF8.self)
}

func hexValue(_ b: UInt8) -> UInt8? {
    switch b {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): b - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): b - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): b - UInt8(ascii: "A") + 10
    default: nil
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
