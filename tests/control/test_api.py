"""The REST API on a running server (uvicorn), with a real dev server, the risk supervisor and the leader
workflows' worker: every flow ends in the Temporal and database state it claims, and tenant B can
neither see nor change anything of tenant A's."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import pytest
import schemathesis
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.core.result import Ok
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from arbitrage.opportunity import OutcomeKind, SqlOpportunityRecorder
from control.api.app import create_api
from control.api.limits import Rate, RateLimiter
from control.app.access import Access, Role
from control.app.copy import Copying
from control.app.operations import Operations
from control.app.risk import RiskControl, running_risk
from domain.accounts import AccountRef
from domain.models import Venue, utc_now
from matching.candidates import pair_id
from sandbox.serving import serve_app
from storage import migrate
from storage.database import create_engine, session_factory
from storage.tables import AuditEvent, CopyOutcomeRow, SagaRow
from tests.control.test_pairs_cli import KALSHI_MARKETS, gamma
from tests.workflows.saga_fixtures import POLY, end_follows, opportunity, venues
from tests.workflows.test_copy_trade import markets
from venues.accounts import VenueAccounts
from workers.worker import build_worker

WALLET = "0x" + "cd" * 20


@dataclass
class Api:
    url: str
    engine: AsyncEngine
    tenants: tuple[str, str]
    keys: dict[str, str]  # "a-owner", "a-trader", "a-viewer", "b-owner"
    client: Client

    def headers(self, who: str, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.keys[who], **extra}


@pytest.fixture
async def api(dev_server_env: WorkflowEnvironment, tmp_path: Path) -> AsyncIterator[Api]:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'api.db'}")
    await migrate.upgrade(engine)
    client = dev_server_env.client
    queue = f"api-{uuid.uuid4().hex[:8]}"
    a, b = f"a{uuid.uuid4().hex[:8]}", f"b{uuid.uuid4().hex[:8]}"
    access = Access(engine)
    keys: dict[str, str] = {}
    for tenant, prefix in ((a, "a"), (b, "b")):
        await access.create_tenant(tenant)
        for role in Role:
            await access.add_user(tenant, role.value, role)
            keys[f"{prefix}-{role.value}"] = (await access.issue_key(tenant, role.value, "test")).secret
    ops = Operations(client, engine, queue, paper=True, timeout=timedelta(seconds=10))
    limiter = RateLimiter(rates={"shared": Rate(per_second=1000, burst=1000)})
    fakes = venues()
    accounts = VenueAccounts.single(fakes)
    for tenant in (a, b):
        accounts.add(AccountRef(tenant_id=tenant), fakes)
    worker = build_worker(client, queue, engine, accounts=accounts, trading_allowed=lambda _t: True, markets=markets)
    async with (
        worker,
        running_risk(client, engine, a, queue),
        running_risk(client, engine, b, queue),
        serve_app(create_api(ops, limiter=limiter)) as url,
    ):
        yield Api(url, engine, (a, b), keys, client)
        for tenant in (a, b):
            await RiskControl(client, tenant).handle.terminate("test over")
            await end_follows(client, tenant)
    await engine.dispose()


async def _http(api: Api) -> httpx.AsyncClient:
    return httpx.AsyncClient(base_url=api.url, timeout=20)


def _problem(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and body["detail"]
    return str(body["detail"])


async def test_keys_are_required_checked_and_revocable(api: Api) -> None:
    async with await _http(api) as http:
        assert "send an API key" in _problem(await http.get("/v1/health"), 401)
        assert "not an InertialEvent API key" in _problem(await http.get("/v1/health", headers={"X-API-Key": "x"}), 401)
        forged = api.keys["a-owner"][:-4] + "AAAA"
        assert "unknown API key" in _problem(await http.get("/v1/health", headers={"X-API-Key": forged}), 401)
        health = await http.get("/v1/health", headers=api.headers("a-viewer"))
        assert health.status_code == 200
        assert health.json() == {
            "mode": "paper",
            "tenant_id": api.tenants[0],
            "role": "viewer",
            "temporal": True,
            "database": True,
            "workflow_url": None,
        }
        made = await http.post("/v1/keys", json={"user": "trader", "name": "bot"}, headers=api.headers("a-owner"))
        assert made.status_code == 201, made.text
        secret, key_id = made.json()["secret"], made.json()["key"]["id"]
        assert (await http.get("/v1/risk", headers={"X-API-Key": secret})).status_code == 200
        listed = (await http.get("/v1/keys", headers=api.headers("a-owner"))).json()
        assert all("secret" not in k for k in listed) and any(k["last_used_at"] for k in listed if k["id"] == key_id)
        assert (await http.delete(f"/v1/keys/{key_id}", headers=api.headers("a-owner"))).status_code == 200
        assert "revoked" in _problem(await http.get("/v1/risk", headers={"X-API-Key": secret}), 401)
        too_strong = await http.post(
            "/v1/keys", json={"user": "viewer", "role": "owner"}, headers=api.headers("a-owner")
        )
        assert "cannot hold an owner key" in _problem(too_strong, 403)


async def test_kill_needs_a_trader_unkill_an_owner_each_audited(api: Api) -> None:
    a = api.tenants[0]
    async with await _http(api) as http:
        assert "needs a trader" in _problem(
            await http.post("/v1/risk/kill", json={"reason": "x"}, headers=api.headers("a-viewer")), 403
        )
        killed = await http.post("/v1/risk/kill", json={"reason": "news"}, headers=api.headers("a-trader"))
        assert killed.status_code == 200, killed.text
        assert killed.json()["kill_switch"] is True
        assert "needs an owner" in _problem(await http.post("/v1/risk/unkill", headers=api.headers("a-trader")), 403)
        assert (await RiskControl(api.client, a).status()).kill_switch
        unkilled = await http.post("/v1/risk/unkill", headers=api.headers("a-owner"))
        assert unkilled.json()["kill_switch"] is False
        audit = (await http.get("/v1/audit", headers=api.headers("a-owner"))).json()["items"]
    calls = [(e["action"], e["actor"], e["interface"]) for e in audit if e["interface"] == "api"]
    assert calls[:2] == [("unkill", "api:owner", "api"), ("kill", "api:trader", "api")]


async def test_idempotency_key_replays_the_first_answer_and_refuses_another_body(api: Api) -> None:
    async with await _http(api) as http:
        first = await http.post(
            "/v1/risk/kill", json={"reason": "once"}, headers=api.headers("a-trader", **{"Idempotency-Key": "k1"})
        )
        again = await http.post(
            "/v1/risk/kill", json={"reason": "once"}, headers=api.headers("a-trader", **{"Idempotency-Key": "k1"})
        )
        assert again.status_code == 200 and again.json() == first.json()
        assert again.headers.get("idempotent-replayed") == "true"
        other = await http.post(
            "/v1/risk/kill", json={"reason": "twice"}, headers=api.headers("a-trader", **{"Idempotency-Key": "k1"})
        )
        assert "different request" in _problem(other, 409)
        # the same key of another API key is another request
        mine = await http.post(
            "/v1/risk/kill", json={"reason": "twice"}, headers=api.headers("a-owner", **{"Idempotency-Key": "k1"})
        )
        assert mine.status_code == 200
    async with session_factory(api.engine)() as session:
        kills = (
            await session.scalars(
                select(AuditEvent).where(AuditEvent.action == "kill", AuditEvent.tenant_id == api.tenants[0])
            )
        ).all()
    assert len([k for k in kills if k.interface == "api"]) == 2


async def test_follow_pause_unfollow_reach_the_leader_workflow(api: Api) -> None:
    a, b = api.tenants
    async with await _http(api) as http:
        made = await http.post(
            "/v1/leaders",
            json={"venue": "polymarket", "leader": WALLET, "rules": {"fixed_amount": "5"}},
            headers=api.headers("a-trader"),
        )
        assert made.status_code == 200, made.text
        state = await Copying(api.client, a).state(Venue.POLYMARKET, WALLET)
        assert state.rules.fixed_amount == Decimal("5")
        bad = await http.post(
            "/v1/leaders",
            json={"venue": "polymarket", "leader": WALLET, "rules": {"fixed_amount": "-1"}},
            headers=api.headers("a-trader"),
        )
        _problem(bad, 422)
        paused = await http.post(
            f"/v1/leaders/polymarket/{WALLET}/pause", json={"reason": "lunch"}, headers=api.headers("a-trader")
        )
        assert paused.json()["paused"] is True
        book = (await http.get("/v1/positions", headers=api.headers("a-viewer"))).json()
        assert book["tenant_id"] == a and [ld["leader"] for ld in book["leaders"]] == [WALLET]
        assert {v["venue"] for v in book["venues"]} == {"polymarket", "kalshi"}  # the balances the supervisor synced
        theirs = (await http.get("/v1/positions", headers=api.headers("b-owner"))).json()
        assert theirs["tenant_id"] == b and theirs["leaders"] == []
        # tenant B does not see, pause or unfollow A's leader
        assert (await http.get("/v1/leaders", headers=api.headers("b-owner"))).json() == []
        _problem(await http.get(f"/v1/leaders/polymarket/{WALLET}", headers=api.headers("b-owner")), 404)
        _problem(await http.delete(f"/v1/leaders/polymarket/{WALLET}", headers=api.headers("b-owner")), 404)
        gone = await http.delete(f"/v1/leaders/polymarket/{WALLET}", headers=api.headers("a-trader"))
        assert gone.status_code == 200
    assert (await api.client.get_workflow_handle(f"copy-leader-{a}-polymarket-{WALLET.lower()}").describe()).status


async def _seed_tenant_a(api: Api, http: httpx.AsyncClient) -> dict[str, str]:
    """Something of tenant A's behind every kind of id a route takes."""
    a = api.tenants[0]
    now = utc_now()
    async with session_factory(api.engine)() as session:
        session.add(SagaRow(workflow_id=f"arb-{a}-1", tenant_id=a, kind="arb", state="Completed", started_at=now))
        session.add(
            CopyOutcomeRow(
                tenant_id=a,
                fill_key="f1",
                leader=WALLET,
                venue="polymarket",
                market_id="m",
                state="filled",
                reason="",
                workflow_id="copy-x",
                filled=Decimal(1),
                notional=Decimal(1),
                details={},
                recorded_at=now,
            )
        )
        await session.commit()
    followed = await http.post(
        "/v1/leaders", json={"venue": "polymarket", "leader": WALLET}, headers=api.headers("a-trader")
    )
    assert followed.status_code == 200, followed.text
    order = {"venue": "polymarket", "market_id": POLY.market_id, "outcome": "yes", "side": "buy"}
    placed = await http.post(
        "/v1/orders",
        json={**order, "price": "0.42", "quantity": "5", "rest_seconds": 600},
        headers=api.headers("a-trader", **{"Idempotency-Key": "shared-key"}),
    )
    assert placed.status_code == 200, placed.text
    made = await http.post("/v1/users", json={"name": "alice-only", "role": "trader"}, headers=api.headers("a-owner"))
    assert made.status_code == 201, made.text
    a_keys = (await http.get("/v1/keys", headers=api.headers("a-owner"))).json()
    return {
        "venue": "polymarket",
        "leader": WALLET,
        "fill_key": "f1",
        "workflow_id": f"arb-{a}-1",
        "order_id": placed.json()["order_id"],
        "name": "alice-only",
        "key_id": a_keys[0]["id"],
        "key": "max_open_sagas",
        "pair_id": "pm-none",
    }


