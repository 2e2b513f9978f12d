import FlowlineCore
import FlowlineHTTP
import FlowlineJournal
import FlowlineProtocol
import Logging

/// What each HTTP path answers (SPEC §10).
extension Daemon {
    /// The cookie the login page sets: the token itself, kept from scripts (`HttpOnly`) and other sites
    /// (`SameSite=Strict`).
    static let tokenCookie = "flowline_token"

    func respond(to request: HTTPRequest) -> HTTPResponse {
        let segments = request.pathSegments
        let isPost = request.method == "POST"
        guard request.method == "GET" || request.method == "HEAD" || (isPost && segments == ["login"]) else {
            var response = HTTPResponse.text(405, "method not allowed")
            response.headers.append(("Allow", segments == ["login"] ? "GET, HEAD, POST" : "GET, HEAD"))
            return response
        }
        switch segments {
        case ["healthz"]: return .text(200, "ok")
        case ["readyz"]: return readiness()
        case ["login"]: return isPost ? login(request) : Self.page(WebUI.login(message: nil))
        default: break
        }
        if configuration.tokens != nil {
            // Any good token reads /metrics; admin and client tokens read the UI and /api (SPEC §10, §12).
            guard let grant = grant(of: request) else {
                if segments.first == "api" || segments == ["metrics"] {
                    var response = Self.json(401) {
                        Self.error(&$0, "a token is required: Authorization: Bearer TOKEN")
                    }
                    response.headers.append(("WWW-Authenticate", "Bearer"))
                    return response
                }
                return HTTPResponse(status: 303, headers: [("Location", "/login"), ("Cache-Control", "no-store")])
            }
            if grant.role == .worker && segments != ["metrics"] {
                return Self.json(403) { Self.error(&$0, "a worker token reads /metrics only") }
            }
        }
        switch segments {
        case []: return Self.page(WebUI.page)
        case ["metrics"]:
            return HTTPResponse(
                status: 200,
                headers: [("Content-Type", PrometheusText.contentType), ("Cache-Control", "no-store")],
                body: Array(metricsText().utf8)
            )
        case ["favicon.ico"]: return HTTPResponse(status: 204)
        default: break
        }
        guard segments.first == "api" else { return .text(404, "not found") }
        return api(Array(segments.dropFirst()), request)
    }

    /// The rights of the request's token (`Authorization: Bearer`, else the login cookie); nil without a good one.
    private func grant(of request: HTTPRequest) -> AccessTokens.Grant? {
        guard let tokens = configuration.tokens else { return nil }
        if let field = request.header("authorization"), field.hasPrefix("Bearer ") {
            return tokens.grant(for: String(field.dropFirst(7)))
        }
        if let cookie = request.cookie(Self.tokenCookie),
            let given = percentDecoded(Substring(cookie), plusIsSpace: false)
        {
            return tokens.grant(for: given)
        }
        return nil
    }

    /// `/readyz`: 200 while the journal takes writes; 503 with the reason while it is full, asking it each time
    /// whether it has room again (which ends the full state at once).
    private func readiness() -> HTTPResponse {
        if journalFull && !journalHasRoom() {
            return .text(503, "journal full: writes are refused until the disk (or --max-map-size) has room")
        }
        return .text(200, "ready")
    }

    private func login(_ request: HTTPRequest) -> HTTPResponse {
        let form = HTTPRequest.formPairs(Substring(String(decoding: request.body, as: UTF8.self)))
        let given = form.first { $0.name == "token" }?.value ?? ""
        guard let tokens = configuration.tokens else {
            return HTTPResponse(status: 303, headers: [("Location", "/")])
        }
        guard let grant = tokens.grant(for: given) else {
            var response = Self.page(WebUI.login(message: "That token is not one of the daemon's."))
            response.status = 401
            return response
        }
        guard grant.role != .worker else {
            var response = Self.page(WebUI.login(message: "A worker token does not open the web UI."))
            response.status = 403
            return response
        }
        let value = Self.cookieEncoded(given)
        return HTTPResponse(
            status: 303,
            headers: [
                ("Location", "/"),
                ("Set-Cookie", "\(Self.tokenCookie)=\(value); Path=/; HttpOnly; SameSite=Strict"),
                ("Cache-Control", "no-store"),
            ]
        )
    }

    /// The token percent-encoded where a cookie value may not hold it as is.
    static func cookieEncoded(_ s: String) -> String {
        var out = ""
        for byte in s.utf8 {
            let safe =
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if safe {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                let hex = Array("0123456789ABCDEF".utf8)
                out += "%"
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(Unicode.Scalar(hex[Int(byte & 15)]))
            }
        }
        return out
    }

    // MARK: - /api

