"""A query or update on a workflow, with Temporal's failures said as one `OperationError` line.

Shared by every operation whose state lives in a workflow (risk supervisor, copy leaders), so the
CLI, REST and Telegram say the same thing when no worker answers or the workflow is not there.
"""

from __future__ import annotations

from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

from temporalio.client import (
    RPCTimeoutOrCancelledError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from control.app.errors import NotFound, OperationError, Unavailable

T = TypeVar("T")


async def answer(call: Awaitable[T], waited: timedelta, missing: str) -> T:
    """The workflow's answer, or why there is none in words an operator can act on (`missing`: it is not there)."""
    no_answer = (
        f"no answer within {waited.total_seconds():g}s: is a worker running (`inertial up` or `inertial worker`)?"
    )
    try:
        return await call
    except WorkflowUpdateFailedError as exc:
        raise OperationError(str(exc.cause or exc)) from None
    except (RPCTimeoutOrCancelledError, WorkflowUpdateRPCTimeoutOrCancelledError):
        raise Unavailable(no_answer) from None
    except RPCError as exc:
        if exc.status in (RPCStatusCode.DEADLINE_EXCEEDED, RPCStatusCode.CANCELLED):
            raise Unavailable(no_answer) from None
        if exc.status is RPCStatusCode.NOT_FOUND:
            raise NotFound(missing) from None
        raise OperationError(f"Temporal refused: {exc.message}") from None