async def _snapshot(api: Api, http: httpx.AsyncClient) -> dict[str, object]:
    """Everything of A's that B might change, read as A (fields that only reading moves are dropped)."""
    owner = api.headers("a-owner")
    risk = (await http.get("/v1/risk", headers=owner)).json()
    keys = (await http.get("/v1/keys", headers=owner)).json()
    return {
        "risk": {k: risk[k] for k in ("kill_switch", "kill_reason", "breaker_open", "open_sagas")},
        "limits": (await http.get("/v1/risk/limits", headers=owner)).json(),
        "leaders": (await http.get("/v1/leaders", headers=owner)).json(),
        "orders": [(o["order_id"], o["state"]) for o in (await http.get("/v1/orders", headers=owner)).json()],
        "users": (await http.get("/v1/users", headers=owner)).json(),
        "keys": [{k: v for k, v in key.items() if k != "last_used_at"} for key in keys],
        "audit": (await http.get("/v1/audit", headers=owner, params={"limit": 200})).json()["items"],
    }


def _none_of_a(a: str) -> Callable[[httpx.Response], None]:
    def check(response: httpx.Response) -> None:
        assert response.status_code in (200, 201), response.text
        assert a not in response.text and WALLET.lower() not in response.text.lower(), response.text

    return check


def _is_problem(response: httpx.Response, status: int, says: str) -> None:
    assert says in _problem(response, status)


