"""Run the bot inside `inertial up`: against Telegram when a token is configured, otherwise against
the local sandbox Bot API, so the embedded default has a bot to chat with and nothing leaves the machine."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from control.config import Settings
from control.services import Services
from control.telegram.bot import TelegramBot
from sandbox.serving import serve_app
from sandbox.telegram.app import DEFAULT_TOKEN, TelegramSandbox, create_app


class TelegramPortTaken(Exception):
    pass


@contextlib.asynccontextmanager
async def serving_bot(settings: Settings, svc: Services) -> AsyncIterator[str]:
    """Yield one line for the health table: where the bot talks and how to reach it."""
    cfg = settings.telegram
    async with contextlib.AsyncExitStack() as stack:
        if cfg.token is None:
            sandbox = TelegramSandbox()
            try:
                api = await stack.enter_async_context(serve_app(create_app(sandbox), "127.0.0.1", cfg.sandbox_port))
            except (OSError, SystemExit):  # uvicorn exits when it cannot bind
                raise TelegramPortTaken(
                    f"cannot serve the Telegram sandbox on 127.0.0.1:{cfg.sandbox_port} (in use?); "
                    "set INERTIAL_TELEGRAM__SANDBOX_PORT or [telegram] sandbox_port"
                ) from None
            stack.push_async_callback(sandbox.close)
            token = DEFAULT_TOKEN
            where = f"sandbox Bot API {api}; chat: `inertial sandbox telegram say --url {api} /help`"
        else:
            token, api = cfg.token.get_secret_value(), cfg.api_url
            where = f"{cfg.mode} via {api}"
        bot = TelegramBot(svc.operations(settings), token, api, cfg)
        await stack.enter_async_context(bot.running())
        yield where
