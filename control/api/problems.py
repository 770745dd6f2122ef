"""Errors as `application/problem+json` (RFC 9457): a status, a title and a sentence a person can act on.

The application layer's refusals map to 4xx by kind; a request that does not fit the schema is a
422 naming the field; anything unexpected is logged with its traceback here and answered as a
plain 500 that says nothing about the internals.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException

from control.app.access import Forbidden, Unauthorized
from control.app.errors import NotFound, OperationError, Unavailable

log = logging.getLogger(__name__)
PROBLEM = "application/problem+json"


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str


class Conflict(OperationError):
    """The request cannot be applied in the current state (e.g. an Idempotency-Key reused with another body)."""


class TooMany(OperationError):
    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Unavailable",
}


def problem(status: int, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = Problem(title=TITLES.get(status, "Error"), status=status, detail=detail)
    return JSONResponse(body.model_dump(), status_code=status, media_type=PROBLEM, headers=headers)


def status_of(exc: OperationError) -> int:
    for kind, status in (
        (Unauthorized, 401),
        (Forbidden, 403),
        (NotFound, 404),
        (Conflict, 409),
        (TooMany, 429),
        (Unavailable, 503),
    ):
        if isinstance(exc, kind):
            return status
    return 422


def _field(loc: tuple[object, ...]) -> str:
    return ".".join(str(part) for part in loc if part not in ("body",)) or "body"


def install(app: FastAPI) -> None:
    @app.exception_handler(OperationError)
    async def refused(request: Request, exc: OperationError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooMany) else None
        if isinstance(exc, Unauthorized):
            headers = {"WWW-Authenticate": "ApiKey"}
        return problem(status_of(exc), str(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = [f"{_field(tuple(e.get('loc', ())))}: {e.get('msg', 'invalid')}" for e in exc.errors()]
        return problem(422, "; ".join(details) or "the request does not match the API's schema")

    @app.exception_handler(HTTPException)
    async def http(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), dict(exc.headers or {}) or None)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        return problem(500, "the server failed to answer this request; it is logged")