def _not_found(response: httpx.Response) -> None:
    _problem(response, 404)


async def test_no_route_reaches_another_tenant(api: Api) -> None:
    """Tenant B's owner calls every route of the API with tenant A's ids; every answer is B's own or a
    404, and afterwards A's state is what it was. A route added without a case here fails the test."""
    a, b = api.tenants
    async with await _http(api) as http:
        ids = await _seed_tenant_a(api, http)
        await SqlOpportunityRecorder(api.engine, a).record_detected(opportunity(opportunity_id=f"opp-{a}"))
        before = await _snapshot(api, http)
        theirs = _none_of_a(a)
        order = {"venue": "polymarket", "market_id": POLY.market_id, "outcome": "yes", "side": "buy"}
        cases: dict[tuple[str, str], tuple[dict[str, Any], Callable[[httpx.Response], None]]] = {
            ("get", "/v1/health"): ({}, theirs),
            ("get", "/v1/risk"): ({}, theirs),
            ("get", "/v1/risk/limits"): ({}, theirs),
            ("put", "/v1/risk/limits/{key}"): ({"json": {"value": "7"}}, theirs),
            ("get", "/v1/pnl"): ({}, theirs),
            ("get", "/v1/positions"): ({}, theirs),
            ("post", "/v1/risk/kill"): ({"json": {"reason": "b only"}}, theirs),
            ("post", "/v1/risk/unkill"): ({}, theirs),
            ("post", "/v1/risk/reset-breaker"): ({}, lambda r: _is_problem(r, 422, "breaker is not open")),
            ("get", "/v1/leaders"): ({}, theirs),
            ("get", "/v1/leaders/{venue}/{leader}"): ({}, _not_found),
            ("patch", "/v1/leaders/{venue}/{leader}/rules"): (
                {"json": {"changes": {"max_per_trade": "1"}}},
                _not_found,
            ),
            ("post", "/v1/leaders/{venue}/{leader}/pause"): ({"json": {"reason": "mine"}}, _not_found),
            ("post", "/v1/leaders/{venue}/{leader}/resume"): ({}, _not_found),
            ("delete", "/v1/leaders/{venue}/{leader}"): ({}, _not_found),
            ("get", "/v1/copies"): ({}, theirs),
            ("get", "/v1/copies/{fill_key}"): ({}, _not_found),
            ("get", "/v1/opportunities"): ({}, theirs),
            ("get", "/v1/sagas"): ({}, theirs),
            ("get", "/v1/sagas/{workflow_id}"): ({}, _not_found),
            # pairs are market knowledge every tenant shares; a decision is audited in the decider's tenant
            ("get", "/v1/pairs"): ({}, theirs),
            ("post", "/v1/pairs/suggest"): ({"json": {"polymarket": [], "kalshi": {"markets": []}}}, theirs),
            ("post", "/v1/pairs/{pair_id}/confirm"): ({}, _not_found),
            ("post", "/v1/pairs/{pair_id}/reject"): ({}, _not_found),
            ("get", "/v1/orders"): ({}, theirs),
            ("get", "/v1/orders/{order_id}"): ({}, _not_found),
            ("post", "/v1/orders/{order_id}/cancel"): ({}, _not_found),
            ("get", "/v1/alerts"): ({}, theirs),
            ("get", "/v1/audit"): ({}, theirs),
            ("get", "/v1/users"): ({}, theirs),
            ("post", "/v1/users/{name}/link-code"): ({}, _not_found),
            ("get", "/v1/keys"): ({}, theirs),
            ("post", "/v1/keys"): ({"json": {"user": ids["name"], "name": "stolen"}}, _not_found),
            ("delete", "/v1/keys/{key_id}"): ({}, _not_found),
            # last: B's own follow, order (under the key A used) and user, none of them A's
            ("post", "/v1/leaders"): ({"json": {"venue": "polymarket", "leader": WALLET}}, lambda r: _own_follow(r, b)),
            ("post", "/v1/orders"): (
                {"json": {**order, "price": "0.42", "quantity": "5"}},
                lambda r: _own_order(r, b, ids),
            ),
            ("post", "/v1/users"): ({"json": {"name": "alice-only", "role": "viewer"}}, theirs),
        }
        paths = (await http.get("/openapi.json")).json()["paths"]
        routes = {(method, path) for path, item in paths.items() for method in item if path != "/v1/stream"}
        assert routes == set(cases), f"routes without a cross-tenant case: {routes - set(cases)}"
        for (method, path), (kwargs, check) in cases.items():
            # the idempotency key A's order used, so B's own order proves keys are per tenant
            key = "shared-key" if path == "/v1/orders" else f"b-{method}-{path}"
            headers = api.headers("b-owner", **{"Idempotency-Key": key})
            response = await http.request(method.upper(), path.format(**ids), headers=headers, **kwargs)
            check(response)
        assert await _snapshot(api, http) == before
        b_audit = (await http.get("/v1/audit", headers=api.headers("b-owner"), params={"limit": 200})).json()
        assert b_audit["items"] and all(e["tenant_id"] == b for e in b_audit["items"])


