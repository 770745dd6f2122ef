from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from domain.models import Outcome
from venues.kalshi.books import KalshiBooks, Resync
from venues.kalshi.parse import OrderbookDelta, OrderbookSnapshot, parse_recorder_line

D = Decimal
MDOWIS = "mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"
TICKER = "KXBTC15M-26APR191215-15"


def test_recorded_btc_stream_replays_to_the_recorded_bbo(shared_data: Path) -> None:
    """The recorder's seq numbers are shared with unrecorded markets, so contiguity is not enforced here."""
    books = KalshiBooks(enforce_seq=False)
    for line in (shared_data / MDOWIS).read_text().splitlines():
        msg = parse_recorder_line(line)
        if isinstance(msg, OrderbookSnapshot):
            books.on_snapshot(msg)
        elif isinstance(msg, OrderbookDelta):
            assert books.on_delta(msg) is None
            snap = books.book(TICKER).snapshot()
            assert all(size > 0 for _, size in snap.yes_bids + snap.yes_asks)
    snap = books.book(TICKER).snapshot()
    assert snap.in_sync
    assert snap.best_bid() == D("0.37") and snap.best_ask() == D("0.38")
    assert snap.best_bid(Outcome.NO) == D("0.62") and snap.best_ask(Outcome.NO) == D("0.63")
    assert books.counters.deltas == 116 and books.counters.integrity_errors == 0


def test_recorded_stream_has_real_gaps_that_a_live_stream_would_act_on(shared_data: Path) -> None:
    books = KalshiBooks()
    resyncs = []
    for line in (shared_data / MDOWIS).read_text().splitlines():
        msg = parse_recorder_line(line)
        if isinstance(msg, OrderbookSnapshot):
            books.on_snapshot(msg)
        elif isinstance(msg, OrderbookDelta) and (r := books.on_delta(msg)) is not None:
            resyncs.append(r)
    assert resyncs and resyncs[0].tickers == (TICKER,)
    assert not books.book(TICKER).in_sync


def _snapshot(sid: int = 1, seq: int = 1, ticker: str = "T") -> OrderbookSnapshot:
    return OrderbookSnapshot(sid, seq, ticker, [(D("0.40"), D(10))], [(D("0.55"), D(5))])


def _delta(seq: int, side: Outcome, price: str, delta: int, ticker: str = "T", sid: int = 1) -> OrderbookDelta:
    return OrderbookDelta(sid, seq, ticker, side, D(price), D(delta))


def test_no_bid_becomes_yes_ask() -> None:
    books = KalshiBooks()
    books.on_snapshot(_snapshot())
    assert books.on_delta(_delta(2, Outcome.NO, "0.57", 3)) is None
    snap = books.book("T").snapshot()
    assert snap.yes_asks == ((D("0.43"), D(3)), (D("0.45"), D(5)))
    assert snap.yes_bids == ((D("0.40"), D(10)),)


def test_seq_gap_marks_every_book_of_the_subscription_out_of_sync() -> None:
    books = KalshiBooks()
    books.on_snapshot(_snapshot(seq=1, ticker="A"))
    books.on_snapshot(_snapshot(seq=2, ticker="B"))
    assert books.on_delta(_delta(3, Outcome.YES, "0.40", 1, ticker="A")) is None
    resync = books.on_delta(_delta(5, Outcome.YES, "0.40", 1, ticker="A"))
    assert resync == Resync(1, ("A", "B"), "seq gap: expected 4, got 5")
    assert not books.book("A").in_sync and not books.book("B").in_sync
    # Deltas on a blind book are dropped until the fresh snapshot arrives.
    assert books.on_delta(_delta(6, Outcome.YES, "0.40", 100, ticker="A")) is None
    assert books.book("A").snapshot().yes_bids == ((D("0.40"), D(11)),)
    books.forget_subscription(1)
    books.on_snapshot(_snapshot(sid=2, seq=1, ticker="A"))
    assert books.book("A").in_sync and books.book("A").snapshot().yes_bids == ((D("0.40"), D(10)),)
    assert books.on_delta(_delta(2, Outcome.YES, "0.40", 1, ticker="A", sid=2)) is None


def test_gap_just_before_a_snapshot_taints_the_other_books_of_the_subscription() -> None:
    books = KalshiBooks()
    books.on_snapshot(_snapshot(seq=1, ticker="A"))
    assert books.on_delta(_delta(2, Outcome.YES, "0.40", 1, ticker="A")) is None
    resync = books.on_snapshot(_snapshot(seq=4, ticker="B"))  # seq 3 (a delta for A?) never came
    assert resync is not None and resync.tickers == ("A",)
    assert not books.book("A").in_sync and books.book("B").in_sync
    assert books.on_snapshot(_snapshot(sid=2, seq=1, ticker="C")) is None


def test_delta_that_would_go_negative_marks_out_of_sync_without_changing_the_book() -> None:
    books = KalshiBooks()
    books.on_snapshot(_snapshot())
    before = books.book("T").snapshot()
    resync = books.on_delta(_delta(2, Outcome.NO, "0.55", -6))
    assert resync is not None and resync.tickers == ("T",)
    after = books.book("T").snapshot()
    assert not after.in_sync and after.yes_asks == before.yes_asks
    assert books.counters.integrity_errors == 1


def test_delta_before_any_snapshot_asks_for_one() -> None:
    books = KalshiBooks()
    resync = books.on_delta(_delta(1, Outcome.YES, "0.40", 1, ticker="Z"))
    assert resync is not None and resync.tickers == ("Z",) and not books.book("Z").in_sync


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 99), st.integers(-50, 50)), max_size=60))
def test_book_never_goes_negative_and_matches_a_reference(ops: list[tuple[bool, int, int]]) -> None:
    books = KalshiBooks()
    books.on_snapshot(OrderbookSnapshot(1, 1, "T", [], []))
    reference: dict[tuple[bool, int], int] = {}
    seq = 1
    for is_yes, cents, delta in ops:
        seq += 1
        side = Outcome.YES if is_yes else Outcome.NO
        resync = books.on_delta(OrderbookDelta(1, seq, "T", side, D(cents) / 100, D(delta)))
        new = reference.get((is_yes, cents), 0) + delta
        if new < 0:
            assert resync is not None and not books.book("T").in_sync
            return
        assert resync is None
        reference[(is_yes, cents)] = new
    snap = books.book("T").snapshot()
    expected_bids = {D(c) / 100: D(s) for (y, c), s in reference.items() if y and s}
    expected_asks = {1 - D(c) / 100: D(s) for (y, c), s in reference.items() if not y and s}
    assert dict(snap.yes_bids) == expected_bids and dict(snap.yes_asks) == expected_asks
