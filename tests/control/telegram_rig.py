"""The people of a Telegram conversation test: each `Person` types into the sandbox Bot API as a
Telegram user and reads what the bot answers, the way a phone would."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import httpx


@dataclass
class Person:
    http: httpx.AsyncClient
    user_id: int
    seen: int = 0
    last: list[dict[str, Any]] = field(default_factory=list)

    async def say(self, text: str, *, replies: int = 1) -> list[dict[str, Any]]:
        """Send `text` and wait for the bot's next `replies` messages."""
        sent = await self.http.post("/_sandbox/say", json={"user_id": self.user_id, "text": text})
        assert sent.status_code == 200, sent.text
        self.seen = max(self.seen, sent.json()["message_id"])
        return await self.read(replies)

    async def read(self, replies: int = 1, wait: float = 20.0) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = []
        while len(got) < replies:
            answer = await self.http.get(
                "/_sandbox/messages", params={"chat_id": self.user_id, "after": self.seen, "wait": wait}
            )
            fresh = answer.json()
            assert fresh, f"the bot said nothing to {self.user_id} within {wait}s (after {got})"
            got += fresh
            self.seen = max(m["message_id"] for m in fresh)
        self.last = got
        return got

    async def press(self, message: dict[str, Any], label: str) -> dict[str, Any]:
        """Press the button `label` under `message`; returns the message as the bot left it."""
        data = next(
            b["callback_data"] for row in message["reply_markup"]["inline_keyboard"] for b in row if b["text"] == label
        )
        return await self.press_data(message["message_id"], data)

    async def press_data(self, message_id: int, data: str) -> dict[str, Any]:
        pressed = await self.http.post(
            "/_sandbox/press", json={"user_id": self.user_id, "message_id": message_id, "data": data}
        )
        assert pressed.status_code == 200, pressed.text
        callback = pressed.json()["callback_query_id"]
        for _ in range(400):
            answers = (await self.http.get("/_sandbox/answers")).json()
            if any(a["callback_query_id"] == callback for a in answers):
                return await self._message(message_id)
            await asyncio.sleep(0.05)
        raise AssertionError(f"the bot never answered the press of {data!r}")

    async def last_answer(self) -> dict[str, Any]:
        """The bot's answer to the latest button press (what the pop-up said)."""
        answers: list[dict[str, Any]] = (await self.http.get("/_sandbox/answers")).json()
        return answers[-1]

    async def _message(self, message_id: int) -> dict[str, Any]:
        said = (await self.http.get("/_sandbox/messages", params={"chat_id": self.user_id})).json()
        return next(m for m in said if m["message_id"] == message_id)
