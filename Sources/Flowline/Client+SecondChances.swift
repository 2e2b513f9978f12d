public import FlowlineProtocol

/// SPEC §11's second chances: reruns and the bulk operations.
extension Client {
    /// Runs an ended workflow again under its id: what did not complete (or was reverted), the tasks in `from` and
    /// everything downstream of them. Returns the record, `running` again.
    public func rerun(_ workflowID: String, from: [String] = []) async throws(FlowlineError) -> WorkflowRecord {
        var params: JSONObject = ["workflow_id": .string(workflowID)]
        if !from.isEmpty { params["from"] = .array(from.map(JSON.string)) }
        return try WorkflowRecord(json: try await call("workflow.rerun", .object(params)))
    }

    /// Cancels every running workflow that has the state, the name and all the metadata pairs given (at least one
    /// must be); returns how many it cancelled.
    public func cancelMany(
        state: String? = nil,
        name: String? = nil,
        metadata: [(String, String)] = []
    ) async throws(FlowlineError) -> Int {
        try await bulk("workflow.cancel_many", state: state, name: name, metadata: metadata)
    }

    /// Reruns every ended workflow that matches (as `cancelMany`) and has something to run again; returns how many.
    public func rerunMany(
        state: String? = nil,
        name: String? = nil,
        metadata: [(String, String)] = []
    ) async throws(FlowlineError) -> Int {
        try await bulk("workflow.rerun_many", state: state, name: name, metadata: metadata)
    }

    private func bulk(
        _ method: String,
        state: String?,
        name: String?,
        metadata: [(String, String)]
    ) async throws(FlowlineError) -> Int {
        var params: JSONObject = [:]
        if let state { params["state"] = .string(state) }
        if let name { params["name"] = .string(name) }
        if !metadata.isEmpty {
            var pairs: JSONObject = [:]
            for (key, value) in metadata { pairs[key] = .string(value) }
            params["metadata"] = .object(pairs)
        }
        let result = try await call(method, .object(params))
        guard case .int(let matched)? = result["matched"] else {
            throw .protocolViolation("\(method): matched must be an integer")
        }
        return Int(matched)
    }
}
