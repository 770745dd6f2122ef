"""The lean parse path: real recorded streams rebuild the right books; bad frames change nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from arbitrage.detector import Detector, DetectorConfig
from arbitrage.fastfeed import FastFeed
from arbitrage.intbook import IntBook
from arbitrage.opportunity import Direction
from domain.book import BookIntegrityError, OrderBook
from domain.models import Outcome, Venue
from domain.units import price_units, size_units_floor
from tests.arbitrage import brute
from tests.arbitrage.factories import T0_NS, confirmed_pair, kalshi_market, poly_market

BURST = "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"
YES_TOKEN = "76670567130917723816490572615540605537878462672464291990940067659127658071111"
NO_TOKEN = "54179564009642723353355316176091991063553046330768303687769988635499280029688"
KALSHI_STREAM = "mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"


def feed_for(poly_id: str = "0xcond", yes: str = "0xcond-yes", no: str = "0xcond-no", ticker: str = "KX-TEST"):
    poly = poly_market(market_id=poly_id).model_copy(update={"yes_token": yes, "no_token": no})
    pair = confirmed_pair(poly=poly, kalshi=kalshi_market(ticker=ticker))
    detector = Detector([pair], DetectorConfig(), clock_ns=lambda: T0_NS)
    return detector, FastFeed(detector)


def units(levels: list[dict[str, str]]) -> dict[int, int]:
    return {price_units(Decimal(lv["price"])): size_units_floor(Decimal(lv["size"])) for lv in levels}


def test_real_polymarket_burst_replays_to_the_final_book(shared_data: Path) -> None:
    frames = json.loads((shared_data / BURST).read_text())
    detector, feed = feed_for(frames[0]["market"], YES_TOKEN, NO_TOKEN)
    for frame in frames[:-1]:
        feed.polymarket(orjson.dumps(frame), T0_NS)
    final = frames[-1]
    book = detector.book(Venue.POLYMARKET, final["market"])
    assert feed.malformed == 0
    assert book.bids == units(final["bids"])
    assert book.asks == units(final["asks"])
    assert book.best_bid == max(book.bids) and book.best_ask == min(book.asks)


def test_real_kalshi_stream_replays_to_the_recorded_top_of_book(shared_data: Path) -> None:
    lines = [json.loads(line) for line in (shared_data / KALSHI_STREAM).read_text().splitlines()]
    ticker = "KXBTC15M-26APR191215-15"
    detector, feed = feed_for(ticker=ticker)
    for line in lines:
        # the recorder flattened the wire envelope; put it back (its seq gaps are real: shared sid)
        if line["type"] == "snapshot":
            body = {"market_ticker": ticker, "yes_dollars_fp": line["yes"], "no_dollars_fp": line["no"]}
            feed.kalshi(orjson.dumps({"type": "orderbook_snapshot", "msg": body}), T0_NS)
        elif line["type"] == "delta":
            body = {k: line[k] for k in ("price_dollars", "delta_fp", "side")} | {"market_ticker": ticker}
            feed.kalshi(orjson.dumps({"type": "orderbook_delta", "msg": body}), T0_NS)
    book = detector.book(Venue.KALSHI, ticker)
    assert feed.malformed == 0 and book.in_sync
    # the stream ends with YES 0.37 bid / 0.38 ask (matching its last trades at 0.38)
    assert (book.best_bid, book.best_ask) == (3700, 3800)


def _change(asset: str, price: str, size: str, side: str) -> bytes:
    entry = {"asset_id": asset, "price": price, "size": size, "side": side}
    return orjson.dumps({"event_type": "price_change", "market": "0xcond", "price_changes": [entry]})


def test_mirrored_no_entry_lands_on_the_same_yes_level() -> None:
    detector, feed = feed_for()
    feed.polymarket(_change("0xcond-no", "0.6", "12.5", "SELL"), T0_NS)  # NO ask 0.60 = YES bid 0.40
    feed.polymarket(_change("0xcond-no", "0.55", "3", "BUY"), T0_NS)  # NO bid 0.55 = YES ask 0.45
    book = detector.book(Venue.POLYMARKET, "0xcond")
    assert book.bids == {4000: 1250} and book.asks == {4500: 300}


def test_malformed_frames_are_counted_and_change_nothing() -> None:
    detector, feed = feed_for()
    feed.polymarket(_change("0xcond-yes", "0.40", "10", "BUY"), T0_NS)
    book = detector.book(Venue.POLYMARKET, "0xcond")
    before = dict(book.bids)
    bad = [
        b"not json",
        _change("0xcond-yes", "0.41", "1.234", "BUY"),  # finer than 0.01
        _change("0xcond-yes", "1.5", "10", "BUY"),  # price outside [0, 1]
        _change("0xcond-yes", "0.41", "10", "HOLD"),
        _change("0xcond-yes", "0.41", "1_0", "BUY"),
        orjson.dumps({"event_type": "price_change", "market": "0xcond"}),
    ]
    for frame in bad:
        assert feed.polymarket(frame, T0_NS) == []
    assert feed.malformed == len(bad)
    assert book.bids == before


def test_kalshi_negative_delta_or_sequence_gap_puts_the_book_out_of_sync() -> None:
    detector, feed = feed_for()
    snap = {"market_ticker": "KX-TEST", "yes_dollars_fp": [["0.40", "10.00"]], "no_dollars_fp": []}
    feed.kalshi(orjson.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": snap}), T0_NS)
    book = detector.book(Venue.KALSHI, "KX-TEST")
    assert book.in_sync and book.bids == {4000: 1000}

    def delta(seq: int, amount: str) -> bytes:
        body = {"market_ticker": "KX-TEST", "price_dollars": "0.4000", "delta_fp": amount, "side": "yes"}
        return orjson.dumps({"type": "orderbook_delta", "sid": 1, "seq": seq, "msg": body})

    feed.kalshi(delta(2, "-2.50"), T0_NS)
    assert book.bids == {4000: 750}
    feed.kalshi(delta(3, "-8.00"), T0_NS)
    assert feed.malformed == 1 and not book.in_sync and book.bids == {4000: 750}
    feed.kalshi(orjson.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 4, "msg": snap}), T0_NS)
    assert book.in_sync
    feed.kalshi(delta(6, "1.00"), T0_NS)  # seq 5 never came
    assert not book.in_sync


def test_a_gap_seen_on_a_snapshot_taints_the_other_books_of_the_subscription() -> None:
    poly_a, poly_b = poly_market(market_id="0xa"), poly_market(market_id="0xb")
    pairs = [
        confirmed_pair(poly=poly_a, kalshi=kalshi_market(ticker="KX-A"), pair_id="a"),
        confirmed_pair(poly=poly_b, kalshi=kalshi_market(ticker="KX-B"), pair_id="b"),
    ]
    detector = Detector(pairs, DetectorConfig(), clock_ns=lambda: T0_NS)
    feed = FastFeed(detector)

    def snap(ticker: str, seq: int) -> bytes:
        body = {"market_ticker": ticker, "yes_dollars_fp": [["0.40", "1.00"]], "no_dollars_fp": []}
        return orjson.dumps({"type": "orderbook_snapshot", "sid": 3, "seq": seq, "msg": body})

    feed.kalshi(snap("KX-A", 1), T0_NS)
    feed.kalshi(snap("KX-B", 2), T0_NS)
    feed.kalshi(snap("KX-A", 4), T0_NS)  # seq 3 (maybe a KX-B delta) was lost
    assert detector.book(Venue.KALSHI, "KX-A").in_sync
    assert not detector.book(Venue.KALSHI, "KX-B").in_sync


poly_ops = st.lists(
    st.tuples(
        st.booleans(),  # YES token (else NO)
        st.sampled_from(["BUY", "SELL"]),
        st.integers(min_value=1, max_value=99),  # price in cents
        st.sampled_from(["0", "5", "12.5", "100", "7.25"]),
    ),
    max_size=30,
)
kalshi_ops = st.lists(
    st.tuples(st.sampled_from(["yes", "no"]), st.integers(min_value=1, max_value=99), st.integers(-300, 300)),
    max_size=30,
)


@settings(max_examples=100, deadline=None)
@given(poly=poly_ops, kalshi=kalshi_ops)
def test_fast_path_books_equal_the_domain_books(poly, kalshi) -> None:
    """Raw frames through the lean path give the same books as the domain OrderBook."""
    detector, feed = feed_for()
    reference_p = OrderBook(Venue.POLYMARKET, "0xcond")
    reference_k = OrderBook(Venue.KALSHI, "KX-TEST")
    reference_k.replace([], [])
    feed.kalshi(orjson.dumps({"type": "orderbook_snapshot", "msg": {"market_ticker": "KX-TEST"}}), T0_NS)
    for yes, side, cents, size in poly:
        price = Decimal(cents) / 100
        feed.polymarket(_change("0xcond-yes" if yes else "0xcond-no", str(price), size, side), T0_NS)
        reference_p.set_level(Outcome.YES if yes else Outcome.NO, side == "BUY", price, Decimal(size))
    for side, cents, delta in kalshi:
        price = Decimal(cents) / 100
        body = {"market_ticker": "KX-TEST", "price_dollars": str(price), "delta_fp": f"{delta}.00", "side": side}
        feed.kalshi(orjson.dumps({"type": "orderbook_delta", "msg": body}), T0_NS)
        try:
            reference_k.apply_delta(Outcome.YES if side == "yes" else Outcome.NO, True, price, Decimal(delta))
        except BookIntegrityError:
            reference_k.mark_out_of_sync()
            break
    for venue, market_id, reference in (
        (Venue.POLYMARKET, "0xcond", reference_p),
        (Venue.KALSHI, "KX-TEST", reference_k),
    ):
        book = detector.book(venue, market_id)
        snap = reference.snapshot()
        expected = IntBook(venue, market_id)
        expected.load(snap, T0_NS)
        assert (book.bids, book.asks) == (expected.bids, expected.asks)
        assert (book.best_bid, book.best_ask) == (expected.best_bid, expected.best_ask)
        if venue is Venue.KALSHI:
            assert book.in_sync == snap.in_sync


def test_real_polymarket_burst_against_a_kalshi_book_finds_exact_opportunities(shared_data: Path) -> None:
    """Replay the recorded Polymarket burst against a Kalshi book priced to cross it; every
    opportunity the hot path reports is the brute-force optimum of the books at that moment."""
    frames = json.loads((shared_data / BURST).read_text())
    detector, feed = feed_for(frames[0]["market"], YES_TOKEN, NO_TOKEN)
    kalshi = {"market_ticker": "KX-TEST", "yes_dollars_fp": [["0.4500", "80.00"], ["0.4400", "300.00"]]}
    feed.kalshi(orjson.dumps({"type": "orderbook_snapshot", "msg": kalshi}), T0_NS)
    config = detector.config
    seen = 0
    for frame in frames:
        for opp in feed.polymarket(orjson.dumps(frame), T0_NS):
            seen += 1
            poly_book = detector.book(Venue.POLYMARKET, frame["market"])
            kalshi_book = detector.book(Venue.KALSHI, "KX-TEST")

            def dollars(levels: list[tuple[int, int]]) -> list[tuple[Decimal, Decimal]]:
                return [(Decimal(p) / 10_000, Decimal(s) / 100) for p, s in levels]

            expected = brute.best(
                dollars(poly_book.asks_of(True)),
                dollars(kalshi_book.asks_of(False)),
                Decimal(0),
                Decimal("0.07"),
                min_contracts=1,
                max_contracts=None,
                min_edge=config.min_edge,
                min_profit=config.min_profit,
            )
            assert opp.direction is Direction.POLYMARKET_YES
            assert (opp.contracts, opp.expected_profit) == expected
    assert seen >= 1


def test_the_earlier_one_asset_price_change_form_is_applied(shared_data: Path) -> None:
    frame = json.loads((shared_data / "nautilus_trader/ws_messages/price_change.json").read_text())
    detector, feed = feed_for(frame["market"], frame["asset_id"], "other-token")
    feed.polymarket(orjson.dumps(frame), T0_NS)
    listed = {**frame, "changes": [{"price": "0.5", "side": "BUY", "size": "10"}]}
    for key in ("price", "side", "size"):
        del listed[key]
    feed.polymarket(orjson.dumps(listed), T0_NS)
    book = detector.book(Venue.POLYMARKET, frame["market"])
    assert feed.malformed == 0
    assert (book.asks, book.bids) == ({5140: 2157408}, {5000: 1000})
