import FlowlineFuzz

/// libFuzzer target (a): bytes off a socket through the line framer, `RPCMessage.decode` and `Call.decode`.
@main
enum FuzzLine {
    static func main() { FuzzDriver.run(FuzzHarness.line) }
}
