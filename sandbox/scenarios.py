"""Named sandbox scenarios: twin markets with live market makers, and books seeded from recordings.

`twin` lists the same question on both venues ("Will X happen by DATE": a Kalshi
ticker and a Polymarket condition id with YES/NO token ids). A shared fair price
follows a random walk; each venue quotes around it plus its own mean-reverting
noise, so one venue's YES ask sometimes drops under the other's YES bid — an
arbitrage window that opens and closes by itself. The quotes are real orders of
market-maker accounts going through each venue's matching engine (post-only
buys of YES for bids and of NO for asks, so they need cash only and never cross),
so books, REST snapshots, WebSocket deltas and fills are all consistent.

Every step cancels one ladder slot and re-places it (two book updates); `run`
paces steps to a target rate of book updates per second. The sequence of actions
depends on the seed only, so two runs with one seed build the same books.

`recorded` seeds a Kalshi market from the recorded KXBTC15M stream (meta + snapshot)
and a Polymarket market from a recorded `book` message, both under
`shared_data` (../shared/data by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import orjson

from domain.models import Outcome, Side, TimeInForce
from domain.money import CENT
from sandbox.engine import Event, LevelChanged, OrderNotOpenError, OrderRequest, UnknownOrderError
from sandbox.handles import Sandboxes, Scenario
from sandbox.kalshi.admin import seed_book as seed_kalshi_book
from sandbox.kalshi.venue import KalshiError, KalshiVenue, OrderInput
from sandbox.polymarket.seed import book_levels
from sandbox.polymarket.state import PolymarketState, SandboxMarket

log = logging.getLogger(__name__)

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
MM_FUNDING_CENTS = 10_000_000_000
MAX_BACKLOG_S = 0.25
MAX_QUEUED = 2_000


class BookDriver(Protocol):
    """What a market maker needs from a venue: move one quote (cancel it, rest its replacement)."""

    updates: int

    def fund(self, owner: str) -> None: ...

    def requote(self, owner: str, old: str | None, is_bid: bool, yes_cents: int | None, size: int) -> str | None:
        """Cancel `old` (if any) and rest a post-only bid/offer at `yes_cents` (if any); the new order id."""
        ...


class KalshiDriver:
    """Quotes on one Kalshi sandbox market through the venue layer (records, fan-out, faults-free)."""

    def __init__(self, venue: KalshiVenue, ticker: str) -> None:
        self.venue = venue
        self.ticker = ticker
        self.updates = 0
        self.client_ids = (f"{ticker}-mm-{n}" for n in itertools.count(1))
        self._requoting = False
        venue.on_events(self._count)

    def _count(self, market: Any, events: tuple[Event, ...]) -> None:
        """Count the updates of this driver's own requotes (not those of other traders' orders)."""
        if self._requoting and market.ticker == self.ticker:
            self.updates += sum(1 for e in events if isinstance(e, LevelChanged))

    def fund(self, owner: str) -> None:
        self.venue.fund(owner, MM_FUNDING_CENTS)

    def requote(self, owner: str, old: str | None, is_bid: bool, yes_cents: int | None, size: int) -> str | None:
        self._requoting = True
        try:
            return self._requote(owner, old, is_bid, yes_cents, size)
        finally:
            self._requoting = False

    def _requote(self, owner: str, old: str | None, is_bid: bool, yes_cents: int | None, size: int) -> str | None:
        if old is not None:
            with contextlib.suppress(KalshiError):
                self.venue.cancel(owner, old)
            self.venue.forget(old)
        if yes_cents is None:
            return None
        side = "yes" if is_bid else "no"
        order = OrderInput(
            self.ticker, side, "buy", size, "limit", yes_cents, next(self.client_ids), TimeInForce.GTC, None, True
        )
        try:
            return self.venue.place(owner, order).order_id
        except KalshiError:
            return None


class PolymarketDriver:
    """Quotes on one Polymarket sandbox market through its engine; the venue state publishes each move
    as one `price_change` (cancel and replacement together, as the venue batches a book update)."""

    def __init__(self, state: PolymarketState, condition_id: str) -> None:
        self.state = state
        self.market: SandboxMarket = state.markets[condition_id]
        self.updates = 0

    def fund(self, owner: str) -> None:
        self.state.ledger.deposit(owner, Decimal(MM_FUNDING_CENTS) * CENT)

    def requote(self, owner: str, old: str | None, is_bid: bool, yes_cents: int | None, size: int) -> str | None:
        engine = self.market.engine
        events: tuple[Event, ...] = ()
        if old is not None:
            with contextlib.suppress(OrderNotOpenError, UnknownOrderError):
                events = engine.cancel(old, owner).events
            engine.forget(old)
        placed = None
        if yes_cents is not None:
            outcome, cents = (Outcome.YES, yes_cents) if is_bid else (Outcome.NO, 100 - yes_cents)
            request = OrderRequest(owner, outcome, Side.BUY, Decimal(cents) * CENT, Decimal(size), post_only=True)
            execution = engine.submit(request)
            events += execution.events
            placed = None if execution.order.reject_reason is not None else execution.order.order_id
        if events:
            self.updates += sum(1 for e in events if isinstance(e, LevelChanged))
            self.state.publish(self.market, events)
        return placed


class RemoteDriver:
    """Stands in for a venue another process serves: the same decisions are taken, no order is sent.

    With one seed, each process of a split sandbox makes every random draw of the
    whole scenario and acts only on its own venue, so both books follow one walk.
    """

    updates = 0

    def fund(self, owner: str) -> None:
        return None

    def requote(self, owner: str, old: str | None, is_bid: bool, yes_cents: int | None, size: int) -> str | None:
        return None if yes_cents is None else "remote"


@dataclass(frozen=True)
class TwinSpec:
    """One question listed on both venues."""

    key: str
    question: str
    kalshi_ticker: str
    kalshi_event: str
    condition_id: str
    yes_token: str
    no_token: str
    start_bps: int


def twin_specs(seed: int, pairs: int) -> list[TwinSpec]:
    rng = random.Random(seed)
    specs = []
    for i in range(pairs):
        key = f"X{i + 1}"
        event = f"KXSBX{i + 1}-26DEC31"
        specs.append(
            TwinSpec(
                key=key,
                question=f"Will sandbox event {key} happen by December 31, 2026?",
                kalshi_ticker=f"{event}-YES",
                kalshi_event=event,
                condition_id="0x" + rng.getrandbits(256).to_bytes(32, "big").hex(),
                yes_token=str(rng.getrandbits(252)),
                no_token=str(rng.getrandbits(252)),
                start_bps=rng.randint(2_500, 7_500),
            )
        )
    return specs


@dataclass
class Ladder:
    """One market maker's quotes on one venue-market: the resting order id of each slot (level k)."""

    driver: BookDriver
    owner: str
    noise_bps: int = 0
    bids: list[str | None] = field(default_factory=list)
    asks: list[str | None] = field(default_factory=list)


