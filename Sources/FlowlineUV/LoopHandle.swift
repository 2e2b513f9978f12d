internal import CLibUV

/// What every handle wrapper shares: the `uv_*_t` it allocated, `unref()`, `close()`, and freeing that memory
/// once libuv is done with it. `EventLoop.deinit` closes, through this class, the handles its users left open.
///
/// Ownership (libuv `handle.rst`): `init(adopting:)` stores `Unmanaged.passRetained(self)` in `handle.data`, C
/// callbacks reach the wrapper with `takeUnretainedValue()` (`owner(_:of:)`), and only the close callback takes that
/// retain back, frees the handle and calls `didClose()`. An open handle therefore keeps its wrapper alive; `close()`
/// is what ends it. Subclasses are final and live in this module; not for use from other threads.
@safe public class LoopHandle {
    /// The `uv_*_t`, as allocated by `makeHandle`; freed when the close completes.
    private let rawHandle: UnsafeMutableRawPointer
    /// Whether `close()` has begun: from then on the handle must not be started, written or read.
    final private(set) var isClosing = false

    /// Adopts `handle`, which `makeHandle` allocated and initialized: from here on only the close callback frees it
    /// and ends this wrapper. Call it last in a subclass's `init`, once its own properties are set.
    init(adopting handle: UnsafeMutableRawPointer) {
        unsafe rawHandle = handle
        unsafe cuv_handle(handle).pointee.data = Unmanaged.passRetained(self).toOpaque()
    }

    /// Lets `EventLoop.run()` return while this handle is the only thing left (`uv_unref`).
    public func unref() {
        guard !isClosing else { return }
        unsafe uv_unref(cuv_handle(rawHandle))
    }

    /// Starts `uv_close`; idempotent. Callbacks stop; `didClose()` runs when the close completes.
    public func close() {
        guard !isClosing else { return }
        isClosing = true
        willClose()
        unsafe uv_close(cuv_handle(rawHandle), { unsafe release(LoopHandle.self, of: $0).finishClose() })
    }

    /// Runs in `close()`, before `uv_close`, once.
    func willClose() {}

    /// Runs once the close has completed and the handle is freed: drop the closures here (they may capture this
    /// wrapper) and tell the user.
    func didClose() {}

    private func finishClose() {
        unsafe rawHandle.deallocate()
        didClose()
    }
}

/// Allocates a `uv_*_t` and runs its `uv_*_init` (`initialize`), freeing it again and throwing if that fails.
func makeHandle<Handle>(
    _: Handle.Type,
    _ call: String,
    _ initialize: (UnsafeMutablePointer<Handle>) -> Int32
) throws(UVError) -> UnsafeMutablePointer<Handle> {
    let handle = UnsafeMutablePointer<Handle>.allocate(capacity: 1)
    let rc = unsafe initialize(handle)
    guard rc >= 0 else {
        unsafe handle.deallocate()
        throw UVError(call: call, code: rc)
    }
    return unsafe handle
}

/// The wrapper stored in `handle.data`, without touching its retain count. For C callback trampolines.
@inline(__always)
func owner<Owner: AnyObject>(_: Owner.Type, of handle: UnsafeMutableRawPointer?) -> Owner {
    unsafe Unmanaged<Owner>.fromOpaque(cuv_handle(handle).pointee.data).takeUnretainedValue()
}

/// The wrapper stored in `handle.data`, taking back the retain stored there. Only for the close callback.
@inline(__always)
private func release<Owner: AnyObject>(_: Owner.Type, of handle: UnsafeMutableRawPointer?) -> Owner {
    unsafe Unmanaged<Owner>.fromOpaque(cuv_handle(handle).pointee.data).takeRetainedValue()
}
