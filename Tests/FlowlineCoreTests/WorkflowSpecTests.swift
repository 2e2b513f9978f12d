import FlowlineCore
import Testing

struct WorkflowSpecTests {
    static let cases: [(String, [TaskSpec], String)] = [
        ("no tasks", [], "tasks"),
        ("duplicate ids", [TaskSpec(id: "a", handler: "h"), TaskSpec(id: "a", handler: "h")], "tasks[1].id"),
        (
            "unknown dep", [TaskSpec(id: "a", handler: "h"), TaskSpec(id: "b", handler: "h", deps: ["a", "zz"])],
            "tasks[1].deps[1]"
        ),
        ("self dep", [TaskSpec(id: "a", handler: "h", deps: ["a"])], "tasks[0].deps"),
        (
            "cycle",
            [
                TaskSpec(id: "a", handler: "h", deps: ["c"]), TaskSpec(id: "b", handler: "h", deps: ["a"]),
                TaskSpec(id: "c", handler: "h", deps: ["b"]),
            ], "tasks[0].deps"
        ),
        ("empty handler", [TaskSpec(id: "a", handler: "")], "tasks[0].handler"),
        ("slash in id", [TaskSpec(id: "a/b", handler: "h")], "tasks[0].id"),
        ("empty id", [TaskSpec(id: "", handler: "h")], "tasks[0].id"),
        (
            "zero attempts", [TaskSpec(id: "a", handler: "h", retry: RetryPolicy(maxAttempts: 0))],
            "tasks[0].retry.max_attempts"
        ),
        ("zero timeout", [TaskSpec(id: "a", handler: "h", timeout: .zero)], "tasks[0].timeout_s"),
    ]

    @Test("a bad document names the path of its first bad field", arguments: cases)
    func rejectsWithPath(name: String, tasks: [TaskSpec], path: String) {
        let error = WorkflowSpec(name: "w", tasks: tasks).validate()
        #expect(error?.path == path, "\(name): \(String(describing: error))")
    }

    @Test func goodDocumentPasses() {
        let tasks = [TaskSpec(id: "a", handler: "h"), TaskSpec(id: "b", handler: "h", deps: ["a"])]
        #expect(WorkflowSpec(name: "w", tasks: tasks).validate() == nil)
        #expect(WorkflowSpec(name: "", tasks: tasks).validate()?.path == "name")
    }

    @Test func backoffGrowsAndIsCapped() {
        let policy = RetryPolicy(maxAttempts: 10, backoff: .seconds(1), multiplier: 2, maxBackoff: .seconds(5))
        #expect((1...5).map { policy.delay(afterAttempt: $0) } == [1, 2, 4, 5, 5].map { Duration.seconds($0) })
        let fractional = RetryPolicy(backoff: .fromSeconds(0.05), multiplier: 1.5)
        #expect(fractional.delay(afterAttempt: 2) == .milliseconds(75))
    }
}
