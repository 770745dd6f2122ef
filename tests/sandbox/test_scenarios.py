"""Scenarios and replay: deterministic twin markets with arbitrage windows, seeding and replay from recordings."""

from __future__ import annotations

import asyncio
import itertools
import json
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect

from domain.models import TimeInForce
from sandbox.engine import BookSide
from sandbox.handles import KalshiHandle, Sandboxes
from sandbox.kalshi import KalshiVenue
from sandbox.kalshi.venue import OrderInput
from sandbox.polymarket.state import PolymarketState
from sandbox.replay import replay_file
from sandbox.runner import run_sandboxes
from sandbox.scenarios import TwinMarkets, seed_kalshi_from_recording, seed_polymarket_from_recording
from tests.sandbox.conftest import KalshiCredentials, recv_json, signed_headers

KALSHI_RECORDING = Path("mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl")
POLY_BURST = Path("nautilus_trader/test_data/ws_market_price_change_crossing_burst.json")


def books(twin: TwinMarkets) -> list[object]:
    out: list[object] = []
    assert twin.kalshi is not None
    for spec in twin.specs:
        out.append(twin.kalshi.book(spec.kalshi_ticker))
        if twin.polymarket is not None:
            engine = twin.polymarket.markets[spec.condition_id].engine
            out.append((engine.levels(BookSide.BID), engine.levels(BookSide.ASK)))
    return out


def twin(seed: int, steps: int) -> TwinMarkets:
    scenario = TwinMarkets(KalshiVenue(), PolymarketState(), seed=seed)
    scenario.setup()
    for _ in range(steps):
        scenario.step()
    return scenario


async def test_twin_markets_are_deterministic_by_seed() -> None:
    first, again, other = twin(7, 400), twin(7, 400), twin(8, 400)
    assert books(first) == books(again)
    assert books(first) != books(other)
    assert first.specs[0].condition_id == again.specs[0].condition_id
    assert first.updates >= 2 * 400
    assert first.kalshi is not None
    assert len(first.kalshi.orders) <= 2 * first.levels * len(first.specs)  # churned quotes are not kept


async def test_twin_markets_open_and_close_arbitrage_windows() -> None:
    poly_state, kalshi_venue = PolymarketState(), KalshiVenue()
    scenario = TwinMarkets(kalshi_venue, poly_state, seed=3, pairs=1)
    scenario.setup()
    spec = scenario.specs[0]
    kalshi = kalshi_venue.markets[spec.kalshi_ticker].engine
    poly = poly_state.markets[spec.condition_id].engine
    states = []
    for _ in range(4_000):
        scenario.step()
        k_bid, k_ask = kalshi.best(BookSide.BID), kalshi.best(BookSide.ASK)
        p_bid, p_ask = poly.best(BookSide.BID), poly.best(BookSide.ASK)
        assert k_bid is not None and k_ask is not None and p_bid is not None and p_ask is not None
        assert k_bid < k_ask and p_bid < p_ask
        # Buy YES on one venue and NO (= sell YES at its bid) on the other for less than 1.
        states.append(k_ask < p_bid or p_ask < k_bid)
    openings = sum(1 for before, now in itertools.pairwise(states) if now and not before)
    closings = sum(1 for before, now in itertools.pairwise(states) if before and not now)
    assert openings >= 2 and closings >= 2
    assert 0 < sum(states) < len(states) / 2


async def test_updates_per_step_is_measured_on_the_scenarios_own_requotes() -> None:
    """`--rate` counts book updates: a requote that cannot rest makes one, and other traders' orders none."""
    scenario = twin(seed=4, steps=3_000)
    per_step = scenario.updates_per_step()
    assert per_step == scenario.updates / scenario.local_requotes
    assert 1.5 < per_step < 2.0
    assert scenario.kalshi is not None
    venue, ticker = scenario.kalshi, scenario.specs[0].kalshi_ticker
    venue.fund("someone", 10_000)
    before = scenario.updates
    venue.place("someone", OrderInput(ticker, "yes", "buy", 1, "limit", 1, "c1", TimeInForce.GTC, None, False))
    assert scenario.updates == before


