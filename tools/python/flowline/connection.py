"""One newline-delimited JSON-RPC 2.0 connection: requests with ids matched to their answers (in any order),
notifications, and server-initiated messages handed to a callback. A reader thread owns the socket's input.

Cheap per message, because a worker's throughput is the CPU it spends per task: the reader takes whatever one
``recv`` returned, handles every complete line in it and only then writes what the handling queued (one
``sendall`` for all of it); ``request`` queues a request whose answer goes to a callback on the reader thread
instead of a thread blocked on it, and ``flush`` writes everything queued so far in one ``sendall``."""

import errno
import itertools
import json
import socket
import threading
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

from .errors import ConnectionLost, RequestTimeout, rpc_error

Address = Union[str, Tuple[str, int]]

DEFAULT_ADDRESS = "127.0.0.1:7420"

RECV_BYTES = 1 << 18

# An answer callback: ``callback(result, error)``; error is None, the JSON-RPC error object (a dict), or
# ConnectionLost when the connection ended first.
AnswerCallback = Callable[[Any, Any], None]


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


_encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def dumps(value: Any) -> str:
    return _encoder.encode(value)


_scan = json.JSONDecoder().scan_once


def loads(text: str) -> Any:
    """``json.loads`` for one line, without its whitespace and encoding checks on the common path (a line that
    starts with a value and holds nothing after it); anything else goes through ``json.loads``."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return json.loads(text)
    if end != len(text):
        return json.loads(text)  # trailing whitespace is fine; anything else raises
    return value


class _Pending:
    __slots__ = ("event", "result", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.result = None  # type: Any
        self.error = None  # type: Optional[BaseException]

    def __call__(self, result: Any, error: Any) -> None:
        self.result = result
        self.error = error
        self.event.set()



def _not_sent(error: ConnectionLost) -> ConnectionLost:
    """Marks a loss that happened before any byte of the request left: retrying it is safe for every method."""
    error.not_sent = True  # type: ignore[attr-defined]
    return error


class Connection:
    """A connected JSON-RPC peer. ``on_message(msg)`` is called on the reader thread for every request or
    notification the server sends; ``on_batch()`` after all the lines of one read were handled (and before
    what they queued is written); ``on_close(exc)`` once when the connection ends."""

    def __init__(self, address: Address, connect_timeout: float = 5.0,
                 on_message: Optional[Callable[[Dict[str, Any]], None]] = None,
                 on_close: Optional[Callable[[Optional[BaseException]], None]] = None,
                 on_batch: Optional[Callable[[], None]] = None) -> None:
        self.address = parse_address(address)
        self._on_message = on_message
        self._on_close = on_close
        self._on_batch = on_batch
        self._ids = itertools.count(1)
        self._pending = {}  # type: Dict[int, AnswerCallback]
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # guards _out and keeps writes whole and in order
        self._out = []  # type: List[str]
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
            self._send(dumps(message))
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

    def request(self, method: str, params_json: str, callback: AnswerCallback, flush: bool = True) -> None:
        """Sends a request whose params are already JSON text without waiting: ``callback(result, error)`` runs
        on the reader thread when the answer arrives (error: the JSON-RPC error object), or with a
        ConnectionLost error when the connection ends first (at once if it already has). ``flush=False`` only
        queues it, for the next ``flush()``."""
        with self._lock:
            if self._closed:
                closed = True
            else:
                closed = False
                request_id = next(self._ids)
                self._pending[request_id] = callback
        if closed:
            callback(None, ConnectionLost("connection closed: {}".format(self._close_reason or "closed")))
            return
        line = '{"jsonrpc":"2.0","id":%d,"method":"%s","params":%s}' % (request_id, method, params_json)
        if flush:
            self._send(line, raise_lost=False)
        else:
            with self._write_lock:
                self._out.append(line)

    def notify(self, method: str, params: Any = None) -> None:
        message = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            message["params"] = params
        self._send(dumps(message))

    def respond(self, request_id: Any, result: Any = None, error: Optional[Dict[str, Any]] = None) -> None:
        message = {"jsonrpc": "2.0", "id": request_id}  # type: Dict[str, Any]
        if error is not None:
            message["error"] = error
        else:
            message["result"] = result if result is not None else {}
        self._send(dumps(message))

    @property
    def queued(self) -> int:
        """Lines queued and not yet written."""
        return len(self._out)

    def flush(self) -> None:
        """Writes everything queued, in one ``sendall``. A failed write closes the connection (whose end
        answers every waiting request with ConnectionLost) and does not raise."""
        if self._out:
            self._send(None, raise_lost=False)

    def close(self) -> None:
        self._shutdown(None)
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout=2)

    # -- internals

    def _send(self, line: Optional[str], raise_lost: bool = True) -> None:
        """Writes what is queued, then ``line``, in one ``sendall``."""
        with self._write_lock:
            out = self._out
            if line is not None:
                out.append(line)
            if not out:
                return
            self._out = []
            if self._closed:
                if raise_lost:
                    raise _not_sent(ConnectionLost("connection closed: {}".format(self._close_reason or "closed")))
                return
            out.append("")
            try:
                self._sock.sendall("\n".join(out).encode("utf-8"))
            except OSError as e:
                failed = e
            else:
                return
        self._shutdown(failed)
        if raise_lost:
            lost = ConnectionLost("send failed: {}".format(failed))
            # EBADF: the reader closed the socket first, so not a byte left; other errors may come mid-line.
            raise (_not_sent(lost) if failed.errno == errno.EBADF else lost) from failed

    def _read_loop(self) -> None:
        reason = None  # type: Optional[BaseException]
        recv_into = self._sock.recv_into
        buffer = bytearray(RECV_BYTES)  # reused: a fresh 256 KiB bytes per recv costs an mmap and munmap
        view = memoryview(buffer)
        dispatch = self._dispatch
        on_batch = self._on_batch
        partial = []  # type: List[bytes]  # the start of a line longer than what one recv returned
        try:
            while True:
                n = recv_into(buffer)
                if not n:
                    reason = ConnectionLost("the daemon closed the connection")
                    break
                chunk = view[:n].tobytes()
                if b"\n" not in chunk:
                    partial.append(chunk)
                    continue
                if partial:
                    partial.append(chunk)
                    chunk = b"".join(partial)
                    partial = []
                lines = chunk.split(b"\n")
                rest = lines.pop()
                if rest:
                    partial.append(rest)
                for line in lines:
                    dispatch(line)
                if on_batch is not None:
                    try:
                        on_batch()
                    except Exception:  # a callback bug must not kill the reader
                        import traceback
                        traceback.print_exc()
                if self._out:
                    self._send(None, raise_lost=False)
        except OSError as e:
            reason = e
        finally:
            self._shutdown(reason)

    def _dispatch(self, line: bytes) -> None:
        try:
            message = loads(line.decode("utf-8"))
        except ValueError:  # UnicodeDecodeError is one too
            return
        if type(message) is not dict:
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
        callback = self._pending.pop(request_id, None) if type(request_id) is int else None
        if callback is None:
            return  # e.g. -32700 with id null, or an answer we stopped waiting for
        if "error" in message:
            error = message["error"]
            if not isinstance(error, dict):
                error = {"code": 0, "message": str(error)}
            result = None
        else:
            error = None
            result = message.get("result")
        try:
            callback(result, error)
        except Exception:
            import traceback
            traceback.print_exc()

    def _shutdown(self, reason: Optional[BaseException]) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._close_reason = reason
            pending = list(self._pending.values())
            self._pending.clear()
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        try:
            self._sock.close()
        except OSError:
            pass
        for callback in pending:
            try:
                callback(None, ConnectionLost("connection closed before the answer: {}".format(reason or "closed")))
            except Exception:
                import traceback
                traceback.print_exc()
        if self._on_close is not None:
            try:
                self._on_close(reason)
            except Exception:
                pass