def _own_follow(response: httpx.Response, tenant: str) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["tenant_id"] == tenant


def _own_order(response: httpx.Response, tenant: str, ids: dict[str, str]) -> None:
    assert response.status_code == 200, response.text
    assert response.json()["tenant_id"] == tenant and response.json()["order_id"] != ids["order_id"]


async def test_a_manual_order_is_placed_once_per_key_within_its_tenant(api: Api) -> None:
    order = {"venue": "polymarket", "market_id": POLY.market_id, "outcome": "yes", "side": "buy"}
    body = {**order, "price": "0.42", "quantity": "20"}
    async with await _http(api) as http:
        assert (await http.post("/v1/orders", json=body, headers=api.headers("a-trader"))).status_code == 422  # no key
        viewer = await http.post("/v1/orders", json=body, headers=api.headers("a-viewer", **{"Idempotency-Key": "v"}))
        assert "needs a trader" in _problem(viewer, 403)
        keyed = api.headers("a-trader", **{"Idempotency-Key": "order-1"})
        first = await http.post("/v1/orders", json=body, headers=keyed)
        assert first.status_code == 200, first.text
        placed = first.json()
        assert (placed["state"], placed["filled"], placed["cost"]) == ("filled", "20", "8.00")
        assert (await http.post("/v1/orders", json=body, headers=keyed)).json() == placed
        other = {**body, "quantity": "5"}
        _problem(await http.post("/v1/orders", json=other, headers=keyed), 409)
        listed = await http.get("/v1/orders", headers=api.headers("a-viewer"))
        assert [o["order_id"] for o in listed.json()] == [placed["order_id"]]
        oid = placed["order_id"]
        assert (await http.get("/v1/orders", headers=api.headers("b-owner"))).json() == []
        _problem(await http.get(f"/v1/orders/{oid}", headers=api.headers("b-owner")), 404)
        _problem(await http.post(f"/v1/orders/{oid}/cancel", headers=api.headers("b-owner")), 404)
        assert "nothing to cancel" in _problem(await http.post(f"/v1/orders/{oid}/cancel", headers=keyed), 422)
        for change, reason in (
            ({"price": "0.425"}, "not on the market's tick"),
            ({"market_id": "nowhere"}, "lists no market 'nowhere'"),
        ):
            refused = await http.post(
                "/v1/orders", json={**body, **change}, headers=api.headers("a-trader", **{"Idempotency-Key": reason})
            )
            assert reason in _problem(refused, 422)
    async with api.engine.connect() as conn:
        actions = (await conn.execute(select(AuditEvent.action).where(AuditEvent.tenant_id == api.tenants[0]))).all()
    assert [a for (a,) in actions].count("place_order") == 3  # the replay answered from the first, not again