async def test_twin_run_paces_updates_to_the_rate() -> None:
    scenario = TwinMarkets(KalshiVenue(), seed=1)
    scenario.setup()
    before = scenario.updates
    await scenario.run(rate=2_000, duration=0.3)
    made = scenario.updates - before
    assert 0 < made <= 2_000 * 0.3 * 1.3 + 10


async def test_kalshi_book_seeded_from_recording(shared_data: Path) -> None:
    venue = KalshiVenue()
    ticker, skipped = seed_kalshi_from_recording(venue, shared_data / KALSHI_RECORDING)
    yes, no = venue.book(ticker)
    assert ticker == "KXBTC15M-26APR191215-15"
    assert yes[-1] == (34, 3401) and no[-1] == (65, 32)
    assert skipped > 0  # the deci-cent tail levels
    assert venue.markets[ticker].title == "BTC price up in next 15 mins?"


async def test_polymarket_book_seeded_from_recording(shared_data: Path) -> None:
    state = PolymarketState()
    path = shared_data / "nautilus_trader/test_data/ws_book_snapshot_captured.json"
    condition = seed_polymarket_from_recording(state, path)
    recorded = json.loads(path.read_text())
    engine = state.markets[condition].engine
    assert engine.best(BookSide.BID) == max(Decimal(b["price"]) for b in recorded["bids"])
    assert engine.best(BookSide.ASK) == min(Decimal(a["price"]) for a in recorded["asks"])


async def test_replay_kalshi_recording_ends_at_the_recorded_touch(shared_data: Path) -> None:
    venue = KalshiVenue()
    handles = Sandboxes(KalshiHandle(venue, "http://unused"))
    stats = await replay_file(shared_data / KALSHI_RECORDING, handles, speed=0)
    yes, no = venue.book("KXBTC15M-26APR191215-15")
    assert stats.malformed == 0 and stats.messages == 127
    assert (yes[-1][0], 100 - no[-1][0]) == (37, 38)


async def test_replay_polymarket_burst_reproduces_the_final_book(shared_data: Path, tmp_path: Path) -> None:
    recorded = json.loads((shared_data / POLY_BURST).read_text())
    without_final = tmp_path / "burst.json"
    without_final.write_text(json.dumps(recorded[:-1]))
    state = PolymarketState()
    handles = Sandboxes(KalshiHandle(KalshiVenue(), "http://unused"), state)
    stats = await replay_file(without_final, handles, speed=0)
    final = recorded[-1]
    engine = state.markets[final["market"]].engine
    assert stats.skipped == 0 and stats.malformed == 0
    assert [(str(p), s) for p, s in engine.levels(BookSide.BID)] == [
        (b["price"], Decimal(b["size"])) for b in reversed(final["bids"])
    ]
    assert [(str(p), s) for p, s in engine.levels(BookSide.ASK)] == [
        (a["price"], Decimal(a["size"])) for a in reversed(final["asks"])
    ]


@pytest.mark.parametrize("bad", ['{"type": "delta", "ticker": "KX-1", "price_dollars": "abc", "side": "yes"}', "[1,"])
async def test_replay_skips_malformed_lines(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        bad + "\n" + '{"type": "delta", "ticker": "KX-1", "price_dollars": "0.40", "delta_fp": "5", "side": "yes"}\n'
    )
    venue = KalshiVenue()
    stats = await replay_file(path, Sandboxes(KalshiHandle(venue, "http://unused")), speed=0)
    assert venue.book("KX-1") == ([(40, 5)], [])
    assert stats.levels == 1


