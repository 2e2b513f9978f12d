"""Flowline's Python client and worker (standard library only).

    from flowline import Client, Flow, Future, Sleep, Poll, Spawn, task, send, chain, in_parallel
"""

from .client import Client, connect
from .connection import DEFAULT_ADDRESS, parse_address
from .errors import (ConnectionLost, FlowlineError, IdInUse, InvalidParams, InvalidRequest, LineTooLong,
                     MethodNotFound, ParseError, RequestTimeout, RPCError, StaleLease, Unauthorized, Unavailable,
                     UnknownWorkflow)
from .flow import Flow, bind_call
from .pipeline import Pipeline, Signature, bind, chain, group, in_parallel, send
from .outcomes import (Awaitable, Future, PermanentFailure, Poll, Retry, Sleep, Spawn, TaskFailure, done, pending,
                       task)
from .worker import TaskContext, Worker

__version__ = "0.1.0"

__all__ = [
    "Client", "connect", "DEFAULT_ADDRESS", "parse_address",
    "FlowlineError", "ConnectionLost", "RequestTimeout", "RPCError", "ParseError", "InvalidRequest",
    "MethodNotFound", "InvalidParams", "Unauthorized", "UnknownWorkflow", "StaleLease", "LineTooLong",
    "Unavailable", "IdInUse",
    "Flow", "bind_call",
    "Pipeline", "Signature", "bind", "chain", "group", "in_parallel", "send",
    "Awaitable", "Future", "Sleep", "Poll", "Spawn", "Retry", "task", "done", "pending", "TaskFailure",
    "PermanentFailure",
    "Worker", "TaskContext",
]
