"""Bot API parameters as clients send them: a query string, a form (python-telegram-bot sends each
non-string value JSON-encoded in a form field) or a JSON body; answers as `{"ok": ..., "result": ...}`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse

from sandbox.telegram.state import BotApiError, JsonObject, bad_request

# Fields whose values are plain strings: never JSON-decoded, so a text of "42" or "true" stays text.
STRING_FIELDS = frozenset(
    {
        "text",
        "url",
        "secret_token",
        "callback_query_id",
        "parse_mode",
        "language_code",
        "inline_message_id",
        "ip_address",
    }
)


async def parameters(request: Request) -> JsonObject:
    params: JsonObject = dict(request.query_params)
    if request.method == "POST":
        kind = request.headers.get("content-type", "")
        if kind.startswith("application/json"):
            try:
                body = await request.json()
            except ValueError:
                raise bad_request("can't parse JSON body") from None
            if not isinstance(body, dict):
                raise bad_request("the JSON body must be an object")
            return {**params, **body}
        if kind.startswith("multipart/"):
            raise bad_request("the sandbox takes no files: send parameters url-encoded or as JSON")
        params.update(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    return {k: v if k in STRING_FIELDS else _decoded(v) for k, v in params.items()}


def _decoded(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def integer(params: JsonObject, name: str, default: int | None = None) -> int:
    value = params.get(name, default)
    if value is None:
        raise bad_request(f"parameter {name} is required")
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad_request(f"parameter {name} must be an integer")
    return value


def text(params: JsonObject, name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if value is None:
        raise bad_request(f"parameter {name} is required")
    return str(value)


def markup(params: JsonObject) -> JsonObject | None:
    value = params.get("reply_markup")
    if value is None:
        return None
    if not isinstance(value, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    rows = value.get("inline_keyboard")
    if rows is not None and not (isinstance(rows, list) and all(isinstance(r, list) for r in rows)):
        raise bad_request('field "inline_keyboard" of the InlineKeyboardMarkup must be an Array of Arrays')
    return value


def ok(result: Any) -> JSONResponse:
    return JSONResponse({"ok": True, "result": result})


def failed(error: BotApiError) -> JSONResponse:
    return JSONResponse(
        {"ok": False, "error_code": error.code, "description": error.description}, status_code=error.code
    )
