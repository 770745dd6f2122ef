"""The sandbox Bot API against unmodified python-telegram-bot (its `base_url`) and raw HTTP: the update
queue's offsets, long polling, message edits, buttons, commands, webhooks and the API's error shapes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import Bot, BotCommand, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, InvalidToken

from sandbox.serving import serve_app
from sandbox.telegram.app import DEFAULT_TOKEN, SECRET_HEADER, TelegramSandbox, create_app

USER = 4242


@pytest.fixture
async def sandbox() -> AsyncIterator[str]:
    tg = TelegramSandbox()
    async with serve_app(create_app(tg)) as url:
        yield url
        await tg.close()


def _bot(url: str, token: str = DEFAULT_TOKEN) -> Bot:
    return Bot(token, base_url=f"{url}/bot")


async def test_python_telegram_bot_reads_updates_with_offsets(sandbox: str) -> None:
    url = sandbox
    async with _bot(url) as bot, httpx.AsyncClient(base_url=url) as http:
        me = await bot.get_me()
        assert (me.is_bot, me.username) == (True, "inertial_sandbox_bot")
        for text in ("/status", "hello", "42"):
            assert (await http.post("/_sandbox/say", json={"user_id": USER, "text": text})).status_code == 200
        updates = await bot.get_updates()
        assert [u.message.text for u in updates if u.message] == ["/status", "hello", "42"]
        command = updates[0].message
        assert command is not None and command.entities[0].type == "bot_command" and command.entities[0].length == 7
        again = await bot.get_updates()
        assert [u.update_id for u in again] == [u.update_id for u in updates]  # nothing confirmed yet
        rest = await bot.get_updates(offset=updates[1].update_id)
        assert [u.message.text for u in rest if u.message] == ["hello", "42"]
        assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
        for text in ("a", "b", "c"):
            await http.post("/_sandbox/say", json={"user_id": USER, "text": text})
        assert [u.message.text for u in await bot.get_updates(offset=-1) if u.message] == ["c"]


async def test_a_long_poll_returns_as_soon_as_someone_speaks(sandbox: str) -> None:
    url = sandbox
    async with _bot(url) as bot, httpx.AsyncClient(base_url=url) as http:
        polling = asyncio.create_task(bot.get_updates(timeout=20, read_timeout=30))
        await asyncio.sleep(0.3)
        assert not polling.done()
        await http.post("/_sandbox/say", json={"user_id": USER, "text": "wake up"})
        updates = await asyncio.wait_for(polling, 5)
        assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_messages_buttons_edits_and_answers(sandbox: str) -> None:
    url = sandbox
    async with _bot(url) as bot, httpx.AsyncClient(base_url=url) as http:
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(USER, "nobody here yet")
        said = await http.post("/_sandbox/say", json={"user_id": USER, "text": "/start", "username": "ada"})
        users_message = said.json()["message_id"]
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Yes", callback_data="y"), InlineKeyboardButton("No", callback_data="n")]]
        )
        sent = await bot.send_message(USER, "Sure?", reply_markup=keyboard)
        assert sent.chat.username == "ada" and sent.reply_markup == keyboard
        bad = await http.post("/_sandbox/press", json={"user_id": USER, "message_id": sent.message_id, "data": "maybe"})
        assert bad.status_code == 400 and "no button" in bad.json()["error"]
        pressed = await http.post("/_sandbox/press", json={"user_id": USER, "message_id": sent.message_id, "data": "y"})
        assert pressed.status_code == 200
        [update] = await bot.get_updates(offset=-1)
        query = update.callback_query
        assert query is not None and query.data == "y" and query.message is not None
        assert query.message.message_id == sent.message_id
        assert await query.answer("ok", show_alert=True)
        edited = await bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)
        assert not isinstance(edited, bool) and edited.text == "Done" and edited.reply_markup is None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("Done", chat_id=USER, message_id=sent.message_id)
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=USER, message_id=9999)
        with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
            await bot.edit_message_text("x", chat_id=USER, message_id=users_message)
        restored = await bot.edit_message_reply_markup(chat_id=USER, message_id=sent.message_id, reply_markup=keyboard)
        assert not isinstance(restored, bool) and restored.reply_markup == keyboard
        said = (await http.get("/_sandbox/messages", params={"chat_id": USER})).json()
        assert [m["text"] for m in said] == ["Done"] and "edit_date" in said[0]
        answers = (await http.get("/_sandbox/answers")).json()
        assert answers == [{"callback_query_id": query.id, "text": "ok", "show_alert": True}]


async def test_commands_tokens_and_methods(sandbox: str) -> None:
    url = sandbox
    async with _bot(url) as bot:
        assert await bot.set_my_commands([BotCommand("status", "health and risk")])
        assert [(c.command, c.description) for c in await bot.get_my_commands()] == [("status", "health and risk")]
        assert await bot.delete_my_commands() and await bot.get_my_commands() == ()
    with pytest.raises(InvalidToken):
        async with _bot(url, "1:wrong") as bad:
            await bad.get_me()
    async with httpx.AsyncClient(base_url=url) as http:
        missing = await http.post(f"/bot{DEFAULT_TOKEN}/sendSticker")
        assert missing.status_code == 404 and missing.json() == {
            "ok": False,
            "error_code": 404,
            "description": "Not Found: method not found",
        }
        malformed = await http.post(
            f"/bot{DEFAULT_TOKEN}/sendMessage", content=b"{", headers={"content-type": "application/json"}
        )
        assert malformed.status_code == 400 and malformed.json()["ok"] is False
        text_stays_text = await http.post(f"/bot{DEFAULT_TOKEN}/getUpdates", data={"offset": "abc"})
        assert (
            text_stays_text.status_code == 400 and "offset must be an integer" in text_stays_text.json()["description"]
        )


async def test_a_webhook_gets_each_update_with_the_secret_and_blocks_polling(
    sandbox: str,
) -> None:
    url = sandbox
    received: list[tuple[str, dict[str, object]]] = []
    failures = [1]

    async def hook(request: Request) -> Response:
        if failures[0]:
            failures[0] -= 1
            return Response(status_code=500)
        received.append((request.headers.get(SECRET_HEADER, ""), await request.json()))
        return Response(status_code=200)

    async with (
        serve_app(Starlette(routes=[Route("/hook", hook, methods=["POST"])])) as hook_url,
        _bot(url) as bot,
        httpx.AsyncClient(base_url=url) as http,
    ):
        assert await bot.set_webhook(f"{hook_url}/hook", secret_token="abc_123")
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await http.post("/_sandbox/say", json={"user_id": USER, "text": "one"})
        await http.post("/_sandbox/say", json={"user_id": USER, "text": "two"})
        for _ in range(100):
            if len(received) == 2:
                break
            await asyncio.sleep(0.05)
        assert [(s, u["message"]["text"]) for s, u in received] == [("abc_123", "one"), ("abc_123", "two")]  # type: ignore[index]
        info = await bot.get_webhook_info()
        assert info.url == f"{hook_url}/hook" and info.pending_update_count == 0
        assert info.last_error_message == "Wrong response from the webhook: 500"
        assert await bot.delete_webhook()
        assert await bot.get_updates() == ()
