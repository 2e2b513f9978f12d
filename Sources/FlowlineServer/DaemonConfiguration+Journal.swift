public import FlowlineJournal
internal import FlowlineProtocol

/// The journal's settings as flags name them, so that `flowlined` sets them without importing the journal.
extension DaemonConfiguration {
    /// `--data`: the journal's directory.
    public var dataDirectory: String {
        get { journal.directory }
        set { journal.directory = newValue }
    }
    /// `--sync`.
    public var sync: SyncMode {
        get { journal.sync }
        set { journal.sync = newValue }
    }
    /// `--map-size`: the journal's first LMDB map size; it doubles when full...
    public var mapSize: Int {
        get { journal.mapSize }
        set { journal.mapSize = newValue }
    }
    /// `--max-map-size`: ...up to this; past it (or when the disk is full) writes are refused with -32005.
    public var maxMapSize: Int {
        get { journal.maxMapSize }
        set { journal.maxMapSize = newValue }
    }

    /// Sets `sync` from `--sync`'s value (`full` or `none`); false, changing nothing, for another.
    public mutating func setSync(named name: String) -> Bool {
        guard let mode = SyncMode(rawValue: name) else { return false }
        sync = mode
        return true
    }

    /// Sets `host` and `port` from `--listen`'s value (`HOST:PORT`, IPv6 in brackets); false, changing nothing,
    /// when it is not one.
    public mutating func setListen(_ text: String) -> Bool {
        guard let address = HostPort(parsing: text, ports: 0...65535) else { return false }
        host = address.host
        port = address.port
        return true
    }

    /// Sets `httpHost` and `httpPort` from `--http`'s `HOST:PORT`; false for text that is not one.
    public mutating func setHTTP(_ text: String) -> Bool {
        guard let address = HostPort(parsing: text, ports: 0...65535) else { return false }
        httpHost = address.host
        httpPort = address.port
        return true
    }

    /// `host:port` as `--listen` takes it (IPv6 in brackets).
    public static func address(host: String, port: Int) -> String { HostPort(host: host, port: port).description }

    /// The version the daemon reports (`hello`, `--version`).
    public static var version: String { flowlineVersion }
}
