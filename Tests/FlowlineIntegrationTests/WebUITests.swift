import FlowlineProtocol
import FlowlineTestSupport
import Foundation
import Testing

/// The web UI in a real headless Chromium (Debian's `chromium`, which tools/test installs): each page renders,
/// after its script ran, what it must show. Screenshots are kept in a directory the test prints.
@Suite(.timeLimit(.minutes(3)))
struct WebUITests {
    /// Loads `url`, lets its script run for `budget` ms of virtual time, saves a screenshot, returns the DOM.
    static func render(_ url: String, screenshot: String, profile: String) throws -> ToolProcess.Output {
        try ToolProcess.runProgram(
            "/usr/bin/chromium",
            [
                "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--user-data-dir=\(profile)",
                "--window-size=1400,1000", "--virtual-time-budget=3000", "--screenshot=\(screenshot)", "--dump-dom",
                url,
            ],
            timeout: 90
        )
    }

    @Test func pagesRenderInHeadlessChromium() throws {
        try #require(
            FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium"),
            "chromium is missing: tools/test installs Debian's package"
        )
        let f = try Fixture(arguments: ["--http", "127.0.0.1:0"])
        let http = try #require(f.daemon.httpPort)
        let client = try f.client()
        _ = try client.submit(
            #"""
            {"name":"nightly-etl","id":"etl-1","metadata":{"team":"data"},"tasks":[
             {"id":"extract","handler":"extract","input":{"source":"s3://raw"}},
             {"id":"clean_orders","handler":"clean","deps":["extract"]},
             {"id":"clean_users","handler":"clean","deps":["extract"]},
             {"id":"join","handler":"join","deps":["clean_orders","clean_users"]},
             {"id":"report","handler":"report","deps":["join"]},
             {"id":"audit","handler":"audit","deps":["clean_users"],"queue":"slow"}]}
            """#
        )
        for i in 0..<6 {
            _ = try client.submit(#"{"name":"resize","id":"job-\#(i)","tasks":[{"id":"run","handler":"h"}]}"#)
        }
        let worker = try f.worker(name: "ui-worker")
        // extract, then the six jobs (one failing for good), then clean_orders; clean_users is left running.
        for _ in 0..<8 {
            let task = try worker.nextTask()
            if task["workflow_id"]?.stringValue == "job-3" {
                try worker.fail(task, type: "too_large", retryable: false)
            } else {
                try worker.complete(task, result: #"{"ok":true}"#)
            }
        }
        let running = try worker.nextTask()
        let artefacts = NSTemporaryDirectory() + "flowline-webui-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: artefacts, withIntermediateDirectories: true)
        print("WebUITests: screenshots in \(artefacts)")
        let pages = [
            ("list", "/"), ("workflow", "/#/w/etl-1"), ("queues", "/#/queues"), ("workers", "/#/workers"),
        ]
        // Side by side: a Chromium start is most of the cost.
        final class Results: @unchecked Sendable {
            let lock = NSLock()
            var byPage: [String: ToolProcess.Output] = [:]
        }
        let collected = Results()
        DispatchQueue.concurrentPerform(iterations: pages.count) { i in
            let (name, path) = pages[i]
            let output = try? Self.render(
                "http://127.0.0.1:\(http)\(path)",
                screenshot: "\(artefacts)/\(name).png",
                profile: "\(artefacts)/profile-\(name)"
            )
            collected.lock.withLock { collected.byPage[name] = output }
        }
        let results = collected.byPage
        for (name, _) in pages {
            let output = try #require(results[name], "\(name): chromium did not run")
            try #require(output.status == 0, "\(name): \(output.stderr.suffix(2000))")
            #expect(FileManager.default.fileExists(atPath: "\(artefacts)/\(name).png"), "\(name)")
            try? FileManager.default.removeItem(atPath: "\(artefacts)/profile-\(name)")
        }
        let list = results["list"]?.stdout ?? ""
        for id in ["etl-1", "job-0", "job-5"] { #expect(list.contains(">\(id)</a>"), "\(id) in the list") }
        #expect(
            list.contains(">failed</span>") && list.contains(">completed</span>") && list.contains(">running</span>")
        )
        let workflow = results["workflow"]?.stdout ?? ""
        // Each task is a node of the graph, titled with its state.
        #expect(workflow.contains("<title>extract · completed</title>"), "\(workflow.suffix(3000))")
        #expect(workflow.contains("<title>clean_orders · completed</title>"))
        #expect(workflow.contains("<title>clean_users · running</title>"))
        #expect(workflow.contains("<title>join · blocked</title>"))
        #expect(workflow.contains("<title>audit · blocked</title>"))
        #expect(workflow.contains("(3 runs)"), "the timeline shows every run")
        #expect(running["task_id"]?.stringValue == "clean_users")
        let queues = results["queues"]?.stdout ?? ""
        #expect(queues.contains("<td>default</td>"))
        let workers = results["workers"]?.stdout ?? ""
        #expect(workers.contains("<td>ui-worker</td>"))
    }
}
