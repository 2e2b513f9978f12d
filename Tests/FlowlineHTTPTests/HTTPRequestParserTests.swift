import FlowlineHTTP
import Testing

@Suite struct HTTPRequestParserTests {
    private func parse(_ text: String, _ parser: inout HTTPRequestParser) throws(HTTPParseError) -> HTTPRequest? {
        parser.append(Array(text.utf8))
        return try parser.next()
    }

    @Test func requestLineHeadersAndQuery() throws {
        var parser = HTTPRequestParser()
        let request = try #require(
            try parse(
                "GET /api/workflows?state=failed&name=a%20b+c HTTP/1.1\r\nHost: x\r\nX-Thing:  v \r\n\r\n",
                &parser
            )
        )
        #expect(request.method == "GET")
        #expect(request.path == "/api/workflows")
        #expect(request.minorVersion == 1)
        #expect(request.header("x-thing") == "v")
        #expect(request.query.map(\.name) == ["state", "name"])
        #expect(request.query.map(\.value) == ["failed", "a b c"])
        #expect(request.keepAlive)
        #expect(!parser.hasPartialRequest)
    }

    @Test func bytesArriveOneByOne() throws {
        var parser = HTTPRequestParser()
        let text = "POST /login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nab=cd"
        var got: HTTPRequest?
        for byte in text.utf8 {
            #expect(got == nil)
            parser.append([byte])
            got = try parser.next()
        }
        let request = try #require(got)
        #expect(request.body == Array("ab=cd".utf8))
    }

    @Test func pipelinedRequestsComeOneAtATime() throws {
        var parser = HTTPRequestParser()
        parser.append(Array("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.0\r\n\r\nGET /c".utf8))
        #expect(try parser.next()?.path == "/a")
        let second = try #require(try parser.next())
        #expect(second.path == "/b")
        #expect(!second.keepAlive)
        #expect(try parser.next() == nil)
        #expect(parser.hasPartialRequest)
    }

    @Test func keepAliveRules() throws {
        var parser = HTTPRequestParser()
        #expect(try parse("GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", &parser)?.keepAlive == false)
        #expect(try parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", &parser)?.keepAlive == true)
    }

    @Test func percentDecodedPathSegments() throws {
        var parser = HTTPRequestParser()
        let request = try #require(try parse("GET /api/workflows/a%2Fb/history HTTP/1.1\r\nHost: x\r\n\r\n", &parser))
        #expect(request.pathSegments == ["api", "workflows", "a/b", "history"])
    }

    @Test func cookies() throws {
        var parser = HTTPRequestParser()
        let request = try #require(
            try parse("GET / HTTP/1.1\r\nHost: x\r\nCookie: a=1; flowline_token=s3=cr\r\n\r\n", &parser)
        )
        #expect(request.cookie("flowline_token") == "s3=cr")
        #expect(request.cookie("b") == nil)
    }

    @Test(arguments: [
        ("GET /\r\n\r\n", 400),
        ("GET / HTTP/1.1 extra\r\nHost: x\r\n\r\n", 400),
        ("GET relative HTTP/1.1\r\nHost: x\r\n\r\n", 400),
        ("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        ("GET / HTTP/1.1\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400),
        ("GET / HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        ("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 70000\r\n\r\n", 413),
        ("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 501),
    ])
    func badRequests(text: String, status: Int) {
        var parser = HTTPRequestParser()
        parser.append(Array(text.utf8))
        #expect(throws: HTTPParseError.self) { try parser.next() }
        do {
            _ = try parser.next()
        } catch {
            #expect(error.status == status)
        }
    }

    @Test func headerSizeAndCountAreBounded() {
        var parser = HTTPRequestParser(maxHeaderBytes: 1024, maxHeaderCount: 10)
        // No end of head in sight: refused once past the bound, without waiting for more.
        parser.append(Array(("GET / HTTP/1.1\r\nHost: x\r\nX: " + String(repeating: "a", count: 2000)).utf8))
        do {
            _ = try parser.next()
            Issue.record("an endless head was accepted")
        } catch {
            #expect(error.status == 431)
        }
        var counted = HTTPRequestParser(maxHeaderBytes: 1024, maxHeaderCount: 10)
        counted.append(
            Array(("GET / HTTP/1.1\r\nHost: x\r\n" + String(repeating: "A: b\r\n", count: 10) + "\r\n").utf8)
        )
        do {
            _ = try counted.next()
            Issue.record("11 fields were accepted")
        } catch {
            #expect(error.status == 431)
        }
    }

    @Test func responseSerialization() {
        let response = HTTPResponse(status: 404, headers: [("Content-Type", "text/plain")], body: Array("no\n".utf8))
        #expect(
            String(decoding: response.serialized(keepAlive: false), as: UTF8.self)
                == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nno\n"
        )
        #expect(
            String(decoding: response.serialized(keepAlive: true, headOnly: true), as: UTF8.self)
                == "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 3\r\n\r\n"
        )
    }
}

@Suite struct PrometheusTextTests {
    @Test func labelValuesAreEscaped() {
        var text = PrometheusText()
        text.family("x_total", "counter", help: "a \\ help\nline")
        text.sample("x_total", [("queue", "a\"b\\c\nd")], 3)
        #expect(
            text.text
                == "# HELP x_total a \\\\ help\\nline\n# TYPE x_total counter\nx_total{queue=\"a\\\"b\\\\c\\nd\"} 3\n"
        )
    }

    @Test func histogramBucketsAreCumulative() {
        var h = Histogram(bounds: [0.1, 1])
        for v in [0.05, 0.1, 0.5, 2.0] { h.observe(v) }
        var text = PrometheusText()
        text.histogram("h", [("q", "a")], h)
        #expect(
            text.text == """
                h_bucket{q="a",le="0.1"} 2
                h_bucket{q="a",le="1"} 3
                h_bucket{q="a",le="+Inf"} 4
                h_sum{q="a"} 2.65
                h_count{q="a"} 4

                """
        )
    }
}