async def test_pairs_suggest_from_listings_then_confirm(api: Api, shared_data: Path) -> None:
    kalshi = json.loads((shared_data / KALSHI_MARKETS).read_text())
    listing = [gamma("0xaaa", "Will Bitcoin exceed $100,000 by March 15?")]
    body = {"polymarket": listing, "kalshi": kalshi, "min_confidence": 0}
    async with await _http(api) as http:
        viewer = await http.post("/v1/pairs/suggest", json=body, headers=api.headers("a-viewer"))
        _problem(viewer, 403)
        made = await http.post("/v1/pairs/suggest", json=body, headers=api.headers("a-trader"))
        assert made.status_code == 200, made.text
        [pair] = made.json()["pairs"]
        assert pair["pair_id"] == pair_id("0xaaa", "KXBTC-25MAR15-B100000") and pair["status"] == "candidate"
        garbage = await http.post(
            "/v1/pairs/suggest", json={"polymarket": {"nope": 1}, "kalshi": 5}, headers=api.headers("a-trader")
        )
        assert "not a Gamma and a Kalshi market listing" in _problem(garbage, 422)
        confirmed = await http.post(f"/v1/pairs/{pair['pair_id']}/confirm", headers=api.headers("a-trader"))
        assert confirmed.json()["status"] == "confirmed"


