"""Whole Telegram conversations: unmodified python-telegram-bot against the sandbox Bot API, the real
application layer, a dev server, the risk supervisors and a worker trading fake venues. Each step
ends in the Temporal and database state the bot claims, and tenant B's user reaches nothing of A's."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from arbitrage.saga import ArbSagaInput
from control.app.access import Access, Role, local_operator
from control.app.copy import Copying
from control.app.operations import Operations, People
from control.app.risk import RiskControl, running_risk
from control.telegram.bot import TelegramBot
from control.telegram.confirmations import Confirmations
from control.telegram.settings import TelegramSettings
from copytrade.rules import CopyRules
from domain.accounts import AccountRef
from domain.models import PairStatus, Venue
from matching.pairs import SqlPairRepository
from sandbox.serving import serve_app
from sandbox.telegram.app import DEFAULT_TOKEN, TelegramSandbox, create_app
from storage import migrate
from storage.database import create_engine
from tests.control.telegram_rig import Person
from tests.fakes.venue import FakeVenue
from tests.workflows.saga_fixtures import PAIR, POLY, end_follows, opportunity, venues
from tests.workflows.test_arb_saga import FAST
from tests.workflows.test_copy_trade import markets
from venues.accounts import VenueAccounts
from workers.worker import build_worker
from workflows.arb_saga import ArbSagaWorkflow

LEADER = "0x" + "ef" * 20
ALICE, VIC, BOB, STRANGER = 1001, 1002, 2001, 9999


@dataclass
class Conversation:
    client: Client
    queue: str
    engine: AsyncEngine
    ops: Operations
    bot: TelegramBot
    venues: dict[Venue, FakeVenue]
    tenants: tuple[str, str]
    http: httpx.AsyncClient

    def person(self, user_id: int) -> Person:
        return Person(self.http, user_id)

    async def linked(self, user_id: int, tenant: str, name: str) -> Person:
        code = await People(self.engine).link_code(local_operator(tenant), name)
        person = self.person(user_id)
        [reply] = await person.say(f"/start {code}")
        assert reply["text"].startswith(f"Linked: you are {name}"), reply["text"]
        return person


async def _conversation(
    dev_server_env: WorkflowEnvironment, tmp_path: Path, settings: TelegramSettings
) -> AsyncIterator[Conversation]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'telegram.db'}")
    await migrate.upgrade(engine)
    client = dev_server_env.client
    a, b = f"a{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    access = Access(engine)
    for tenant, people in ((a, (("alice", Role.OWNER), ("vic", Role.VIEWER))), (b, (("bob", Role.OWNER),))):
        await access.create_tenant(tenant)
        for name, role in people:
            await access.add_user(tenant, name, role)
    candidate = PAIR.model_copy(
        update={"pair_id": f"pair-{a}", "status": PairStatus.CANDIDATE, "risk_flags": ("resolution source differs",)}
    )
    await SqlPairRepository(engine).suggest(candidate)
    fakes = venues()
    accounts = VenueAccounts.single(fakes)
    for tenant in (a, b):
        accounts.add(AccountRef(tenant_id=tenant), fakes)
    queue = f"tg-{uuid.uuid4().hex[:8]}"
    worker = build_worker(client, queue, engine, accounts=accounts, trading_allowed=lambda _t: True, markets=markets)
    ops = Operations(client, engine, queue, paper=True, timeout=timedelta(seconds=15))
    sandbox = TelegramSandbox()
    async with (
        worker,
        running_risk(client, engine, a, queue),
        running_risk(client, engine, b, queue),
        serve_app(create_app(sandbox)) as api_url,
        httpx.AsyncClient(base_url=api_url, timeout=30) as http,
    ):
        for tenant in (a, b):
            while not (await RiskControl(client, tenant).status()).balances:
                await asyncio.sleep(0.05)
        bot = TelegramBot(ops, DEFAULT_TOKEN, api_url, settings)
        async with bot.running():
            yield Conversation(client, queue, engine, ops, bot, fakes, (a, b), http)
        await sandbox.close()
        for tenant in (a, b):
            await RiskControl(client, tenant).handle.terminate("test over")
            await end_follows(client, tenant)
    await engine.dispose()


@pytest.fixture
async def chat(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Conversation]:
    async for conversation in _conversation(dev_server_env, tmp_path, TelegramSettings(alert_poll_seconds=0.1)):
        yield conversation


def _buttons(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


async def test_a_stranger_is_refused_and_nothing_else(chat: Conversation) -> None:
    stranger = chat.person(STRANGER)
    for text in ("/status", "/buy kalshi X yes 1 0.5", "hello"):
        [reply] = await stranger.say(text)
        assert "not linked" in reply["text"] and not _buttons(reply)
    [reply] = await stranger.say("/start not-a-code")
    assert "unknown, used or expired" in reply["text"]
    code = await People(chat.engine).link_code(local_operator(chat.tenants[0]), "alice")
    [reply] = await stranger.say(f"/start {code}")
    assert reply["text"].startswith("Linked: you are alice (owner)")
    [reply] = await chat.person(ALICE).say(f"/start {code}")
    assert "unknown, used or expired" in reply["text"]  # a code links once


async def test_link_status_pair_follow_order_kill_unkill_and_an_alert(chat: Conversation) -> None:
    a = chat.tenants[0]
    alice = await chat.linked(ALICE, a, "alice")
    [status] = await alice.say("/status")
    assert "PAPER" in status["text"] and "kill switch: off" in status["text"]
    [book] = await alice.say("/positions")
    assert "polymarket: exposure $0.00, balance $10000.00" in book["text"], book["text"]

    [review] = await alice.say("/pairs")
    assert "resolution source differs" in review["text"] and _buttons(review) == [
        "Confirm pair",
        "Reject pair",
        "Cancel",
    ]
    decided = await alice.press(review, "Confirm pair")
    assert "confirmed" in decided["text"] and not _buttons(decided)
    pair = await SqlPairRepository(chat.engine).get(f"pair-{a}")
    assert pair is not None and pair.status is PairStatus.CONFIRMED and pair.confirmed_by == "telegram:alice"

    [ask] = await alice.say(f"/follow polymarket {LEADER} fixed_amount=5")
    assert "real orders" in ask["text"] and "Follow" in _buttons(ask)
    assert not await Copying(chat.client, a).follows()  # nothing before the press
    followed = await alice.press(ask, "Follow")
    assert "following" in followed["text"]
    [follow] = await Copying(chat.client, a).follows()
    assert (follow.leader, follow.rules.fixed_amount) == (LEADER, Decimal(5))

    [ask] = await alice.say(f"/buy polymarket {POLY.market_id} yes 20 0.42")
    assert "worst-case cost: $8.40" in ask["text"]
    poly = chat.venues[Venue.POLYMARKET]
    assert not poly.submissions
    placed = await alice.press(ask, "Place order")
    assert "filled, 20 filled for $8.00" in placed["text"], placed["text"]
    [order] = await chat.ops.orders(local_operator(a))
    assert order.filled == 20 and len(poly.submissions) == 1
    data = ask["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    sandbox_refuses_a_gone_button = await chat.http.post(
        "/_sandbox/press", json={"user_id": ALICE, "message_id": ask["message_id"], "data": data}
    )
    assert sandbox_refuses_a_gone_button.status_code == 400  # the keyboard is gone from the message
    assert len(poly.submissions) == 1

    [ask] = await alice.say(f"/buy polymarket {POLY.market_id} yes 20 0.425")
    refused = await alice.press(ask, "Place order")
    assert "refused: order refused, nothing was sent: price 0.425 is not on the market's tick" in refused["text"]
    assert len(poly.submissions) == 1

    said = [m["text"] for m in await alice.say("/kill news pending", replies=2)]
    # the reply, and the kill switch change pushed to the tenant's linked users (in either order)
    assert sorted(said) == [
        "kill switch ON (news pending): no new orders. /unkill to lift it.",
        "kill switch ON by telegram:alice: news pending",
    ]
    assert (await RiskControl(chat.client, a).status()).kill_switch
    [ask] = await alice.say("/unkill")
    assert "Lift it" in _buttons(ask)
    lifted = await alice.press(ask, "Lift it")
    assert "kill switch off" in lifted["text"]
    assert not (await RiskControl(chat.client, a).status()).kill_switch
    await alice.read()  # the unkill notice

    chat.venues[Venue.KALSHI].faults.reject_next = 1
    request = ArbSagaInput(opportunity=opportunity(10), pair=PAIR, policy=FAST, tenant_id=a)
    saga = await chat.client.start_workflow(ArbSagaWorkflow.run, request, id=f"arb-{a}-1", task_queue=chat.queue)
    await saga.result()
    [alert] = await alice.read()
    assert alert["text"].startswith(f"ALERT arb-{a}-1: legged") and "compensated" in alert["text"]


async def test_confirmations_expire_and_roles_hold(chat: Conversation) -> None:
    a = chat.tenants[0]
    now = [0.0]
    chat.bot.confirmations = Confirmations(ttl_s=30, clock=lambda: now[0])
    alice = await chat.linked(ALICE, a, "alice")
    [ask] = await alice.say(f"/buy polymarket {POLY.market_id} yes 5 0.42")
    now[0] = 31.0
    left = await alice.press(ask, "Place order")
    assert (await alice.last_answer())["text"] == "this confirmation expired: nothing was done; ask again"
    assert _buttons(left) and not chat.venues[Venue.POLYMARKET].submissions
    [ask] = await alice.say("/unkill")
    cancelled = await alice.press(ask, "Cancel")
    assert "cancelled: nothing was done" in cancelled["text"] and not _buttons(cancelled)

    vic = await chat.linked(VIC, a, "vic")
    [reply] = await vic.say(f"/buy polymarket {POLY.market_id} yes 5 0.42")
    assert "trader" in reply["text"] and not _buttons(reply)
    [reply] = await vic.say("/kill because")
    assert "trader" in reply["text"]
    assert not (await RiskControl(chat.client, a).status()).kill_switch
    for bad in ("/buy polymarket", "/buy nowhere m yes 1 0.5", "/buy kalshi m maybe 1 0.5", "/pnl forever"):
        [reply] = await alice.say(bad)
        assert (
            "usage" in reply["text"] or "unknown venue" in reply["text"] or "yes or no" in reply["text"]
        ) and not _buttons(reply)
    [reply] = await alice.say("/buy kalshi m yes 1 1.5")
    assert "price" in reply["text"] and not _buttons(reply)


async def test_tenant_b_reaches_nothing_of_tenant_a(chat: Conversation) -> None:
    """Bob (tenant B) types every command the bot knows, with tenant A's ids where one is taken: no answer
    shows anything of A's, and A's risk state, follow and order are what they were."""
    a, b = chat.tenants
    alice = await chat.linked(ALICE, a, "alice")
    bob = await chat.linked(BOB, b, "bob")
    [ask] = await alice.say(f"/buy polymarket {POLY.market_id} yes 5 0.42")
    await alice.press(ask, "Place order")
    [order] = await chat.ops.orders(local_operator(a))
    await Copying(chat.client, a).follow(Venue.POLYMARKET, LEADER, CopyRules(), chat.queue)
    said = {
        "help": "/help",
        "status": "/status",
        "pnl": "/pnl all",
        "positions": "/positions",
        "sagas": "/sagas",
        "copies": "/copies",
        "pairs": "/pairs",
        "leaders": "/leaders",
        "limits": "/limits",
        "orders": "/orders",
        "cancel": f"/cancel {order.order_id}",
        "pause": f"/pause polymarket {LEADER}",
        "resume": f"/resume polymarket {LEADER}",
        "unfollow": f"/unfollow polymarket {LEADER}",
        "follow": f"/follow polymarket {LEADER}",
        "buy": f"/buy polymarket {POLY.market_id} yes 5 0.42",
        "sell": f"/sell polymarket {POLY.market_id} yes 5 0.42",
        "unkill": "/unkill",
    }
    assert set(said) | {"kill"} == set(chat.bot._commands()), "a command without a cross-tenant case"
    answers = {name: (await bob.say(text))[0] for name, text in said.items()}
    killed = [m["text"] for m in await bob.say("/kill mine only", replies=2)]  # the reply and B's own alert
    assert all(a not in text for text in killed) and (await RiskControl(chat.client, b).status()).kill_switch
    for name, reply in answers.items():
        if name in ("pairs", "cancel"):  # pairs are shared market knowledge; /cancel echoes the id typed
            continue
        assert a not in reply["text"] and order.order_id not in reply["text"], (name, reply["text"])
    assert answers["orders"]["text"] == "no manual orders yet"
    assert "no order" in answers["cancel"]["text"]
    assert "you follow no leaders" in answers["leaders"]["text"]
    for name in ("pause", "resume", "unfollow"):
        assert answers[name]["text"] == f"tenant '{b}' does not follow polymarket leader {LEADER}"
    [ask] = await bob.say("/unkill")
    assert "kill switch off" in (await bob.press(ask, "Lift it"))["text"]
    assert not (await RiskControl(chat.client, a).status()).kill_switch
    assert not (await RiskControl(chat.client, b).status()).kill_switch
    [follow] = await Copying(chat.client, a).follows()
    assert not follow.paused
    assert [o.order_id for o in await chat.ops.orders(local_operator(a))] == [order.order_id]
    assert await chat.ops.orders(local_operator(b)) == []


@pytest.fixture
async def hooked(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Conversation]:
    settings = TelegramSettings(mode="webhook", webhook_port=0, webhook_secret=SecretStr("s3cret-token"))
    async for conversation in _conversation(dev_server_env, tmp_path, settings):
        yield conversation


async def test_webhook_mode_takes_updates_only_with_the_secret_token(hooked: Conversation) -> None:
    info = (await hooked.http.get(f"/bot{DEFAULT_TOKEN}/getWebhookInfo")).json()["result"]
    assert info["url"] == hooked.bot.webhook_endpoint
    polled = await hooked.http.post(f"/bot{DEFAULT_TOKEN}/getUpdates")
    assert polled.status_code == 409 and "webhook is active" in polled.json()["description"]
    alice = await hooked.linked(ALICE, hooked.tenants[0], "alice")
    [status] = await alice.say("/status")
    assert "PAPER" in status["text"]
    async with httpx.AsyncClient() as http:
        forged = {
            "update_id": 1,
            "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "/kill"},
        }
        wrong = await http.post(
            hooked.bot.webhook_endpoint, json=forged, headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}
        )
        missing = await http.post(hooked.bot.webhook_endpoint, json=forged)
    assert wrong.status_code == missing.status_code == 403
    assert not (await RiskControl(hooked.client, hooked.tenants[0]).status()).kill_switch
