"""One newline-delimited JSON-RPC 2.0 connection: requests with ids matched to their answers (in any order),
notifications, and server-initiated messages handed to a callback. A reader thread owns the socket's input."""

import itertools
import json
import socket
import threading
from typing import Any, Callable, Dict, Optional, Tuple, Union

from .errors import ConnectionLost, RequestTimeout, rpc_error

Address = Union[str, Tuple[str, int]]

DEFAULT_ADDRESS = "127.0.0.1:7420"


def parse_address(address: Address) -> Tuple[str, int]:
    """``"host:port"`` (IPv6 as ``[::1]:7420``) or ``(host, port)`` → ``(host, port)``."""
    if isinstance(address, tuple):
        return address[0], int(address[1])
    text = str(address).strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        return host, int(rest.lstrip(":"))
    host, sep, port = text.rpartition(":")
    if not sep:
        raise ValueError("address must be HOST:PORT, got {!r}".format(address))
    return host or "127.0.0.1", int(port)


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class _Pending:
    __slots__ = ("event", "result", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.result = None  # type: Any
        self.error = None  # type: Optional[BaseException]


class Connection:
    """A connected JSON-RPC peer. ``on_message(msg)`` is called on the reader thread for every request or
    notification the server sends; ``on_close(exc)`` once when the connection ends."""

    def __init__(self, address: Address, connect_timeout: float = 5.0,
                 on_message: Optional[Callable[[Dict[str, Any]], None]] = None,
                 on_close: Optional[Callable[[Optional[BaseException]], None]] = None) -> None:
        self.address = parse_address(address)
        self._on_message = on_message
        self._on_close = on_close
        self._ids = itertools.count(1)
        self._pending = {}  # type: Dict[int, _Pending]
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._closed = False
        self._close_reason = None  # type: Optional[BaseException]
        try:
            self._sock = socket.create_connection(self.address, timeout=connect_timeout)
        except OSError as e:
            raise ConnectionLost("cannot connect to {}:{}: {}".format(self.address[0], self.address[1], e)) from e
        self._sock.settimeout(None)
        self._sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._reader = threading.Thread(target=self._read_loop, name="flowline-reader", daemon=True)
        self._reader.start()

    @property
    def closed(self) -> bool:
        return self._closed

    def call(self, method: str, params: Any = None, timeout: Optional[float] = 30.0) -> Any:
        """Sends a request and blocks for its answer; raises the typed RPCError, ConnectionLost or
        RequestTimeout. ``timeout=None`` waits as long as the connection lives."""
        pending = _Pending()
        with self._lock:
            if self._closed:
                raise ConnectionLost("connection closed: {}".format(self._close_reason or "closed"))
            request_id = next(self._ids)
            self._pending[request_id] = pending
        message = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        try:
            self._send(message)
            if not pending.event.wait(timeout):
                raise RequestTimeout("{}: no answer within {}s".format(method, timeout))
        finally:
            with self._lock:
                self._pending.pop(request_id, None)
        if pending.error is not None:
            if isinstance(pending.error, dict):
                raise rpc_error(pending.error, method)
            raise pending.error
        return pending.result

    def notify(self, method: str, params: Any = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(message)

    def respond(self, request_id: Any, result: Any = None, error: Optional[Dict[str, Any]] = None) -> None:
        message = {"jsonrpc": "2.0", "id": request_id}  # type: Dict[str, Any]
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result if result is not None else {}
        self._send(message)

    def close(self) -> None:
        self._shutdown(None)
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=2)

    # -- internals

    def _send(self, message: Dict[str, Any]) -> None:
        data = (dumps(message) + "\n").encode("utf-8")
        with self._write_lock:
            if self._closed:
                raise ConnectionLost("connection closed: {}".format(self._close_reason or "closed"))
            try:
                self._sock.sendall(data)
            except OSError as e:
                self._shutdown(e)
                raise ConnectionLost("send failed: {}".format(e)) from e

    def _read_loop(self) -> None:
        reason = None  # type: Optional[BaseException]
        buffer = b""
        try:
            while True:
                chunk = self._sock.recv(65536)
                if not chunk:
                    reason = ConnectionLost("the daemon closed the connection")
                    break
                buffer += chunk
                while True:
                    newline = buffer.find(b"\n")
                    if newline < 0:
                        break
                    line, buffer = buffer[:newline], buffer[newline + 1:]
                    if line.strip():
                        self._dispatch(line)
        except OSError as e:
            reason = e
        finally:
            self._shutdown(reason)

    def _dispatch(self, line: bytes) -> None:
        try:
            message = json.loads(line.decode("utf-8"))
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if "method" in message:
            if self._on_message is not None:
                try:
                    self._on_message(message)
                except Exception:  # a callback bug must not kill the reader
                    import traceback
                    traceback.print_exc()
            return
        request_id = message.get("id")
        with self._lock:
            pending = self._pending.get(request_id) if isinstance(request_id, int) else None
        if pending is None:
            return  # e.g. -32700 with id null, or an answer we stopped waiting for
        if "error" in message:
            pending.error = message["error"] if isinstance(message["error"], dict) else {"code": 0, "message": str(message["error"])}
        else:
            pending.result = message.get("result")
        pending.event.set()

    def _shutdown(self, reason: Optional[BaseException]) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._close_reason = reason
            pending = list(self._pending.values())
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        for p in pending:
            p.error = ConnectionLost("connection closed before the answer: {}".format(reason or "closed"))
            p.event.set()
        if self._on_close is not None:
            try:
                self._on_close(reason)
            except Exception:
                pass
