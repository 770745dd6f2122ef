"""The sandbox Bot API over HTTP: `/bot<token>/<method>` for the bot (unmodified python-telegram-bot
points its `base_url` here), `/_sandbox/...` for the human it talks to (tests and `inertial sandbox
telegram`). Webhook mode delivers each update by POST with the secret-token header, in order,
retrying until the bot's server accepts it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sandbox.telegram.state import BotApiError, BotState, JsonObject, bad_request
from sandbox.telegram.wire import failed, integer, markup, ok, parameters, text

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
DEFAULT_TOKEN = "123456:SANDBOX-inertial-event-bot-token"
MAX_WAIT_S = 60.0

Method = Callable[[BotState, JsonObject], Awaitable[object]]


async def _get_me(bot: BotState, params: JsonObject) -> object:
    return bot.me()


async def _get_updates(bot: BotState, params: JsonObject) -> object:
    offset = params.get("offset")
    if offset is not None and (isinstance(offset, bool) or not isinstance(offset, int)):
        raise bad_request("parameter offset must be an integer")
    timeout = min(float(integer(params, "timeout", 0)), MAX_WAIT_S)
    return await bot.get_updates(offset, integer(params, "limit", 100), timeout)


async def _send_message(bot: BotState, params: JsonObject) -> object:
    return await bot.send_message(integer(params, "chat_id"), text(params, "text"), markup(params))


async def _edit_message_text(bot: BotState, params: JsonObject) -> object:
    return await bot.edit(
        integer(params, "chat_id"), integer(params, "message_id"), text(params, "text"), markup(params)
    )


async def _edit_message_reply_markup(bot: BotState, params: JsonObject) -> object:
    return await bot.edit(integer(params, "chat_id"), integer(params, "message_id"), None, markup(params))


async def _answer_callback_query(bot: BotState, params: JsonObject) -> object:
    bot.answer_callback(text(params, "callback_query_id"), text(params, "text", ""), bool(params.get("show_alert")))
    return True


async def _set_my_commands(bot: BotState, params: JsonObject) -> object:
    commands = params.get("commands")
    if not isinstance(commands, list) or not all(
        isinstance(c, dict) and isinstance(c.get("command"), str) and isinstance(c.get("description"), str)
        for c in commands
    ):
        raise bad_request("can't parse commands JSON object")
    bot.commands = [{"command": c["command"], "description": c["description"]} for c in commands]
    return True


async def _get_my_commands(bot: BotState, params: JsonObject) -> object:
    return bot.commands


async def _delete_my_commands(bot: BotState, params: JsonObject) -> object:
    bot.commands = []
    return True


async def _delete_webhook(bot: BotState, params: JsonObject) -> object:
    await bot.delete_webhook(bool(params.get("drop_pending_updates")))
    return True


async def _get_webhook_info(bot: BotState, params: JsonObject) -> object:
    return bot.webhook_info()


METHODS: dict[str, Method] = {
    "getme": _get_me,
    "getupdates": _get_updates,
    "sendmessage": _send_message,
    "editmessagetext": _edit_message_text,
    "editmessagereplymarkup": _edit_message_reply_markup,
    "answercallbackquery": _answer_callback_query,
    "setmycommands": _set_my_commands,
    "getmycommands": _get_my_commands,
    "deletemycommands": _delete_my_commands,
    "deletewebhook": _delete_webhook,
    "getwebhookinfo": _get_webhook_info,
}


class TelegramSandbox:
    """One bot's API. `deliveries` counts webhook POSTs the bot accepted (tests read it)."""

    def __init__(self, token: str = DEFAULT_TOKEN) -> None:
        self.bot = BotState(token=token)
        self.deliveries = 0
        self._delivering: asyncio.Task[None] | None = None

    async def _deliver(self) -> None:
        async with httpx.AsyncClient(timeout=10) as http:
            while self.bot.webhook.url:
                async with self.bot.changed:
                    await self.bot.changed.wait_for(lambda: bool(self.bot.updates) or not self.bot.webhook.url)
                hook = self.bot.webhook
                if not hook.url or not self.bot.updates:
                    continue
                update = self.bot.updates[0]
                headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
                try:
                    answer = await http.post(hook.url, json=update, headers=headers)
                    accepted = answer.status_code < 300
                    error = f"Wrong response from the webhook: {answer.status_code}"
                except httpx.HTTPError as exc:
                    accepted, error = False, f"Connection failed: {exc!r}"
                if accepted:
                    self.deliveries += 1
                    if self.bot.updates and self.bot.updates[0] is update:
                        self.bot.updates.pop(0)
                else:
                    hook.last_error_date, hook.last_error_message = int(time.time()), error
                    await asyncio.sleep(0.5)

    async def _set_webhook(self, params: JsonObject) -> object:
        await self.bot.set_webhook(text(params, "url"), text(params, "secret_token", ""))
        if self.bot.webhook.url and (self._delivering is None or self._delivering.done()):
            self._delivering = asyncio.create_task(self._deliver())
        return True

    async def method(self, request: Request) -> Response:
        if request.path_params["token"] != self.bot.token:
            return failed(BotApiError(401, "Unauthorized"))
        name = request.path_params["method"].lower()
        try:
            params = await parameters(request)
            if name == "setwebhook":
                return ok(await self._set_webhook(params))
            method = METHODS.get(name)
            if method is None:
                return failed(BotApiError(404, "Not Found: method not found"))
            return ok(await method(self.bot, params))
        except BotApiError as error:
            return failed(error)

    async def say(self, request: Request) -> Response:
        body = await _admin_body(request)
        update = await self.bot.say(
            integer(body, "user_id"), text(body, "text"), text(body, "first_name", ""), text(body, "username", "")
        )
        return JSONResponse({"update_id": update["update_id"], "message_id": update["message"]["message_id"]})

    async def press(self, request: Request) -> Response:
        body = await _admin_body(request)
        update = await self.bot.press(integer(body, "user_id"), integer(body, "message_id"), text(body, "data"))
        return JSONResponse({"update_id": update["update_id"], "callback_query_id": update["callback_query"]["id"]})

    async def messages(self, request: Request) -> Response:
        """What the bot said to a chat after message `after`; `wait` seconds long-polls for the first one."""
        query = request.query_params
        try:
            chat_id, after = int(query["chat_id"]), int(query.get("after", 0))
            wait = min(float(query.get("wait", 0)), MAX_WAIT_S)
        except (KeyError, ValueError):
            raise bad_request("chat_id (and optional after, wait) must be numbers") from None
        if wait > 0:
            async with self.bot.changed:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        self.bot.changed.wait_for(
                            lambda: bool(self.bot.said_by_bot(chat_id, after)) or self.bot.closed
                        ),
                        wait,
                    )
        return JSONResponse(self.bot.said_by_bot(chat_id, after))

    async def answers(self, request: Request) -> Response:
        return JSONResponse(self.bot.callback_answers)

    async def close(self) -> None:
        """Answer every long poll now, so the server can stop without waiting on them."""
        await self.bot.close()
        if self._delivering is not None:
            self._delivering.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._delivering


async def _admin_body(request: Request) -> JsonObject:
    try:
        body = await request.json()
    except ValueError:
        raise bad_request("send a JSON object") from None
    if not isinstance(body, dict):
        raise bad_request("send a JSON object")
    return body


async def _admin_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, BotApiError)
    return JSONResponse({"error": exc.description}, status_code=exc.code)


def create_app(sandbox: TelegramSandbox) -> Starlette:
    return Starlette(
        routes=[
            Route("/bot{token}/{method}", sandbox.method, methods=["GET", "POST"]),
            Route("/_sandbox/say", sandbox.say, methods=["POST"]),
            Route("/_sandbox/press", sandbox.press, methods=["POST"]),
            Route("/_sandbox/messages", sandbox.messages, methods=["GET"]),
            Route("/_sandbox/answers", sandbox.answers, methods=["GET"]),
        ],
        exception_handlers={BotApiError: _admin_error},
    )
