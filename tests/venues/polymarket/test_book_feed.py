from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from venues.polymarket import parse
from venues.polymarket.book_feed import PolymarketBookFeed
from venues.polymarket.messages import BookEvent, PriceChange, PriceChangeEvent

D = Decimal
ONE = D(1)
BURST = "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json"
NO_TOKEN = "54179564009642723353355316176091991063553046330768303687769988635499280029688"


def burst(shared_data: Path) -> list[dict[str, object]]:
    return orjson.loads((shared_data / BURST).read_bytes())


def expected_yes_levels(book: BookEvent) -> tuple[list[tuple[D, D]], list[tuple[D, D]]]:
    return sorted(book.bids, key=lambda lvl: -lvl[0]), sorted(book.asks)


def test_crossing_burst_rebuilds_final_book_exactly(shared_data: Path) -> None:
    messages = burst(shared_data)
    first, final = messages[0], messages[-1]
    feed = PolymarketBookFeed()
    feed.add_tokens(str(first["market"]), str(first["asset_id"]), NO_TOKEN)
    for message in messages[:-1]:
        feed.on_frame(orjson.dumps(message))
    snap = feed.book(str(first["market"])).snapshot()
    final_event = parse.market_event(final)
    assert isinstance(final_event, BookEvent)
    bids, asks = expected_yes_levels(final_event)
    assert list(snap.yes_bids) == bids
    assert list(snap.yes_asks) == asks
    assert snap.in_sync and snap.hash == final_event.hash
    assert feed.counters.messages == 50 and feed.counters.bbo_mismatches == 0


def test_burst_through_no_token_only_gives_the_same_book(shared_data: Path) -> None:
    """Dropping the YES entries and feeding only the mirrored NO entries must land on the same levels."""
    messages = burst(shared_data)
    first = messages[0]
    yes = str(first["asset_id"])
    feed = PolymarketBookFeed()
    feed.add_tokens(str(first["market"]), yes, NO_TOKEN)
    feed.on_frame(orjson.dumps(first))
    for message in messages[1:-1]:
        only_no = dict(message, price_changes=[c for c in message["price_changes"] if c["asset_id"] != yes])  # type: ignore[attr-defined]
        feed.on_frame(orjson.dumps(only_no))
    final_event = parse.market_event(messages[-1])
    assert isinstance(final_event, BookEvent)
    snap = feed.book(str(first["market"])).snapshot()
    assert (list(snap.yes_bids), list(snap.yes_asks)) == expected_yes_levels(final_event)


def test_no_token_snapshot_is_complemented() -> None:
    feed = PolymarketBookFeed()
    feed.add_tokens("m", "yes", "no")
    feed.apply(BookEvent("m", "no", [(D("0.40"), D("7"))], [(D("0.45"), D("3")), (D("0.5"), D("1"))], 1, "h"))
    snap = feed.book("m").snapshot()
    assert snap.yes_bids == ((D("0.55"), D("3")), (D("0.50"), D("1")))
    assert snap.yes_asks == ((D("0.60"), D("7")),)
    assert snap.in_sync


def test_bbo_mismatch_marks_out_of_sync_and_asks_for_resync() -> None:
    desynced: list[str] = []
    feed = PolymarketBookFeed(on_desync=desynced.append)
    feed.add_tokens("m", "yes", "no")
    feed.apply(BookEvent("m", "yes", [(D("0.40"), D("7"))], [(D("0.60"), D("3"))], 1, "h"))
    # Venue says best bid is 0.45 after this change, but we never saw a 0.45 bid: a gap.
    feed.apply(PriceChangeEvent("m", [PriceChange("yes", D("0.41"), D("1"), True, "h2", D("0.45"), D("0.60"))], 2))
    assert desynced == ["m"]
    assert not feed.book("m").snapshot().in_sync
    # Deltas are ignored until a snapshot arrives; the snapshot brings the book back.
    feed.apply(PriceChangeEvent("m", [PriceChange("yes", D("0.30"), D("1"), True, "h3", None, None)], 3))
    assert D("0.30") not in dict(feed.book("m").snapshot().yes_bids)
    feed.apply(BookEvent("m", "yes", [(D("0.45"), D("2"))], [(D("0.60"), D("3"))], 4, "h4"))
    assert feed.book("m").snapshot().in_sync


def test_bad_frames_are_counted_and_leave_the_book_untouched(shared_data: Path) -> None:
    first = burst(shared_data)[0]
    feed = PolymarketBookFeed()
    feed.add_tokens(str(first["market"]), str(first["asset_id"]), NO_TOKEN)
    feed.on_frame(orjson.dumps(first))
    before = feed.book(str(first["market"])).snapshot()
    good = {
        "event_type": "price_change",
        "market": first["market"],
        "timestamp": "2",
        "price_changes": [{"asset_id": first["asset_id"], "price": "0.2", "size": "5", "side": "BUY"}],
    }
    bad = {
        "event_type": "price_change",
        "market": first["market"],
        "timestamp": "3",
        "price_changes": [{"asset_id": first["asset_id"], "price": "oops", "size": "5", "side": "BUY"}],
    }
    feed.on_frame(orjson.dumps([good, bad]))  # one bad event rejects the whole frame
    feed.on_frame(b"garbage")
    feed.on_frame(b'{"event_type": "mystery"}')
    assert feed.counters.parse_errors == 3
    assert feed.book(str(first["market"])).snapshot() is before


def test_unknown_assets_are_counted_not_applied() -> None:
    feed = PolymarketBookFeed()
    feed.add_tokens("m", "yes", "no")
    feed.apply(BookEvent("other", "someone-else", [], [], 1, None))
    assert feed.counters.unknown_assets == 1
    assert not feed.book("m").snapshot().in_sync


