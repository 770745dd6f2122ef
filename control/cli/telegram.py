"""`inertial sandbox telegram ...`: be the human in a chat with the bot, through the sandbox Bot API's
admin side: say something, press a button, read what the bot said."""

from __future__ import annotations

import time
from typing import Any

import httpx
import typer

app = typer.Typer(help="Chat with the bot through the local Telegram sandbox (as a Telegram user).")

URL = typer.Option("http://127.0.0.1:8081", "--url", help="The sandbox Bot API (printed by `inertial up`).")
USER = typer.Option(1, "--user", help="The Telegram user id you are.")
WAIT = typer.Option(10.0, "--wait", min=0, help="Seconds to wait for the bot's answer.")


def _http(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=70)


def _checked(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        typer.echo(f"the sandbox refused: {response.json().get('error', response.text)}", err=True)
        raise typer.Exit(1)
    return response.json()


def _show(messages: list[dict[str, Any]]) -> None:
    for message in messages:
        typer.echo(f"[{message['message_id']}] {message['text']}")
        for row in message.get("reply_markup", {}).get("inline_keyboard", []):
            typer.echo("    " + "  ".join(f"[{b['text']}]" for b in row))


def _answers(http: httpx.Client, user: int, after: int, wait: float) -> list[dict[str, Any]]:
    params: dict[str, str | int | float] = {"chat_id": user, "after": after, "wait": wait}
    return list(_checked(http.get("/_sandbox/messages", params=params)))


@app.command()
def say(text: str, url: str = URL, user: int = USER, wait: float = WAIT) -> None:
    """Send TEXT (a /command or anything) and print what the bot answers."""
    with _http(url) as http:
        sent = _checked(http.post("/_sandbox/say", json={"user_id": user, "text": text}))
        answers = _answers(http, user, sent["message_id"], wait)
        if not answers:
            typer.echo(f"no answer within {wait:g}s: is `inertial up` running with the bot?", err=True)
            raise typer.Exit(1)
        _show(answers)


@app.command()
def press(message_id: int, label: str, url: str = URL, user: int = USER, wait: float = WAIT) -> None:
    """Press the button LABEL under the bot's message MESSAGE_ID and print the message as the bot left it."""
    with _http(url) as http:
        said = _answers(http, user, 0, 0)
        message = next((m for m in said if m["message_id"] == message_id), None)
        rows = (message or {}).get("reply_markup", {}).get("inline_keyboard", [])
        data = next((b["callback_data"] for row in rows for b in row if b["text"].lower() == label.lower()), None)
        if data is None:
            typer.echo(f"message {message_id} has no button {label!r}", err=True)
            raise typer.Exit(1)
        pressed = _checked(http.post("/_sandbox/press", json={"user_id": user, "message_id": message_id, "data": data}))
        for _ in range(int(wait * 10) + 1):
            answers = _checked(http.get("/_sandbox/answers"))
            answer = next((a for a in answers if a["callback_query_id"] == pressed["callback_query_id"]), None)
            if answer is not None:
                if answer["text"]:
                    typer.echo(f"({answer['text']})")
                _show([m for m in _answers(http, user, 0, 0) if m["message_id"] == message_id])
                return
            time.sleep(0.1)
        typer.echo(f"the bot did not answer within {wait:g}s", err=True)
        raise typer.Exit(1)


@app.command()
def messages(url: str = URL, user: int = USER) -> None:
    """Everything the bot said to you, as it stands now (edits applied)."""
    with _http(url) as http:
        _show(_answers(http, user, 0, 0))
