"""Typed errors: every JSON-RPC error the daemon answers becomes an RPCError subclass chosen by its code."""

from typing import Any, Dict, Optional, Type


class FlowlineError(Exception):
    """Base class of everything this package raises on purpose."""


class ConnectionLost(FlowlineError):
    """The connection to the daemon closed (or could not be opened) before the answer came."""


class RequestTimeout(FlowlineError):
    """No answer came within the call's timeout."""


class RPCError(FlowlineError):
    """A JSON-RPC error answer: ``code``, ``message`` and ``data`` exactly as the daemon sent them."""

    code = 0  # type: int

    def __init__(self, code: int, message: str, data: Any = None, method: Optional[str] = None) -> None:
        self.code = code
        self.message = message
        self.data = data
        self.method = method
        text = "{} ({})".format(message, code)
        if isinstance(data, dict) and data.get("path"):
            text += " at {}".format(data["path"])
        if method:
            text = "{}: {}".format(method, text)
        super().__init__(text)

    @property
    def path(self) -> Optional[str]:
        """``data.path`` when the daemon named the bad field (-32602), else None."""
        if isinstance(self.data, dict):
            p = self.data.get("path")
            return p if isinstance(p, str) else None
        return None


class ParseError(RPCError):
    code = -32700


class InvalidRequest(RPCError):
    code = -32600


class MethodNotFound(RPCError):
    code = -32601


class InvalidParams(RPCError):
    code = -32602


class Unauthorized(RPCError):
    code = -32001


class UnknownWorkflow(RPCError):
    """-32002: no such workflow or task."""

    code = -32002


class StaleLease(RPCError):
    code = -32003


class LineTooLong(RPCError):
    code = -32004


class Unavailable(RPCError):
    """-32005: the journal cannot take writes (disk full)."""

    code = -32005


class IdInUse(RPCError):
    """-32006: the workflow id already names a different document (``data["workflow_id"]``)."""

    code = -32006


_BY_CODE = {
    cls.code: cls
    for cls in (ParseError, InvalidRequest, MethodNotFound, InvalidParams, Unauthorized, UnknownWorkflow,
                StaleLease, LineTooLong, Unavailable, IdInUse)
}  # type: Dict[int, Type[RPCError]]


def rpc_error(error: Any, method: Optional[str] = None) -> RPCError:
    """Builds the typed exception for one JSON-RPC ``error`` object."""
    if not isinstance(error, dict):
        return RPCError(0, "malformed error: {!r}".format(error), None, method)
    code = error.get("code")
    if not isinstance(code, int):
        code = 0
    cls = _BY_CODE.get(code, RPCError)
    return cls(code, str(error.get("message", "")), error.get("data"), method)