async def test_both_venues_run_the_twin_scenario_on_the_wire(rsa_keys: tuple) -> None:
    from typer.testing import CliRunner

    from control.cli.sandbox import app
    from tests.sandbox.conftest import public_pem

    assert CliRunner().invoke(app, ["--scenario", "nope"]).exit_code != 0
    async with run_sandboxes(scenario="twin", rate=2_000, seed=5) as handles:
        assert isinstance(handles.scenario, TwinMarkets) and handles.kalshi is not None
        spec = handles.scenario.specs[0]
        key_id = handles.kalshi.venue.keys.register("watcher", public_pem(rsa_keys[0]))
        creds = KalshiCredentials(key_id, rsa_keys[0], "", "watcher")
        headers = signed_headers(creds, "GET", "/trade-api/ws/v2")
        async with connect(handles.kalshi.ws_url, additional_headers=headers) as ws:
            await ws.send(
                json.dumps(
                    {
                        "id": 1,
                        "cmd": "subscribe",
                        "params": {"channels": ["orderbook_delta"], "market_ticker": spec.kalshi_ticker},
                    }
                )
            )
            messages = await recv_json(ws, 40)
        seqs = [m["seq"] for m in messages[1:]]
        assert messages[1]["type"] == "orderbook_snapshot"
        assert seqs == list(range(1, len(seqs) + 1))
        assert handles.polymarket_urls is not None
        async with httpx.AsyncClient(base_url=handles.polymarket_urls.clob) as client:
            book = (await client.get("/book", params={"token_id": spec.yes_token})).json()
        assert book["bids"] and book["asks"]


async def test_split_processes_build_the_same_books_as_one() -> None:
    together = twin(11, 300)
    kalshi_half = TwinMarkets(KalshiVenue(), None, seed=11)
    poly_half = TwinMarkets(None, PolymarketState(), seed=11)
    for half in (kalshi_half, poly_half):
        half.setup()
        for _ in range(300):
            half.step()
    assert kalshi_half.kalshi is not None and poly_half.polymarket is not None
    for spec in together.specs:
        assert together.kalshi is not None and together.polymarket is not None
        assert kalshi_half.kalshi.book(spec.kalshi_ticker) == together.kalshi.book(spec.kalshi_ticker)
        split = poly_half.polymarket.markets[spec.condition_id].engine
        whole = together.polymarket.markets[spec.condition_id].engine
        assert split.levels(BookSide.BID) == whole.levels(BookSide.BID)
        assert split.levels(BookSide.ASK) == whole.levels(BookSide.ASK)


async def test_sandboxes_fixture_serves_both_venues(sandboxes: Sandboxes) -> None:
    assert sandboxes.kalshi is not None and sandboxes.polymarket_urls is not None
    async with httpx.AsyncClient() as client:
        kalshi = await client.get(f"{sandboxes.kalshi.api_url}/exchange/status")
        polymarket = await client.get(f"{sandboxes.polymarket_urls.clob}/")
    assert kalshi.json() == {"exchange_active": True, "trading_active": True}
    assert polymarket.status_code == 200


async def test_twin_waits_while_a_reader_is_behind() -> None:
    from sandbox.kalshi.stream import Connection
    from sandbox.scenarios import MAX_QUEUED

    venue = KalshiVenue()
    scenario = TwinMarkets(venue, seed=2)
    scenario.setup()
    slow = Connection(websocket=None, account="slow")  # type: ignore[arg-type]
    slow.outbox.extend([b"{}"] * MAX_QUEUED)
    venue.stream.connections.add(slow)
    await scenario.run(rate=5_000, duration=0.1)
    assert scenario.steps == 0
    slow.outbox.clear()
    await scenario.run(rate=5_000, duration=0.1)
    assert scenario.steps > 0


async def test_sandbox_process_serves_and_can_be_killed() -> None:
    from sandbox.runner import sandbox_process

    async with sandbox_process("--scenario", "twin", "--rate", "500") as sandbox:
        async with httpx.AsyncClient() as client:
            markets = (await client.get(f"{sandbox.kalshi_url}/trade-api/v2/markets")).json()["markets"]
            listing = (await client.get(f"{sandbox.polymarket_url}/markets")).json()["data"]
        assert len(markets) == len(listing) == 2
        sandbox.process.kill()
        await sandbox.process.wait()
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(f"{sandbox.kalshi_url}/trade-api/v2/markets")
            for _ in range(50):  # the orphaned Polymarket child notices within half a second
                try:
                    await client.get(f"{sandbox.polymarket_url}/")
                except httpx.ConnectError:
                    break
                except httpx.RemoteProtocolError:
                    pass  # it dropped the request while exiting; the next try finds it gone
                await asyncio.sleep(0.1)
            else:
                pytest.fail("the Polymarket child outlived its killed parent")
