"""The Telegram bot: each command resolves the chat's user to a `Caller` and calls `Operations`,
exactly what the CLI and REST call; confirmations, alerts and webhook delivery live here too.

Nobody is served before linking (`/start <code>`): an unlinked account gets one refusal and
nothing else. Anything that moves money or removes a safety asks first, with a one-time,
expiring button (confirmations.py); the action runs as whoever presses it, re-checked then.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from telegram import BotCommand, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from control.app.access import Access, Caller, Role, Unauthorized
from control.app.audit import ALERT, Audit, alert_text
from control.app.errors import OperationError
from control.app.operations import Operations
from control.telegram import arguments, replies
from control.telegram.confirmations import Action, Confirmations
from control.telegram.settings import TelegramSettings
from domain.models import PairStatus, Side
from sandbox.serving import serve_app

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
GATE_CHANGES = ("kill_switch_on", "kill_switch_off", "breaker_tripped", "breaker_reset", "breaker_cooled_down")
PUSHED = frozenset({ALERT, *GATE_CHANGES})
NO = "no"


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    choices: dict[str, Action] | None = None  # button label -> what it does; a Cancel button is added


Handler = Callable[[Caller, list[str], str], Awaitable[Reply]]


class TelegramBot:
    def __init__(self, ops: Operations, token: str, api_url: str, settings: TelegramSettings) -> None:
        self.ops = ops
        self.settings = settings
        self.confirmations = Confirmations(settings.confirm_seconds)
        self._access = Access(ops.engine)
        self.webhook_endpoint = ""  # where this process listens in webhook mode (`webhook_url` points there)
        builder = Application.builder().token(token).base_url(f"{api_url}/bot").base_file_url(f"{api_url}/file/bot")
        if settings.mode == "webhook":
            builder = builder.updater(None)
        self.app = builder.build()
        for name, handler in self._commands().items():
            self.app.add_handler(CommandHandler(name, self._serving(handler)))
        self.app.add_handler(CommandHandler("start", self._start))
        self.app.add_handler(CallbackQueryHandler(self._pressed))
        self.app.add_handler(MessageHandler(filters.ALL, self._unknown))
        self.app.add_error_handler(self._failed)

    def _commands(self) -> dict[str, Handler]:
        return {
            "help": self._help,
            "status": self._status,
            "pnl": self._pnl,
            "positions": self._positions,
            "sagas": self._sagas,
            "copies": self._copies,
            "pairs": self._pairs,
            "leaders": self._leaders,
            "follow": self._follow,
            "unfollow": self._unfollow,
            "pause": self._pause,
            "resume": self._resume,
            "kill": self._kill,
            "unkill": self._unkill,
            "limits": self._limits,
            "buy": self._buy,
            "sell": self._sell,
            "orders": self._orders,
            "cancel": self._cancel,
        }

    # --- running -----------------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Long polling, or the webhook endpoint registered with its secret token; alerts pushed meanwhile."""
        await self.app.initialize()
        await self.app.bot.set_my_commands([BotCommand(n, n) for n in self._commands() if n != "help"])
        await self.app.start()
        async with contextlib.AsyncExitStack() as stack:
            if self.settings.mode == "webhook":
                await stack.enter_async_context(self._webhook())
            else:
                assert self.app.updater is not None
                await self.app.updater.start_polling(poll_interval=0, timeout=10, drop_pending_updates=False)
                stack.push_async_callback(self.app.updater.stop)
            pushing = asyncio.create_task(self._push_alerts(await Audit(self.ops.engine).last_id()))
            try:
                yield
            finally:
                pushing.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pushing
        await self.app.stop()
        await self.app.shutdown()

    @contextlib.asynccontextmanager
    async def _webhook(self) -> AsyncIterator[None]:
        cfg = self.settings
        secret = cfg.webhook_secret.get_secret_value() if cfg.webhook_secret else ""
        if not secret:
            raise OperationError("webhook mode needs [telegram] webhook_secret (Telegram sends it on every update)")

        async def receive(request: Request) -> Response:
            if not hmac.compare_digest(request.headers.get(SECRET_HEADER, ""), secret):
                return Response("wrong secret token", status_code=403)
            try:
                update = Update.de_json(await request.json(), self.app.bot)
            except ValueError:
                return Response("not an update", status_code=400)
            await self.app.update_queue.put(update)
            return Response(status_code=200)

        endpoint = Starlette(routes=[Route("/telegram/webhook", receive, methods=["POST"])])
        async with serve_app(endpoint, cfg.webhook_host, cfg.webhook_port) as url:
            self.webhook_endpoint = f"{url}/telegram/webhook"
            await self.app.bot.set_webhook(cfg.webhook_url or self.webhook_endpoint, secret_token=secret)
            try:
                yield
            finally:
                await self.app.bot.delete_webhook()

    async def _push_alerts(self, after: int) -> None:
        """Every alert (and kill switch change) of a tenant goes to each linked user of that tenant."""
        while True:
            try:
                for event in await Audit(self.ops.engine).since(after, PUSHED):
                    after = event.id
                    if event.tenant_id is not None:
                        await self._tell(event.tenant_id, alert_text(event))
            except Exception:
                log.exception("telegram: pushing alerts failed; trying again")
            await asyncio.sleep(self.settings.alert_poll_seconds)

    async def _tell(self, tenant_id: str, text: str) -> None:
        for chat in await self._access.telegram_ids(tenant_id):
            try:
                await self.app.bot.send_message(int(chat), text)
            except TelegramError as exc:
                log.warning("telegram: alert to chat %s not delivered: %s", chat, exc)

    # --- dispatch ----------------------------------------------------------------------------------

    def _serving(self, handler: Handler) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
        async def serve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message, user = update.effective_message, update.effective_user
            if message is None or user is None:
                return
            try:
                caller = await self._access.telegram_caller(str(user.id))
                reply = await handler(caller, list(context.args or []), str(user.id))
            except OperationError as exc:
                reply = Reply(str(exc))
            await message.reply_text(reply.text, reply_markup=self._keyboard(reply, str(user.id)))

        return serve

    def _keyboard(self, reply: Reply, telegram_id: str) -> InlineKeyboardMarkup | None:
        if not reply.choices:
            return None
        token = self.confirmations.ask(telegram_id, reply.text, reply.choices)
        buttons = [InlineKeyboardButton(label, callback_data=f"{token}:{i}") for i, label in enumerate(reply.choices)]
        buttons.append(InlineKeyboardButton("Cancel", callback_data=f"{token}:{NO}"))
        return InlineKeyboardMarkup([buttons])

    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        if not context.args:
            text = (
                "Send /start <code> with a link code (`inertial users link <name>` or POST /v1/users/<name>/link-code)."
            )
        else:
            try:
                caller = await self._access.redeem_link_code(context.args[0], str(user.id))
                text = f"Linked: you are {caller.user_id} ({caller.role.value}) in tenant {caller.tenant_id}."
                await Audit(self.ops.engine).record(caller, "telegram_link", caller.user_id)
            except OperationError as exc:
                text = str(exc)
        await message.reply_text(text)

    async def _pressed(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query, user = update.callback_query, update.effective_user
        if query is None or user is None:
            return
        token, _, choice = (query.data or "").rpartition(":")
        telegram_id = str(user.id)
        try:
            caller = await self._access.telegram_caller(telegram_id)
        except Unauthorized as exc:
            await query.answer(str(exc), show_alert=True)
            return
        if choice == NO:
            if self.confirmations.cancel(token, telegram_id):
                await query.edit_message_text(f"{_question(query)}\n→ cancelled: nothing was done")
            await query.answer("cancelled: nothing was done")
            return
        taken = self.confirmations.take(token, telegram_id)
        if isinstance(taken, str):
            await query.answer(taken, show_alert=True)
            return
        choices = list(taken.choices.values())
        if not choice.isdigit() or int(choice) >= len(choices):
            await query.answer("not a button of mine: nothing was done", show_alert=True)
            return
        try:
            outcome = await choices[int(choice)](caller)
        except OperationError as exc:
            outcome = f"refused: {exc}"
        await query.edit_message_text(f"{taken.what}\n→ {outcome}")
        await query.answer("done")

    async def _unknown(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message, user = update.effective_message, update.effective_user
        if message is None or user is None:
            return
        try:
            await self._access.telegram_caller(str(user.id))
            text = "I only understand commands: /help lists them."
        except OperationError as exc:
            text = str(exc)
        await message.reply_text(text)

    async def _failed(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: a handler failed", exc_info=context.error)
        if isinstance(update, Update) and update.effective_message is not None:
            with contextlib.suppress(TelegramError):
                await update.effective_message.reply_text("That failed unexpectedly; it is in the log. Try again.")

    # --- commands ----------------------------------------------------------------------------------

    async def _help(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return Reply(replies.HELP)

    async def _status(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return Reply(replies.status(await self.ops.health(caller), await self.ops.risk_status(caller)))

    async def _pnl(self, caller: Caller, args: list[str], tid: str) -> Reply:
        period = args[0].lower() if args else "day"
        if period not in ("day", "week", "all"):
            raise OperationError("usage: /pnl [day|week|all]")
        return Reply(replies.pnl(await self.ops.pnl(caller), period))

    async def _positions(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return Reply(replies.positions(await self.ops.positions(caller)))

    async def _sagas(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return Reply(replies.sagas((await self.ops.sagas(caller, limit=10)).items))

    async def _copies(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return Reply(replies.copies((await self.ops.copies(caller, limit=10)).items))

    async def _pairs(self, caller: Caller, args: list[str], tid: str) -> Reply:
        """The first candidate with its flags and Confirm/Reject buttons; /pairs again for the next."""
        candidates = await self.ops.pair_desk.pairs(caller, PairStatus.CANDIDATE)
        if not candidates:
            return Reply("no pairs waiting for review")
        pair = candidates[0]

        def decide(status: PairStatus) -> Action:
            async def run(who: Caller) -> str:
                decided = await self.ops.pair_desk.decide(who, pair.pair_id, status)
                return f"pair {decided.pair_id} {decided.status.value}"

            return run

        text = f"{replies.pair(pair)}\n({len(candidates)} waiting)"
        return Reply(text, {"Confirm pair": decide(PairStatus.CONFIRMED), "Reject pair": decide(PairStatus.REJECTED)})

    async def _leaders(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return Reply(replies.leaders(await self.ops.follows(caller)))

    async def _follow(self, caller: Caller, args: list[str], tid: str) -> Reply:
        venue, leader = arguments.leader(args, "/follow <venue> <leader> [key=value ...]")
        rules = arguments.rules(args[2:])
        caller.require(Role.TRADER)

        async def run(who: Caller) -> str:
            return "following: " + replies.follow(await self.ops.follow(who, venue, leader, dict(rules)))

        shown = " ".join(f"{k}={v}" for k, v in rules.items()) or "default rules"
        return Reply(
            f"Follow {venue.value} leader {leader} with {shown}? Its trades will be copied with real orders.",
            {"Follow": run},
        )

    async def _unfollow(self, caller: Caller, args: list[str], tid: str) -> Reply:
        venue, leader = arguments.leader(args, "/unfollow <venue> <leader>")
        return Reply("unfollowed: " + replies.follow(await self.ops.unfollow(caller, venue, leader)))

    async def _pause(self, caller: Caller, args: list[str], tid: str) -> Reply:
        venue, leader = arguments.leader(args, "/pause <venue> <leader> [reason]")
        reason = " ".join(args[2:]) or "paused from Telegram"
        return Reply(replies.follow(await self.ops.pause(caller, venue, leader, reason)))

    async def _resume(self, caller: Caller, args: list[str], tid: str) -> Reply:
        venue, leader = arguments.leader(args, "/resume <venue> <leader>")
        return Reply(replies.follow(await self.ops.resume(caller, venue, leader)))

    async def _kill(self, caller: Caller, args: list[str], tid: str) -> Reply:
        """Stopping never waits for a confirmation."""
        status = await self.ops.kill(caller, " ".join(args))
        return Reply(f"kill switch ON ({status.kill_reason}): no new orders. /unkill to lift it.")

    async def _unkill(self, caller: Caller, args: list[str], tid: str) -> Reply:
        caller.require(Role.OWNER)

        async def run(who: Caller) -> str:
            await self.ops.unkill(who)
            return "kill switch off: trading may resume"

        return Reply("Lift the kill switch? New orders will be placed again.", {"Lift it": run})

    async def _limits(self, caller: Caller, args: list[str], tid: str) -> Reply:
        current = await self.ops.limits(caller)
        if not args:
            return Reply(replies.limits(current))
        if len(args) != 2:
            raise OperationError("usage: /limits [<key> <value>]")
        key, value = args
        caller.require(Role.OWNER)
        if key not in type(current).model_fields:
            raise OperationError(f"unknown limit {key!r}; /limits lists them")
        before = getattr(current, key)

        async def run(who: Caller) -> str:
            changed = await self.ops.set_limit(who, key, value)
            return f"{key} = {getattr(changed, key)}"

        if arguments.decimal(value, key) > Decimal(before):
            return Reply(f"Raise {key} from {before} to {value}? That loosens a safety.", {"Raise it": run})
        return Reply(await run(caller))

    async def _order(self, caller: Caller, side: Side, args: list[str]) -> Reply:
        order = arguments.order(side, args)
        caller.require(Role.TRADER)
        question = replies.order_question(order)
        key = f"telegram-{secrets.token_urlsafe(16)}"  # one per confirmation: a new question is a new order

        async def run(who: Caller) -> str:
            return replies.order(await self.ops.place_order(who, order, key))

        return Reply(question, {"Place order": run})

    async def _buy(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return await self._order(caller, Side.BUY, args)

    async def _sell(self, caller: Caller, args: list[str], tid: str) -> Reply:
        return await self._order(caller, Side.SELL, args)

    async def _orders(self, caller: Caller, args: list[str], tid: str) -> Reply:
        found = await self.ops.orders(caller, limit=10)
        return Reply("\n".join(replies.order(o) for o in found) if found else "no manual orders yet")

    async def _cancel(self, caller: Caller, args: list[str], tid: str) -> Reply:
        if len(args) != 1:
            raise OperationError("usage: /cancel <order id> (see /orders)")
        return Reply(replies.order(await self.ops.cancel_order(caller, args[0])))


def _question(query: CallbackQuery) -> str:
    """The text of the message under the pressed button (an old, inaccessible one has none)."""
    return (query.message.text or "") if isinstance(query.message, Message) else ""