def test_tick_size_and_resolution_are_tracked() -> None:
    feed = PolymarketBookFeed()
    feed.add_tokens("m", "yes", "no")
    heard: list[bool] = []
    feed.on_book = lambda book: heard.append(book.in_sync)
    feed.apply(BookEvent("m", "yes", [], [], 1, None))
    feed.on_frame(
        b'{"event_type":"tick_size_change","market":"m","asset_id":"no","old_tick_size":"0.01",'
        b'"new_tick_size":"0.001","timestamp":"2"}'
    )
    assert feed.tick_sizes["m"] == D("0.001")
    feed.on_frame(
        b'{"event_type":"market_resolved","market":"m","assets_ids":["yes","no"],'
        b'"winning_asset_id":"yes","winning_outcome":"Yes","timestamp":"3"}'
    )
    assert feed.resolved == {"m": "yes"}
    assert not feed.book("m").snapshot().in_sync
    assert heard[-1] is False  # the listener hears that a resolved market's book is no longer tradable


prices = st.integers(min_value=1, max_value=99).map(lambda c: D(c) / 100)
sizes = st.integers(min_value=0, max_value=10_000).map(lambda c: D(c) / 100)


@settings(deadline=None)
@given(st.lists(st.tuples(prices, sizes, st.booleans()), max_size=60))
def test_yes_entries_and_mirrored_no_entries_build_the_same_book(changes: list[tuple[D, D, bool]]) -> None:
    via_yes, via_no, via_both = PolymarketBookFeed(), PolymarketBookFeed(), PolymarketBookFeed()
    for feed in (via_yes, via_no, via_both):
        feed.add_tokens("m", "yes", "no")
        feed.apply(BookEvent("m", "yes", [], [], 0, None))
    for n, (price, size, is_bid) in enumerate(changes, start=1):
        yes = PriceChange("yes", price, size, is_bid, None, None, None)
        no = PriceChange("no", ONE - price, size, not is_bid, None, None, None)
        via_yes.apply(PriceChangeEvent("m", [yes], n))
        via_no.apply(PriceChangeEvent("m", [no], n))
        via_both.apply(PriceChangeEvent("m", [yes, no], n))
    a, b, c = (f.book("m").snapshot() for f in (via_yes, via_no, via_both))
    assert (a.yes_bids, a.yes_asks) == (b.yes_bids, b.yes_asks) == (c.yes_bids, c.yes_asks)


def test_a_bad_snapshot_changes_nothing() -> None:
    feed = PolymarketBookFeed()
    feed.add_tokens("m", "yes", "no")
    feed.apply(BookEvent("m", "yes", [(D("0.4"), D("1"))], [(D("0.6"), D("2"))], 1, "h"))
    before = feed.book("m").snapshot()
    feed.apply(BookEvent("m", "yes", [(D("0.3"), D("5"))], [(D("0.7"), D("-1"))], 2, "h2"))
    after = feed.book("m").snapshot()
    assert (after.yes_bids, after.yes_asks) == (before.yes_bids, before.yes_asks)
    assert feed.counters.integrity_errors == 1 and not after.in_sync


def test_rest_snapshot_older_than_the_stream_is_ignored() -> None:
    feed = PolymarketBookFeed()
    feed.add_tokens("m", "yes", "no")
    feed.apply(BookEvent("m", "yes", [(D("0.4"), D("1"))], [(D("0.6"), D("2"))], 1_000, "h"))
    feed.apply(PriceChangeEvent("m", [PriceChange("yes", D("0.45"), D("3"), True, "h2", D("0.45"), D("0.6"))], 2_000))
    stale = BookEvent("m", "yes", [(D("0.4"), D("1"))], [(D("0.6"), D("2"))], 1_500, "h-rest")
    feed.apply_rest_snapshot(stale)
    assert feed.book("m").best_yes_bid() == D("0.45") and feed.counters.stale_snapshots == 1
    feed.book("m").mark_out_of_sync()
    feed.apply_rest_snapshot(stale)  # out of sync: any snapshot is better than none
    assert feed.book("m").best_yes_bid() == D("0.4") and feed.book("m").in_sync
    fresh = BookEvent("m", "yes", [(D("0.5"), D("1"))], [(D("0.6"), D("2"))], 3_000, "h3")
    feed.apply_rest_snapshot(fresh)
    assert feed.book("m").best_yes_bid() == D("0.5")


def test_listener_hears_each_changed_book_once_per_frame() -> None:
    from domain.models import Market, Venue

    feed = PolymarketBookFeed()
    feed.add_market(Market(venue=Venue.POLYMARKET, market_id="0xc", title="t", yes_token="Y", no_token="N"))
    heard: list[tuple[str, bool, int]] = []
    feed.on_book = lambda book: heard.append((book.market_id, book.in_sync, len(book.snapshot().yes_bids)))
    book = (
        b'{"event_type":"book","asset_id":"Y","market":"0xc","timestamp":"1","hash":"h",'
        b'"bids":[{"price":"0.4","size":"5"}],"asks":[]}'
    )
    change = (
        b'[{"event_type":"price_change","market":"0xc","timestamp":"2","price_changes":['
        b'{"asset_id":"Y","price":"0.41","size":"3","side":"BUY","hash":"h2"},'
        b'{"asset_id":"N","price":"0.59","size":"3","side":"SELL"}]}]'
    )
    feed.on_frame(book)
    feed.on_frame(change)
    feed.on_frame(b"not json")
    assert heard == [("0xc", True, 1), ("0xc", True, 2)]
    feed.mark_all_out_of_sync()
    assert heard[-1] == ("0xc", False, 2)
