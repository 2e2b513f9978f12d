// The admin tool's entry: parse, run, and turn every failure into one stderr line and an exit code (SPEC §6).
await FlowlineTool.runAndExit()
