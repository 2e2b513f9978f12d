import FlowlineProtocol
import Testing

struct JSONTests {
    @Test("literals build the matching cases")
    func literals() {
        let value: JSON = ["a": [1, 2.5, "s", true, nil], "b": [:]]
        #expect(
            value
                == .object([
                    "a": .array([.int(1), .double(2.5), .string("s"), .bool(true), .null]), "b": .object([:]),
                ])
        )
    }

    @Test("accessors read members, elements and scalars")
    func accessors() throws {
        let value = try JSONParser.parse(Array(#"{"n":3,"d":2.0,"f":2.5,"s":"x","b":false,"z":null,"l":[7]}"#.utf8))
        #expect(value["n"]?.int64Value == 3)
        #expect(value["d"]?.int64Value == 2)
        #expect(value["f"]?.int64Value == nil)
        #expect(value["f"]?.doubleValue == 2.5)
        #expect(value["n"]?.doubleValue == 3)
        #expect(value["s"]?.stringValue == "x")
        #expect(value["b"]?.boolValue == false)
        #expect(value["z"]?.isNull == true)
        #expect(value["l"]?[0] == 7)
        #expect(value["l"]?[1] == nil)
        #expect(value["missing"] == nil)
        #expect(value["l"]?.arrayValue == [7])
        #expect(value.objectValue?.count == 7)
        #expect(JSON.int(1)["a"] == nil)
        #expect(JSON.string("1").int64Value == nil)
    }

    @Test("description is the compact encoding, members in their order")
    func description() {
        let value: JSON = ["b": [1, "x"], "a": nil]
        #expect(value.description == #"{"b":[1,"x"],"a":null}"#)
        #expect(value.encoded == Array(value.description.utf8))
    }
}
