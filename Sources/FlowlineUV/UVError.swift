internal import CLibUV

/// A failed libuv call: the C function and the negative `UV_E*` code it returned (or reported to a callback).
public struct UVError: Error, Equatable, CustomStringConvertible {
    /// The libuv function that failed, such as `"uv_tcp_bind"`.
    public let call: String
    /// The negative libuv error code (`UV_EADDRINUSE`, `UV_ECONNREFUSED`, ...), which is `-errno` on Linux.
    public let code: Int32

    /// Creates an error for `call` failing with `code`.
    public init(call: String, code: Int32) {
        self.call = call
        self.code = code
    }

    /// The symbolic name of the code (`uv_err_name`), such as `"EADDRINUSE"`.
    public var name: String { unsafe String(cString: uv_err_name(code)) }

    /// The call and its message (`uv_strerror`), such as `"uv_tcp_bind: address already in use"`.
    public var description: String { unsafe "\(call): \(String(cString: uv_strerror(code)))" }
}

/// Throws a `UVError` naming `call` when `rc` is a libuv error code (negative).
@inline(__always)
func check(_ rc: Int32, _ call: String) throws(UVError) {
    if rc < 0 { throw UVError(call: call, code: rc) }
}

/// Traps when a call that can fail only through misuse (a closed or foreign handle) fails: a broken invariant, not
/// an environment error (STYLE 2.9).
@inline(__always)
func checkInvariant(_ rc: Int32, _ call: String) {
    if rc < 0 { preconditionFailure("\(UVError(call: call, code: rc))") }
}
