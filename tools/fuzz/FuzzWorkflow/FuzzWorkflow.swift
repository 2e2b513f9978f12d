import FlowlineFuzz

/// libFuzzer target (b): a workflow document through `WorkflowSpec(wire:)`, which decodes and validates it.
@main
enum FuzzWorkflow {
    static func main() { FuzzDriver.run(FuzzHarness.workflow) }
}
