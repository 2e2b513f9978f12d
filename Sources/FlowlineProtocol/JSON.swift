public import FlowlineCore

/// A parsed JSON value. Objects are `JSONObject`s: member lists that compare and look up like dictionaries but
/// keep the members in an array, which is cheaper to build and to search for the few members a message has.
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
    case object(JSONObject)
    /// A value kept as the sender's text, checked to be valid JSON but not built: a payload (SPEC §7), which a
    /// parser made with `capturesPayloads` hands over this way so that it is carried verbatim.
    case raw(RawJSON)
}

// MARK: - Literals

extension JSON: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// `nil` is `.null`.
    public init(nilLiteral: ()) { self = .null }
    /// A Boolean literal.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer literal.
    public init(integerLiteral value: Int64) { self = .int(value) }
    /// A floating-point literal.
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string literal.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array literal.
    public init(arrayLiteral elements: JSON...) { self = .array(elements) }
    /// A dictionary literal; a repeated key keeps its last value, as the parser does.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self = .object(JSONObject(elements))
    }
}

// MARK: - Text

extension JSON: CustomStringConvertible {
    /// The compact JSON text, object members in their order.
    public var description: String {
        String(decoding: encoded, as: UTF8.self)
    }
}

// MARK: - Objects

/// The members of a JSON object: each key at most once, in the order first seen.
///
/// It reads like `[String: JSON]` (`object["id"]`, `object["id"] = 1`, `keys`, `values`, `count`, a dictionary
/// literal, `for (key, value) in object`) and converts to and from one (`init(_:)`, `dictionary`). Keys compare
/// as `String`s do, so equality and lookup agree with a dictionary's.
///
/// - Equality ignores member order: `["a": 1, "b": 2] == ["b": 2, "a": 1]`.
/// - Building one from members with a repeated key keeps the first position and the last value.
/// - Lookup scans the members, which beats hashing for the handful a message has; an object of more than
///   `JSONObject.indexThreshold` members also keeps a key index, so lookups and building stay linear in total.
///   Removing a member is O(n), as in an array.
/// - Its `description` is the compact JSON text, members in their order.
public struct JSONObject: Sendable, RandomAccessCollection, ExpressibleByDictionaryLiteral {
    /// One member.
    public typealias Element = (key: String, value: JSON)

    /// One stored member. A struct rather than the `Element` tuple: arrays of tuples are destroyed through the
    /// runtime's generic tuple witness, element by element, which costs several times more.
    struct Member {
        var key: String
        var value: JSON
    }

    /// Above this many members an object keeps a key index for lookups.
    public static let indexThreshold = 16

    // Invariants: keys in `members` are distinct, and `index` (key → position in `members`) is non-nil exactly when
    // there are more than `indexThreshold` members.
    private var members: [Member]
    private var index: [String: Int]?

    /// An empty object.
    public init() {
        members = []
        index = nil
    }

    /// An object with `elements` in order; a repeated key keeps its first position and its last value.
    public init(dictionaryLiteral elements: (String, JSON)...) {
        self.init(elements)
    }

    /// An object with `elements` in order; a repeated key keeps its first position and its last value.
    public init(_ elements: some Sequence<(String, JSON)>) {
        self.init()
        members.reserveCapacity(elements.underestimatedCount)
        for (key, value) in elements { self[key] = value }
    }

    /// An object with the members of `dictionary`, in its iteration order.
    public init(_ dictionary: [String: JSON]) {
        members = dictionary.map { Member(key: $0.key, value: $0.value) }
        index = nil
        if members.count > Self.indexThreshold { buildIndex() }
    }

    /// Takes `elements`, whose keys the caller has checked are distinct.
    init(distinct elements: [Member]) {
        members = elements
        index = nil
        if elements.count > Self.indexThreshold { buildIndex() }
    }

    /// Takes `elements` after dropping repeated keys (first position, last value); O(n) expected.
    init(lastWins elements: [Member]) {
        members = elements
        index = nil
        if elements.count > Self.indexThreshold {
            removeDuplicatesIndexed()
        } else {
            removeDuplicatesLinear()
        }
    }

