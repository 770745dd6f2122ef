"""`Idempotency-Key`: a repeated call with the same key and body gets the first answer, not a second effect.

Answers are kept per API key (two callers' keys never meet) with a hash of the request, so the
same key with a different body is refused (409) instead of silently answered with the old result.
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from control.api.problems import Conflict
from control.app.access import Caller
from control.app.errors import OperationError
from storage.database import session_factory
from storage.tables import IdempotentAnswerRow

MAX_KEY = 200


def request_hash(method: str, path: str, body: Any) -> str:
    canonical = f"{method} {path} {jsonable_encoder(body)!r}"
    return hashlib.sha256(canonical.encode()).hexdigest()


class Idempotency:
    def __init__(self, engine: AsyncEngine) -> None:
        self._sessions = session_factory(engine)

    async def once(
        self,
        caller: Caller,
        key: str | None,
        fingerprint: str,
        call: Callable[[], Awaitable[Any]],
        status_code: int = 200,
    ) -> JSONResponse:
        if key is None:
            return JSONResponse(jsonable_encoder(await call()), status_code=status_code)
        if not 1 <= len(key) <= MAX_KEY:
            raise OperationError(f"Idempotency-Key must be 1 to {MAX_KEY} characters")
        owner = caller.key_id or caller.actor
        async with self._sessions() as session:
            kept = await session.get(IdempotentAnswerRow, (owner, key))
        if kept is not None:
            return self._replay(kept, fingerprint, key)
        body = jsonable_encoder(await call())
        async with self._sessions() as session:
            session.add(
                IdempotentAnswerRow(
                    key_id=owner, idempotency_key=key, request_hash=fingerprint, status_code=status_code, body=body
                )
            )
            try:
                await session.commit()
            except IntegrityError:  # the same key raced itself: the first stored answer stands
                await session.rollback()
                kept = await session.get(IdempotentAnswerRow, (owner, key))
                if kept is not None:
                    return self._replay(kept, fingerprint, key)
        return JSONResponse(body, status_code=status_code)

    @staticmethod
    def _replay(kept: IdempotentAnswerRow, fingerprint: str, key: str) -> JSONResponse:
        if kept.request_hash != fingerprint:
            raise Conflict(f"Idempotency-Key {key!r} was used for a different request; use a new key")
        return JSONResponse(kept.body, status_code=kept.status_code, headers={"Idempotent-Replayed": "true"})
