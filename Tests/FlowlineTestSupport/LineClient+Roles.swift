public import FlowlineProtocol

extension LineClient {
    /// Connects as a worker for `queues` with `concurrency` slots.
    public static func worker(
        port: Int,
        name: String = "worker",
        queues: [String] = ["default"],
        concurrency: Int = 1
    ) throws -> LineClient {
        let client = try LineClient(port: port)
        let queueList = queues.map { "\"\($0)\"" }.joined(separator: ",")
        _ = try client.result(
            "hello",
            #"{"role":"worker","name":"\#(name)","queues":[\#(queueList)],"concurrency":\#(concurrency),"protocol":1}"#
        )
        return client
    }

    /// Waits for the next `task.run` and returns its params.
    public func nextTask(timeout: Double = 10) throws -> JSON {
        try nextMessage(method: "task.run", timeout: timeout)["params"] ?? .null
    }

    /// Completes a task with a result (JSON text) and returns the response.
    @discardableResult
    public func complete(_ task: JSON, result: String = "null") throws -> JSON {
        try call("task.complete", #"{"lease":"\#(task["lease"]?.stringValue ?? "")","result":\#(result)}"#)
    }

    /// Fails a task's attempt and returns the response.
    @discardableResult
    public func fail(_ task: JSON, type: String = "boom", retryable: Bool = true) throws -> JSON {
        let lease = task["lease"]?.stringValue ?? ""
        return try call(
            "task.fail",
            #"{"lease":"\#(lease)","error":{"type":"\#(type)","message":"it broke","retryable":\#(retryable)}}"#
        )
    }

    /// Submits a workflow document (JSON text) and returns its id.
    public func submit(_ document: String) throws -> String {
        try result("workflow.submit", document)["workflow_id"]?.stringValue ?? ""
    }

    /// Waits for a workflow to end and returns its record.
    public func wait(_ workflowID: String, timeout: Double = 20) throws -> JSON {
        try result("workflow.wait", #"{"workflow_id":"\#(workflowID)","timeout_s":\#(timeout)}"#, timeout: timeout + 5)
    }
}
