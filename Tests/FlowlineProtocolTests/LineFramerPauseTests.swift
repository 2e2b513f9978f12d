import FlowlineProtocol
import Testing

/// `feed(_:while:)`: the daemon stops framing a peer's chunk when the peer's output is over its bound, and feeds
/// the rest later, possibly to a new framer (after `hello` lifts the 64 KiB limit of an unknown peer).
struct LineFramerPauseTests {
    private func collect(_ frame: LineFramer.FrameSlice, into frames: inout [LineFramer.Frame]) {
        switch frame {
        case .line(let line): frames.append(.line(Array(line)))
        case .tooLong: frames.append(.tooLong)
        }
    }

    @Test func stoppingAfterEachFrameAndResumingGivesTheSameFramesAsFeedingWhole() {
        for chunkSize in [1, 2, 3, 7, 16, LineFramerTests.golden.count] {
            var framer = LineFramer(maxLineBytes: LineFramerTests.limit)
            var frames: [LineFramer.Frame] = []
            var start = 0
            while start < LineFramerTests.golden.count {
                var chunk = LineFramerTests.golden[start..<min(start + chunkSize, LineFramerTests.golden.count)]
                start = chunk.endIndex
                // One frame per call: every stop leaves the framer between lines, with the rest still to feed.
                while !chunk.isEmpty {
                    let end = framer.feed(chunk) { frame in
                        collect(frame, into: &frames)
                        return false
                    }
                    #expect(end > chunk.startIndex && end <= chunk.endIndex)
                    chunk = chunk[end...]
                }
            }
            #expect(frames == LineFramerTests.expected, "chunks of \(chunkSize)")
        }
    }

    @Test func theRestAfterAStopCanGoToANewFramerWithAnotherLimit() {
        let stream = Array("short\n".utf8) + Array(repeating: UInt8(ascii: "z"), count: 40) + [10]
        var small = LineFramer(maxLineBytes: 8)
        var frames: [LineFramer.Frame] = []
        let end = small.feed(stream[...]) { frame in
            collect(frame, into: &frames)
            return false
        }
        #expect(end == 6)
        #expect(frames == [.line(Array("short".utf8))])
        #expect(small.bufferedBytes == 0)
        var large = LineFramer(maxLineBytes: 64)
        #expect(
            large.feed(stream[end...]) {
                collect($0, into: &frames)
                return true
            } == stream.endIndex
        )
        #expect(frames == [.line(Array("short".utf8)), .line(Array(repeating: UInt8(ascii: "z"), count: 40))])
    }
}
