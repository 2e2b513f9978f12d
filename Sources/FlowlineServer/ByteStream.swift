import FlowlineUV

/// The bytes of one peer, both ways: what `Connection` needs of its transport, so that a TLS stream can wrap a
/// `TCPConnection` and stand in for it. Everything is called on the loop thread.
protocol ByteStream: AnyObject {
    /// Called with each chunk read, while reading.
    var onRead: (([UInt8]) -> Void)? { get set }
    /// Called once when the stream is closed, by either side; with the error that closed it, if any.
    var onClose: ((UVError?) -> Void)? { get set }
    /// The peer's address, for logs.
    var peer: String { get }
    /// Bytes written and not yet taken by the kernel (or the layer below).
    var unsentBytes: Int { get }
    var isClosed: Bool { get }
    func startReading()
    func stopReading()
    /// Queues `bytes` after what was written before.
    func write(_ bytes: [UInt8])
    func close()
    /// Closes once what was written has been sent; later writes are dropped.
    func closeAfterWrites()
}

extension TCPConnection: ByteStream {}
