extension RawJSON {
    /// Whether both texts are the same JSON value: object members in any order (a repeated key keeps its last
    /// value), strings equal once unescaped, numbers equal as exact decimals (`1.50` is `1.5e0`, `-0` is `0`).
    /// Both must be valid JSON, as every `RawJSON` the codecs made is.
    public func isEquivalent(to other: RawJSON) -> Bool {
        if bytes == other.bytes { return true }
        var a = CanonicalReader(bytes: bytes)
        var b = CanonicalReader(bytes: other.bytes)
        return a.value() == b.value()
    }
}

/// A JSON value in a form where equal values compare equal.
private indirect enum CanonicalJSON: Equatable {
    case null
    case bool(Bool)
    /// `digits` without leading or trailing zeros (empty for zero), value `0.digits × 10^exponent`.
    case number(negative: Bool, digits: [UInt8], exponent: Int)
    case string([UInt8])
    case array([CanonicalJSON])
    /// Sorted by key bytes, each key once.
    case object([(key: [UInt8], value: CanonicalJSON)])

    static func == (lhs: CanonicalJSON, rhs: CanonicalJSON) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case (.bool(let a), .bool(let b)): return a == b
        case (.number(let n1, let d1, let e1), .number(let n2, let d2, let e2)): return n1 == n2 && d1 == d2 && e1 == e2
        case (.string(let a), .string(let b)): return a == b
        case (.array(let a), .array(let b)): return a == b
        case (.object(let a), .object(let b)):
            return a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
        default: return false
        }
    }
}

/// Reads already-validated JSON text into `CanonicalJSON`; it checks nothing, and reads garbage as something.
private struct CanonicalReader {
    let bytes: [UInt8]
    var i = 0

    init(bytes: [UInt8]) { self.bytes = bytes }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    mutating func value() -> CanonicalJSON {
        skipSpace()
        guard i < bytes.count else { return .null }
        switch bytes[i] {
        case UInt8(ascii: "n"):
            i += 4
            return .null
        case UInt8(ascii: "t"):
            i += 4
            return .bool(true)
        case UInt8(ascii: "f"):
            i += 5
            return .bool(false)
        case UInt8(ascii: "\""): return .string(string())
        case UInt8(ascii: "["):
            i += 1
            var elements: [CanonicalJSON] = []
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
                i += 1
                return .array([])
            }
            while i < bytes.count {
                elements.append(value())
                skipSpace()
                let separator = i < bytes.count ? bytes[i] : UInt8(ascii: "]")
                i += 1
                if separator != UInt8(ascii: ",") { break }
            }
            return .array(elements)
        case UInt8(ascii: "{"):
            i += 1
            var members: [[UInt8]: CanonicalJSON] = [:]
            skipSpace()
            if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
                i += 1
                return .object([])
            }
            while i < bytes.count {
                skipSpace()
                let key = string()
                skipSpace()
                i += 1  // ':'
                members[key] = value()
                skipSpace()
                let separator = i < bytes.count ? bytes[i] : UInt8(ascii: "}")
                i += 1
                if separator != UInt8(ascii: ",") { break }
            }
            let sorted = members.sorted { $0.key.lexicographicallyPrecedes($1.key) }
            return .object(sorted.map { (key: $0.key, value: $0.value) })
        default: return number()
        }
    }

    /// The string at `i` (its opening quote), unescaped to UTF-8.
    mutating func string() -> [UInt8] {
        i += 1
        var out: [UInt8] = []
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            guard bytes[i] == UInt8(ascii: "\\"), i + 1 < bytes.count else {
                out.append(bytes[i])
                i += 1
                continue
            }
            let c = bytes[i + 1]
            i += 2
            switch c {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4()
                if (0xD800...0xDBFF).contains(scalar), i + 1 < bytes.count, bytes[i] == UInt8(ascii: "\\") {
                    i += 2
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (hex4() - 0xDC00)
                }
                out.append(contentsOf: Unicode.Scalar(scalar).map { Array(String($0).utf8) } ?? [])
            default: out.append(c)
            }
        }
        i += 1
        return out
    }

    mutating func hex4() -> UInt32 {
        var v: UInt32 = 0
        for _ in 0..<4 where i < bytes.count {
            let b = bytes[i]
            let digit: UInt8
            switch b {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = b - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = b - UInt8(ascii: "a") + 10
            default: digit = b &- UInt8(ascii: "A") &+ 10
            }
            v = v << 4 | UInt32(digit & 0xF)
            i += 1
        }
        return v
    }

    /// The number at `i` as sign, significant digits and exponent, so that any two spellings of one value agree.
    mutating func number() -> CanonicalJSON {
        var negative = false
        if i < bytes.count, bytes[i] == UInt8(ascii: "-") {
            negative = true
            i += 1
        }
        var digits: [UInt8] = []
        var pointAt = 0  // digits before the decimal point
        func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }
        while i < bytes.count, isDigit(bytes[i]) {
            digits.append(bytes[i])
            pointAt += 1
            i += 1
        }
        if i < bytes.count, bytes[i] == UInt8(ascii: ".") {
            i += 1
            while i < bytes.count, isDigit(bytes[i]) {
                digits.append(bytes[i])
                i += 1
            }
        }
        var exponent = 0
        if i < bytes.count, bytes[i] == UInt8(ascii: "e") || bytes[i] == UInt8(ascii: "E") {
            i += 1
            var negativeExponent = false
            if i < bytes.count, bytes[i] == UInt8(ascii: "-") || bytes[i] == UInt8(ascii: "+") {
                negativeExponent = bytes[i] == UInt8(ascii: "-")
                i += 1
            }
            while i < bytes.count, isDigit(bytes[i]) {
                // Saturates: exponents this large only matter as "huge" and compare equal among themselves.
                exponent = min(exponent * 10 + Int(bytes[i] - UInt8(ascii: "0")), 100_000_000)
                i += 1
            }
            if negativeExponent { exponent = -exponent }
        }
        let leading = digits.prefix { $0 == UInt8(ascii: "0") }.count
        if leading == digits.count { return .number(negative: false, digits: [], exponent: 0) }
        let trailing = digits.reversed().prefix { $0 == UInt8(ascii: "0") }.count
        let significant = Array(digits[leading..<(digits.count - trailing)])
        return .number(negative: negative, digits: significant, exponent: pointAt - leading + exponent)
    }
}
