public import FlowlineJournal

/// Everything `flowlined`'s flags decide (SPEC §5).
public struct DaemonConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 7420
    /// Sessions must present one of these tokens in `hello` when set, and may then call what its role allows.
    public var tokens: AccessTokens?
    public var maxLineBytes = 16 * 1024 * 1024
    /// How long finished workflows are kept.
    public var retention: Duration = .seconds(7 * 86400)
    /// How long an early future resolution is kept.
    public var futureRetention: Duration = .seconds(7 * 86400)
    /// A connection whose unsent output passes this is closed: a peer that does not read cannot make the daemon buffer without bound.
    public var maxPendingOutputBytes = 64 * 1024 * 1024

    /// A checkpoint is written once this many events were committed since the last one... A checkpoint snapshots
    /// every workflow changed since the last, so under a burst of short workflows it costs about what their events
    /// did; at 100,000 a burst of 20,000 tasks pays none, and a restart replays at most this many events (~0.1-0.25 s).
    public var checkpointEvents = 100_000
    /// ...or this long after it, whichever comes first (and at shutdown).
    public var checkpointInterval: Duration = .seconds(30)

    /// How many early future resolutions may be kept at once; past it one more is refused with -32602.
    public var maxKeptFutures = 1_000_000
    /// Where a token is required, a peer that has not said a good `hello` this long after connecting is closed.
    public var helloTimeout: Duration = .seconds(10)
    /// A peer with output held back for it (over `maxPendingOutputBytes`) whose socket takes no byte for this long
    /// is closed: it does not read.
    public var outputStallTimeout: Duration = .seconds(5)
    /// The LMDB journal's settings (`--data`, `--sync`, `--map-size`, `--max-map-size`); the daemon takes its lock.
    public var journal = LMDBJournalConfiguration()

    /// `--http`: where to serve metrics, health, the API and the web UI (SPEC §10); off when nil.
    public var httpHost: String?
    public var httpPort = 0
    /// An HTTP request must arrive whole within this long of its first byte (slow peers, slowloris).
    public var httpRequestTimeout: Duration = .seconds(10)

    public init() {}
}
