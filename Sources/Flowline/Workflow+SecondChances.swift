public import FlowlineProtocol

extension Workflow {
    /// The workflow with a whole-workflow retry (SPEC §11, TaskFlow's `Times(attempts)` on a flow): when it fails,
    /// its reverts run, then it runs again from the start, up to `maxAttempts` runs in all.
    public func retry(
        maxAttempts: Int,
        backoff: Duration? = nil,
        multiplier: Double? = nil,
        maxBackoff: Duration? = nil
    ) -> Workflow {
        var retry: JSONObject = ["max_attempts": .int(Int64(maxAttempts))]
        if let backoff { retry["backoff_s"] = backoff.jsonSeconds }
        if let multiplier { retry["backoff_multiplier"] = .double(multiplier) }
        if let maxBackoff { retry["max_backoff_s"] = maxBackoff.jsonSeconds }
        var copy = self
        copy.retry = .object(retry)
        return copy
    }
}

extension Step {
    /// The task's trigger rule (SPEC §11): `all_done` runs once every dep ended, `any_failed` only if one failed for
    /// good (`TaskContext.depErrors` holds their errors); the default `all_completed` needs every dep completed.
    public func runIf(_ rule: String) -> Step { with("run_if", .string(rule)) }

    /// Also runs this task's revert when it fails for good, first, with a null result and the task's error
    /// (TaskFlow's "when the execute fails the revert is run").
    public func revertOnFailure() -> Step { with("revert_on_failure", .bool(true)) }
}
