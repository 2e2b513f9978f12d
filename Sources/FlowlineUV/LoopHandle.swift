internal import CLibUV

/// Implemented by every handle wrapper, so `EventLoop.deinit` can close the handles its users left open.
///
/// Ownership, written once per wrapper (libuv `handle.rst`): the wrapper allocates its `uv_*_t`, stores
/// `Unmanaged.passRetained(self)` in `handle.data` right after `uv_*_init`, C callbacks reach it with
/// `takeUnretainedValue()` (`owner(_:of:)`), and only its close callback takes that retain back (`release(_:of:)`)
/// and frees the memory. An open handle therefore keeps its wrapper alive; `close()` is what ends it.
protocol LoopHandle: AnyObject {
    /// Starts `uv_close`; idempotent. Loop thread only.
    func close()
}

/// The wrapper stored in `handle.data`, without touching its retain count. For C callback trampolines.
@inline(__always)
func owner<Owner: AnyObject>(_: Owner.Type, of handle: UnsafeMutableRawPointer?) -> Owner {
    unsafe Unmanaged<Owner>.fromOpaque(cuv_handle(handle).pointee.data).takeUnretainedValue()
}

/// The wrapper stored in `handle.data`, taking back the retain stored there. Only for close callbacks.
@inline(__always)
func release<Owner: AnyObject>(_: Owner.Type, of handle: UnsafeMutableRawPointer?) -> Owner {
    unsafe Unmanaged<Owner>.fromOpaque(cuv_handle(handle).pointee.data).takeRetainedValue()
}

/// Stores the retain of `owner` in `handle.data`: from here on only the close callback may end `owner`.
@inline(__always)
func adopt(_ handle: UnsafeMutableRawPointer, by owner: AnyObject) {
    unsafe cuv_handle(handle).pointee.data = Unmanaged.passRetained(owner).toOpaque()
}