@dataclass
class TwinPair:
    spec: TwinSpec
    fair_bps: int
    ladders: list[Ladder]


class TwinMarkets:
    """The correlated twin-market scenario; `setup()` lists and quotes, `step()` moves one quote."""

    def __init__(
        self,
        kalshi: KalshiVenue | None,
        polymarket: PolymarketState | None = None,
        *,
        seed: int = 0,
        pairs: int = 2,
        levels: int = 5,
        spread_cents: int = 2,
        noise_bps: int = 400,
    ) -> None:
        self.kalshi = kalshi
        self.polymarket = polymarket
        self.rng = random.Random(seed)
        self.levels = levels
        self.spread = spread_cents
        self.noise_cap = noise_bps
        self.specs = twin_specs(seed, pairs)
        self.pairs: list[TwinPair] = []
        self.steps = 0
        self.local_requotes = 0

    @property
    def updates(self) -> int:
        return sum(ladder.driver.updates for pair in self.pairs for ladder in pair.ladders)

    def setup(self) -> None:
        """List the markets on the venues given and quote them; a venue given as None is remote."""
        for spec in self.specs:
            kalshi: BookDriver = RemoteDriver()
            polymarket: BookDriver = RemoteDriver()
            if self.kalshi is not None:
                self.kalshi.add_market(spec.kalshi_ticker, spec.kalshi_event, spec.question)
                kalshi = KalshiDriver(self.kalshi, spec.kalshi_ticker)
            if self.polymarket is not None:
                self.polymarket.add_market(
                    question=spec.question,
                    condition_id=spec.condition_id,
                    yes_token=spec.yes_token,
                    no_token=spec.no_token,
                )
                polymarket = PolymarketDriver(self.polymarket, spec.condition_id)
            ladders = [Ladder(kalshi, "kalshi-mm"), Ladder(polymarket, "polymarket-mm")]
            pair = TwinPair(spec, spec.start_bps, ladders)
            for ladder in ladders:
                ladder.driver.fund(ladder.owner)
                ladder.bids = [None] * self.levels
                ladder.asks = [None] * self.levels
                for k in range(self.levels):
                    self._requote(pair, ladder, is_bid=True, k=k)
                    self._requote(pair, ladder, is_bid=False, k=k)
            self.pairs.append(pair)

    def quotes(self, pair: TwinPair, ladder: Ladder) -> tuple[int, int]:
        """(best bid, best ask) in YES cents this ladder aims for now."""
        mid = pair.fair_bps + ladder.noise_bps
        bid = max(1, min(98, (mid - self.spread * 50) // 100))
        return bid, min(99, bid + self.spread)

    def _requote(self, pair: TwinPair, ladder: Ladder, *, is_bid: bool, k: int) -> None:
        slots = ladder.bids if is_bid else ladder.asks
        best_bid, best_ask = self.quotes(pair, ladder)
        price = best_bid - k if is_bid else best_ask + k
        target, size = None, 0
        if 1 <= price <= 99:
            target, size = price, self._between(5, 100)
        slots[k] = ladder.driver.requote(ladder.owner, slots[k], is_bid, target, size)
        if not isinstance(ladder.driver, RemoteDriver):
            self.local_requotes += 1

    def step(self) -> None:
        """Advance the walk a little and re-place one slot of one ladder."""
        self.steps += 1
        pair = self.pairs[self._below(len(self.pairs))]
        pair.fair_bps = max(500, min(9_500, pair.fair_bps + self._between(-8, 8)))
        ladder = pair.ladders[self._below(len(pair.ladders))]
        ladder.noise_bps += self._between(-50, 50) - ladder.noise_bps // 30
        ladder.noise_bps = max(-self.noise_cap, min(self.noise_cap, ladder.noise_bps))
        self._requote(pair, ladder, is_bid=self.rng.random() < 0.5, k=self._below(self.levels))

    def _below(self, n: int) -> int:
        """A uniform draw from range(n); `random()` scaled, several times cheaper than `randrange`
        (every process of a split sandbox makes every draw of the scenario, its own venue's or not)."""
        return int(self.rng.random() * n)

    def _between(self, low: int, high: int) -> int:
        """A uniform draw from low..high inclusive."""
        return low + self._below(high - low + 1)

    def updates_per_step(self) -> float:
        """Book updates a step makes, as measured on the local venues (a requote whose new quote
        would cross, or falls off the price range, makes one update, not two); 2 until measured."""
        if self.local_requotes < 100:
            return 2.0
        return self.updates / self.local_requotes

    def backlog(self) -> int:
        """Stream messages queued for the slowest local reader of either venue."""
        queued = self.kalshi.stream.backlog() if self.kalshi is not None else 0
        if self.polymarket is not None:
            queued = max([queued, *(sub.outbox.qsize() for sub in self.polymarket.subscribers)])
        return queued

    async def run(self, rate: float, duration: float | None = None, tick: float = 0.005) -> None:
        """Step so book updates arrive at about `rate` per second (each step makes about two:
        `updates_per_step` says how many).

        Steps run in chunks of one tick's worth with a yield in between, so sockets
        and HTTP clients are served while the books move. When the process cannot
        keep up, work owed is capped at `MAX_BACKLOG_S` of steps (long enough that a
        process descheduled for a moment on a busy machine catches up, short enough
        that a process too slow for the rate does not pile up work) and no step is taken
        while a reader has more than `MAX_QUEUED` messages waiting: the rate delivered
        is then what the process sustains, instead of a backlog that starves the
        writers and ends in slow-reader disconnects.
        """
        loop = asyncio.get_running_loop()
        started = last = loop.time()
        owed = 0.0
        while duration is None or last - started < duration:
            await asyncio.sleep(tick)
            steps_per_s = rate / self.updates_per_step()
            chunk = max(1, int(steps_per_s * tick))
            cap = max(2.0, steps_per_s * MAX_BACKLOG_S)
            now = loop.time()
            owed = min(owed + (now - last) * steps_per_s, cap)
            last = now
            while owed >= 1 and self.backlog() < MAX_QUEUED:
                for _ in range(min(chunk, int(owed))):
                    self.step()
                owed -= min(chunk, int(owed))
                if owed >= 1:
                    await asyncio.sleep(0)


def load_json_lines(path: Path, on_bad: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """A JSON array, a single JSON object or JSON lines, as a list of objects.

    A line that is not JSON, or an entry that is not an object, is skipped and logged;
    `on_bad` hears of each (a replay counts them).
    """
    text = path.read_bytes()

    def bad(why: str) -> None:
        log.warning("%s: %s, skipped", path, why)
        if on_bad is not None:
            on_bad(why)

    try:
        whole = orjson.loads(text)
    except orjson.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        whole = [whole]
    if isinstance(whole, list):
        out = [d for d in whole if isinstance(d, dict)]
        for _ in range(len(whole) - len(out)):
            bad("an entry is not an object")
        return out
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            bad(f"line {number} is not JSON")
            continue
        if isinstance(item, dict):
            out.append(item)
        else:
            bad(f"line {number} is not an object")
    return out


def seed_kalshi_from_recording(venue: KalshiVenue, path: Path) -> tuple[str, int]:
    """List the recorded market and seed its book from the first snapshot; (ticker, levels skipped).

    The sandbox trades whole cents and whole contracts: sub-cent levels (the venue's
    deci-cent tails) are skipped, fractional sizes rounded down.
    """
    items = load_json_lines(path)
    meta = next((i for i in items if i.get("type") == "meta"), {})
    snapshot = next(i for i in items if i.get("type") in ("snapshot", "orderbook_snapshot"))
    body = snapshot.get("msg", snapshot)
    ticker = body.get("ticker") or body.get("market_ticker") or meta["ticker"]
    if ticker not in venue.markets:
        venue.add_market(ticker, title=meta.get("title", ticker), subtitle=meta.get("yes_sub_title", ""))
    levels: dict[str, list[tuple[int, int]]] = {"yes": [], "no": []}
    skipped = 0
    for side in ("yes", "no"):
        for price, size in body.get(side) or body.get(f"{side}_dollars_fp") or []:
            cents = Decimal(str(price)) * (100 if isinstance(price, str) else 1)
            count = int(Decimal(str(size)))
            if cents != cents.to_integral_value() or count < 1 or not 1 <= cents <= 99:
                skipped += 1
                continue
            levels[side].append((int(cents), count))
    yes_top = max((p for p, _ in levels["yes"]), default=0)
    no_levels = [(p, q) for p, q in levels["no"] if p + yes_top < 100]
    skipped += len(levels["no"]) - len(no_levels)
    seed_kalshi_book(venue, ticker, levels["yes"], no_levels, replace=True)
    return ticker, skipped


def seed_polymarket_from_recording(state: PolymarketState, path: Path) -> str:
    """List the market of a recorded `book` message (its asset as YES) and seed the book from it."""
    book = next(i for i in load_json_lines(path) if i.get("event_type", "book") == "book" and "bids" in i)
    token, bids, asks = book_levels(book)
    if token not in state.tokens:
        state.add_market(
            question=f"Recorded market {book['market'][:10]}",
            condition_id=book["market"],
            yes_token=token,
            no_token=f"{token}0",
            tick_size=Decimal(str(book.get("tick_size") or "0.01")),
        )
    market = state.tokens[token]
    state.seed_book(market, bids, asks, token_id=token)
    return str(market.condition_id)


@dataclass
class RecordedBooks:
    """Static books seeded from recordings (Kalshi KXBTC15M stream, a Polymarket `book` message)."""

    kalshi_ticker: str | None
    polymarket_condition: str | None

    async def run(self, rate: float, duration: float | None = None) -> None:
        return None


def start_twin(handles: Sandboxes, *, seed: int = 0) -> Scenario:
    twin = TwinMarkets(handles.kalshi.venue if handles.kalshi else None, handles.polymarket, seed=seed)
    twin.setup()
    return twin


def start_recorded(handles: Sandboxes, *, seed: int = 0) -> Scenario:
    data = handles.data_dir or DEFAULT_DATA
    ticker = condition = None
    if handles.kalshi is not None:
        ticker, skipped = seed_kalshi_from_recording(
            handles.kalshi.venue, data / "mdowis_kalshi-orderbook-streamer" / "KXBTC15M-26APR191215-15.jsonl"
        )
        log.info("kalshi %s seeded from recording (%d levels skipped)", ticker, skipped)
    if handles.polymarket is not None:
        condition = seed_polymarket_from_recording(
            handles.polymarket, data / "nautilus_trader" / "test_data" / "ws_book_snapshot_captured.json"
        )
        log.info("polymarket %s seeded from recording", condition)
    return RecordedBooks(ticker, condition)


SCENARIOS: dict[str, Callable[..., Scenario]] = {"twin": start_twin, "recorded": start_recorded}
DEFAULT_RATE = 200.0


def start(name: str, handles: Sandboxes, *, seed: int = 0) -> Scenario:
    """List and seed the named scenario's markets now; the caller runs `scenario.run(rate)` as a task."""
    factory = SCENARIOS.get(name)
    if factory is None:
        raise KeyError(f"unknown scenario {name!r}; known: {', '.join(sorted(SCENARIOS))}")
    return factory(handles, seed=seed)
