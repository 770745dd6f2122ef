"""The Bot API's state for one bot: the update queue with its offsets, the chats and what was said in
them, the bot's commands and its webhook. Pure state and its rules; HTTP lives in app.py.

Shapes follow the Bot API reference (core.telegram.org/bots/api): an update is confirmed once
getUpdates is called with an offset above its id, a negative offset keeps only the last -offset
updates, and getUpdates is refused (409) while a webhook is set.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

JsonObject = dict[str, Any]


class BotApiError(Exception):
    """An answer of `{"ok": false}`: `code` is the HTTP status and `error_code` the API returns."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def bad_request(what: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {what}")


@dataclass
class Webhook:
    url: str = ""
    secret_token: str = ""
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotState:
    token: str
    bot_id: int = 7_000_000_001
    username: str = "inertial_sandbox_bot"
    first_name: str = "InertialEvent"
    updates: list[JsonObject] = field(default_factory=list)
    messages: dict[int, dict[int, JsonObject]] = field(default_factory=dict)  # chat id -> message id -> message
    users: dict[int, JsonObject] = field(default_factory=dict)
    commands: list[JsonObject] = field(default_factory=list)
    callback_answers: list[JsonObject] = field(default_factory=list)
    webhook: Webhook = field(default_factory=Webhook)
    closed: bool = False  # shutting down: long polls answer at once
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)
    _update_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _callback_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def me(self) -> JsonObject:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def user(self, user_id: int, first_name: str = "", username: str = "") -> JsonObject:
        known = self.users.get(user_id)
        if known is None or first_name or username:
            known = {"id": user_id, "is_bot": False, "first_name": first_name or f"user{user_id}"}
            if username:
                known["username"] = username
            self.users[user_id] = known
        return known

    def _chat(self, user_id: int) -> JsonObject:
        user = self.users[user_id]
        chat: JsonObject = {"id": user_id, "type": "private", "first_name": user["first_name"]}
        if "username" in user:
            chat["username"] = user["username"]
        return chat

    # --- the human's side -------------------------------------------------------------------------

    async def say(self, user_id: int, text: str, first_name: str = "", username: str = "") -> JsonObject:
        """A private message from `user_id`; a leading /command carries its bot_command entity, as Telegram sends it."""
        if not text:
            raise bad_request("message text is empty")
        sender = self.user(user_id, first_name, username)
        message: JsonObject = {
            "message_id": next(self._message_ids),
            "from": sender,
            "chat": self._chat(user_id),
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
        self.messages.setdefault(user_id, {})[message["message_id"]] = message
        return await self._push({"message": message})

    async def press(self, user_id: int, message_id: int, data: str) -> JsonObject:
        """A press of an inline button under one of the bot's messages; only buttons that are there can be pressed."""
        message = self.messages.get(user_id, {}).get(message_id)
        if message is None or message["from"]["id"] != self.bot_id:
            raise bad_request(f"no bot message {message_id} in chat {user_id}")
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        if not any(button.get("callback_data") == data for row in rows for button in row):
            raise bad_request(f"message {message_id} has no button with data {data!r}")
        query = {
            "id": str(next(self._callback_ids)),
            "from": self.user(user_id),
            "message": message,
            "chat_instance": str(user_id),
            "data": data,
        }
        return await self._push({"callback_query": query})

    async def _push(self, content: JsonObject) -> JsonObject:
        update = {"update_id": next(self._update_ids), **content}
        async with self.changed:
            self.updates.append(update)
            self.changed.notify_all()
        return update

    def said_by_bot(self, chat_id: int, after: int = 0) -> list[JsonObject]:
        return [
            m for i, m in sorted(self.messages.get(chat_id, {}).items()) if i > after and m["from"]["id"] == self.bot_id
        ]

    # --- the bot's side -----------------------------------------------------------------------------

    async def get_updates(self, offset: int | None, limit: int, wait_s: float) -> list[JsonObject]:
        if self.webhook.url:
            raise BotApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if not 1 <= limit <= 100:
            limit = 100
        async with self.changed:
            self._confirm(offset)
            if not self.updates and wait_s > 0:
                try:
                    await asyncio.wait_for(
                        self.changed.wait_for(lambda: bool(self.updates) or bool(self.webhook.url) or self.closed),
                        wait_s,
                    )
                except TimeoutError:
                    return []
            return self.updates[:limit]

    def _confirm(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            self.updates = self.updates[offset:]
        else:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def _message(self, chat_id: int, message_id: int) -> JsonObject:
        message = self.messages.get(chat_id, {}).get(message_id)
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise bad_request("message can't be edited")
        return message

    async def send_message(self, chat_id: int, text: str, reply_markup: JsonObject | None) -> JsonObject:
        if chat_id not in self.users:
            raise bad_request("chat not found")
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > 4096:
            raise bad_request("message is too long")
        message: JsonObject = {
            "message_id": next(self._message_ids),
            "from": self.me(),
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            "text": text,
        }
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        async with self.changed:
            self.messages.setdefault(chat_id, {})[message["message_id"]] = message
            self.changed.notify_all()
        return message

    async def edit(
        self, chat_id: int, message_id: int, text: str | None, reply_markup: JsonObject | None
    ) -> JsonObject:
        message = self._message(chat_id, message_id)
        new_text = message["text"] if text is None else text
        if new_text == message["text"] and reply_markup == message.get("reply_markup"):
            raise bad_request(
                "message is not modified: specified new message content and reply markup are exactly the same "
                "as a current content and reply markup of the message"
            )
        edited = {**message, "text": new_text, "edit_date": int(time.time())}
        edited.pop("reply_markup", None)
        if reply_markup is not None and reply_markup.get("inline_keyboard"):
            edited["reply_markup"] = reply_markup
        async with self.changed:
            self.messages[chat_id][message_id] = edited
            self.changed.notify_all()
        return edited

    def answer_callback(self, callback_query_id: str, text: str, show_alert: bool) -> None:
        self.callback_answers.append({"callback_query_id": callback_query_id, "text": text, "show_alert": show_alert})

    async def set_webhook(self, url: str, secret_token: str) -> None:
        if url and not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: an HTTP URL must be provided for webhook")
        async with self.changed:
            self.webhook = Webhook(url=url, secret_token=secret_token)
            self.changed.notify_all()

    async def delete_webhook(self, drop_pending_updates: bool) -> None:
        async with self.changed:
            self.webhook = Webhook()
            if drop_pending_updates:
                self.updates.clear()
            self.changed.notify_all()

    async def close(self) -> None:
        async with self.changed:
            self.closed = True
            self.changed.notify_all()

    def webhook_info(self) -> JsonObject:
        info: JsonObject = {
            "url": self.webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }
        if self.webhook.last_error_date is not None:
            info["last_error_date"] = self.webhook.last_error_date
            info["last_error_message"] = self.webhook.last_error_message
        return info