    /// The members as a dictionary.
    public var dictionary: [String: JSON] {
        // The empty literal is a shared constant; building even an empty dictionary looks up its storage's metadata.
        if members.isEmpty { return [:] }
        var result = [String: JSON](minimumCapacity: members.count)
        for member in members { result[member.key] = member.value }
        return result
    }

    /// The keys, in member order.
    public var keys: [String] { members.map(\.key) }

    /// The values, in member order.
    public var values: [JSON] { members.map(\.value) }

    /// Calls `body` with each member's key and value, in order, lending them rather than copying each out as an
    /// `Element` tuple.
    package func forEachMember(_ body: (String, JSON) -> Void) {
        for i in members.indices { body(members[i].key, members[i].value) }
    }

    /// The position of the member named `key`, if there is one.
    public func index(forKey key: String) -> Int? {
        if let index { return index[key] }
        for i in members.indices where members[i].key == key { return i }
        return nil
    }

    /// The value of the member named `key`; setting nil removes the member, setting a new key appends it.
    public subscript(key: String) -> JSON? {
        get {
            guard let i = index(forKey: key) else { return nil }
            return members[i].value
        }
        set {
            if let i = index(forKey: key) {
                if let newValue {
                    members[i].value = newValue
                } else {
                    removeMember(at: i)
                }
            } else if let newValue {
                members.append(Member(key: key, value: newValue))
                if index != nil {
                    index![key] = members.count - 1
                } else if members.count > Self.indexThreshold {
                    buildIndex()
                }
            }
        }
    }

    /// Removes the member named `key` and returns its value, if there was one.
    @discardableResult
    public mutating func removeValue(forKey key: String) -> JSON? {
        guard let i = index(forKey: key) else { return nil }
        let value = members[i].value
        removeMember(at: i)
        return value
    }

    // MARK: Collection

    /// 0.
    public var startIndex: Int { 0 }
    /// The member count.
    public var endIndex: Int { members.count }
    /// The member at `position`.
    public subscript(position: Int) -> Element {
        let member = members[position]
        return (member.key, member.value)
    }

    // MARK: Private

    private mutating func removeMember(at i: Int) {
        members.remove(at: i)
        if members.count > Self.indexThreshold { buildIndex() } else { index = nil }
    }

    private mutating func buildIndex() {
        var built = [String: Int](minimumCapacity: members.count)
        for i in members.indices { built[members[i].key] = i }
        index = built
    }

    /// For at most `indexThreshold` members, where comparing with the earlier keys is cheaper than hashing.
    private mutating func removeDuplicatesLinear() {
        var kept = 1
        var i = 1
        while i < members.count {
            var earlier: Int?
            for j in 0..<kept where members[j].key == members[i].key {
                earlier = j
                break
            }
            if let earlier {
                members[earlier].value = members[i].value
            } else {
                if kept != i { members.swapAt(kept, i) }
                kept += 1
            }
            i += 1
        }
        if kept < members.count { members.removeLast(members.count - kept) }
    }

    private mutating func removeDuplicatesIndexed() {
        var built = [String: Int](minimumCapacity: members.count)
        var kept = 0
        for i in members.indices {
            if let earlier = built[members[i].key] {
                members[earlier].value = members[i].value
            } else {
                built[members[i].key] = kept
                if kept != i { members.swapAt(kept, i) }
                kept += 1
            }
        }
        if kept < members.count { members.removeLast(members.count - kept) }
        if kept > Self.indexThreshold { index = built }
    }
}

extension JSONObject: Equatable {
    /// Whether both have the same keys with equal values, in any order.
    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        guard lhs.members.count == rhs.members.count else { return false }
        for member in lhs.members {
            guard let other = rhs[member.key], other == member.value else { return false }
        }
        return true
    }
}

extension JSONObject: CustomStringConvertible {
    /// The compact JSON text, members in their order.
    public var description: String { JSON.object(self).description }
}