    private func api(_ path: [String], _ request: HTTPRequest) -> HTTPResponse {
        switch path.count {
        case 1:
            switch path[0] {
            case "workflows": return workflowsPage(request)
            case "workers": return Self.json(200) { $0.workers(self.coordinator.workers) }
            case "queues": return queuesJSON()
            case "schedules":
                return Self.json(200) { w in
                    w.beginObject()
                    w.key("schedules")
                    w.beginArray()
                    w.endArray()
                    w.endObject()
                }
            case "stats": return Self.json(200) { self.writeStats(&$0) }
            default: break
            }
        case 2 where path[0] == "workflows":
            guard let workflow = coordinator.state.workflows[WorkflowID(path[1])] else { return unknown(path[1]) }
            return Self.json(200) { $0.workflow(workflow) }
        case 3 where path[0] == "workflows" && path[2] == "history":
            return historyJSON(WorkflowID(path[1]))
        case 3 where path[0] == "workflows" && path[2] == "inputs":
            // Each task's input, which the workflow record leaves out: the UI shows it beside the task.
            guard let workflow = coordinator.state.workflows[WorkflowID(path[1])] else { return unknown(path[1]) }
            return Self.json(200) { w in
                w.beginObject()
                w.key("inputs")
                w.beginObject()
                for task in workflow.tasks {
                    w.key(task.id.rawValue)
                    w.raw(task.spec.input)
                }
                w.endObject()
                w.endObject()
            }
        default: break
        }
        return Self.json(404) { Self.error(&$0, "no such API path") }
    }

    /// `workflow.list`'s params from the query, checked by the same decoder as the RPC method.
    private func workflowsPage(_ request: HTTPRequest) -> HTTPResponse {
        var params: [(String, JSON)] = []
        for (name, value) in request.query where !value.isEmpty {
            params.append((name, name == "limit" ? Int64(value).map(JSON.int) ?? .string(value) : .string(value)))
        }
        let query: ListQuery
        do {
            guard case .list(let q) = try Call.decode(method: "workflow.list", params: .object(JSONObject(params)))
            else { return Self.json(500) { Self.error(&$0, "unexpected call") } }
            query = q
        } catch {
            return Self.json(400) { w in
                let path = error.data.flatMap { data -> String? in
                    if case .object(let o) = data, let p = o.first(where: { $0.key == "path" })?.value,
                        case .string(let s) = p
                    {
                        return s
                    }
                    return nil
                }
                Self.error(&w, path.map { "\($0): \(error.message)" } ?? error.message)
            }
        }
        return Self.json(200) { $0.workflowList(self.list(query)) }
    }

    private func historyJSON(_ w: WorkflowID) -> HTTPResponse {
        guard coordinator.state.workflows[w] != nil else { return unknown(w.rawValue) }
        do {
            let events = try journal.history(of: w)
            return Self.json(200) { $0.history(events) }
        } catch {
            logger.error("cannot read history", metadata: ["workflow_id": "\(w)", "error": "\(error)"])
            return Self.json(503) { Self.error(&$0, "cannot read the journal") }
        }
    }

    /// Each queue's backlog, its oldest ready task's wait, and its counters (the UI turns them into rates).
    private func queuesJSON() -> HTTPResponse {
        let now = Clock.now()
        let facts = coordinator.queueFacts()
        let byName = Dictionary(facts.map { ($0.queue, $0) }, uniquingKeysWith: { a, _ in a })
        let names = Set(facts.map(\.queue)).union(metrics.queues.keys).sorted()
        var workers: [String: (count: Int, slots: Int, running: Int)] = [:]
        for worker in coordinator.workers {
            for queue in worker.queues {
                workers[queue, default: (0, 0, 0)].count += 1
                workers[queue, default: (0, 0, 0)].slots += worker.concurrency
                workers[queue, default: (0, 0, 0)].running += worker.running.count
            }
        }
        return Self.json(200) { w in
            w.beginObject()
            w.key("queues")
            w.beginArray()
            for name in Set(names).union(workers.keys).sorted() {
                let counters = self.metrics.queues[name]
                w.beginObject()
                w.key("queue")
                w.string(name)
                w.key("ready")
                w.int(Int64(byName[name]?.ready ?? 0))
                w.key("oldest_ready_s")
                if let at = byName[name]?.oldestReadyAt {
                    w.double(Double(max(0, now.milliseconds - at.milliseconds)) / 1000)
                } else {
                    w.null()
                }
                w.key("dispatched_total")
                w.int(Int64(counters?.dispatched ?? 0))
                w.key("finished_total")
                w.beginObject()
                for outcome in RunOutcome.allCases {
                    w.key(outcome.label)
                    w.int(Int64(counters?.finished[outcome.rawValue] ?? 0))
                }
                w.endObject()
                w.key("workers")
                w.int(Int64(workers[name]?.count ?? 0))
                w.key("slots")
                w.int(Int64(workers[name]?.slots ?? 0))
                w.key("running")
                w.int(Int64(workers[name]?.running ?? 0))
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
    }

    private func unknown(_ id: String) -> HTTPResponse {
        Self.json(404) { Self.error(&$0, "unknown workflow \(id)") }
    }

    static func json(_ status: Int, _ body: (inout JSONWriter) -> Void) -> HTTPResponse {
        var writer = JSONWriter()
        body(&writer)
        writer.bytes.append(0x0A)
        return HTTPResponse(
            status: status,
            headers: [("Content-Type", "application/json"), ("Cache-Control", "no-store")],
            body: writer.bytes
        )
    }

    static func error(_ w: inout JSONWriter, _ message: String) {
        w.beginObject()
        w.key("error")
        w.string(message)
        w.endObject()
    }

    static func page(_ html: String) -> HTTPResponse {
        HTTPResponse(
            status: 200,
            headers: [
                ("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store"),
                // Everything the page needs is in it: nothing may be fetched from elsewhere.
                (
                    "Content-Security-Policy",
                    "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:"
                ),
                ("X-Content-Type-Options", "nosniff"), ("Referrer-Policy", "no-referrer"),
            ],
            body: Array(html.utf8)
        )
    }
}