async def test_pages_walk_every_saga_once(api: Api) -> None:
    a = api.tenants[0]
    now = utc_now()
    async with session_factory(api.engine)() as session:
        for i in range(5):
            session.add(SagaRow(workflow_id=f"arb-{a}-{i}", tenant_id=a, kind="arb", state="Completed", started_at=now))
        await session.commit()
    seen: list[str] = []
    cursor: str | None = None
    async with await _http(api) as http:
        while True:
            params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await http.get("/v1/sagas", params=params, headers=api.headers("a-viewer"))).json()
            seen += [s["workflow_id"] for s in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(f"arb-{a}-{i}" for i in range(5))
        assert "not one this API gave out" in _problem(
            await http.get("/v1/sagas", params={"cursor": "!!"}, headers=api.headers("a-viewer")), 422
        )
        _problem(await http.get("/v1/sagas", params={"limit": "0"}, headers=api.headers("a-viewer")), 422)


async def test_bad_bodies_are_clear_4xx_and_change_nothing(api: Api) -> None:
    async with await _http(api) as http:
        broken = await http.post(
            "/v1/risk/kill",
            content=b"{not json",
            headers=api.headers("a-trader", **{"content-type": "application/json"}),
        )
        _problem(broken, 422)
        _problem(await http.post("/v1/risk/kill", json={"reason": ""}, headers=api.headers("a-trader")), 422)
        _problem(
            await http.post("/v1/risk/kill", json={"reason": "x", "extra": 1}, headers=api.headers("a-trader")), 422
        )
        huge = await http.post("/v1/risk/kill", json={"reason": "x" * 100_000}, headers=api.headers("a-trader"))
        _problem(huge, 413)
        _problem(await http.put("/v1/risk/limits/nonsense", json={"value": "1"}, headers=api.headers("a-owner")), 422)
        _problem(await http.post("/v1/pairs/nope/confirm", headers=api.headers("a-trader")), 404)
        assert (await http.get("/v1/risk", headers=api.headers("a-viewer"))).json()["kill_switch"] is False


async def test_rate_limit_answers_429_with_retry_after(api: Api, dev_server_env: WorkflowEnvironment) -> None:
    ops = Operations(dev_server_env.client, api.engine, "unused", paper=True)
    limiter = RateLimiter(rates={"shared": Rate(per_second=0.5, burst=2)})
    async with serve_app(create_api(ops, limiter=limiter)) as url, httpx.AsyncClient(base_url=url) as http:
        answers = [await http.get("/v1/alerts", headers=api.headers("a-viewer")) for _ in range(3)]
        assert [r.status_code for r in answers] == [200, 200, 429]
        assert answers[2].headers["retry-after"] == "2"
        assert (await http.get("/v1/alerts", headers=api.headers("b-viewer"))).status_code == 200  # per key


async def test_stream_sends_the_tenants_changes_only(api: Api) -> None:
    a, b = api.tenants
    async with session_factory(api.engine)() as session:
        session.add(SagaRow(workflow_id=f"arb-{a}-s", tenant_id=a, kind="arb", state="Completed", started_at=utc_now()))
        session.add(SagaRow(workflow_id=f"arb-{b}-s", tenant_id=b, kind="arb", state="Completed", started_at=utc_now()))
        session.add(
            AuditEvent(tenant_id=a, actor="saga", action="alert", subject=f"arb-{a}-s", details={"message": "m"})
        )
        await session.commit()
    for tenant in (a, b):
        recorder = SqlOpportunityRecorder(api.engine, tenant)
        await recorder.record_detected(opportunity(opportunity_id=f"opp-{tenant}"))
        await recorder.record_outcome(f"opp-{tenant}", OutcomeKind.TAKEN, f"arb-{tenant}-s")
    events: list[tuple[str, dict[str, object]]] = []
    async with await _http(api) as http, http.stream("GET", "/v1/stream", headers=api.headers("a-viewer")) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        event = ""
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                events.append((event, json.loads(line[6:])))
            if {e for e, _ in events} >= {"saga", "alert", "risk", "opportunity"}:
                break
    sagas = [d["workflow_id"] for e, d in events if e == "saga"]
    assert sagas == [f"arb-{a}-s"]
    found = [(d["id"], d["outcome"], d["reason"]) for e, d in events if e == "opportunity"]
    assert found == [(f"opp-{a}", "taken", f"arb-{a}-s")]
    assert [d["subject"] for e, d in events if e == "alert"] == [f"arb-{a}-s"]


async def test_openapi_documents_v1(api: Api) -> None:
    async with await _http(api) as http:
        spec = (await http.get("/openapi.json")).json()
        assert (await http.get("/docs")).status_code == 200
    assert all(path.startswith("/v1/") for path in spec["paths"])
    assert "X-API-Key" in json.dumps(spec["components"]["securitySchemes"])


def _fuzz(url: str, key: str, examples: int) -> tuple[list[str], dict[int, int]]:
    """Every operation but the endless stream, with bounded examples: the failures found, as text, and
    how many answers of each status came back (so a run that tested nothing cannot pass)."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json").exclude(path="/v1/stream")
    failures: list[str] = []
    statuses: dict[int, int] = {}
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    for found in schema.get_all_operations():
        assert isinstance(found, Ok), f"the API's own schema does not load: {found}"
        operation = found.ok()

        @hypothesis.settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
            derandomize=True,
        )
        @hypothesis.given(case=operation.as_strategy())
        def check(case: schemathesis.Case) -> None:
            try:
                response = case.call_and_validate(headers={"X-API-Key": key}, checks=checks, timeout=20)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            except Exception as exc:  # every kind of check failure is collected, not only the first
                failures.append(f"{case.operation.label}: {exc}")

        check()
    return failures, statuses


async def test_schemathesis_finds_no_server_error_and_no_schema_violation(api: Api) -> None:
    failures, statuses = await asyncio.to_thread(_fuzz, api.url, api.keys["a-owner"], 8)
    assert failures == [], "\n".join(failures[:5])
    assert sum(statuses.values()) >= 100 and statuses.get(200, 0) >= 20, statuses
    assert not any(status >= 500 for status in statuses)
