"""The fast book hash of `price_change` entries is the hash of the book summary the venue serves."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from sandbox.polymarket.wire import book_hash, levels_hash, num

prices = st.integers(min_value=1, max_value=999).map(lambda n: Decimal(n) / 1000)
sizes = st.integers(min_value=1, max_value=10**9).map(lambda n: Decimal(n) / 100)
levels = st.lists(st.tuples(prices, sizes), max_size=12, unique_by=lambda level: level[0])
texts = st.text(max_size=20)


@given(
    bids=levels,
    asks=levels,
    market=texts,
    asset=texts,
    stamp=st.integers(min_value=0).map(str),
    neg_risk=st.booleans(),
    last=st.one_of(st.just(""), prices.map(num)),
)
def test_levels_hash_equals_the_summary_hash(bids, asks, market, asset, stamp, neg_risk, last) -> None:
    facts = {
        "market": market,
        "asset_id": asset,
        "timestamp": stamp,
        "hash": "",
        "min_order_size": "5",
        "tick_size": "0.001",
        "neg_risk": neg_risk,
        "last_trade_price": last,
    }
    summary = {
        **facts,
        "bids": [{"price": num(p), "size": num(s)} for p, s in reversed(bids)],
        "asks": [{"price": num(p), "size": num(s)} for p, s in reversed(asks)],
    }
    assert levels_hash(facts, bids, asks) == book_hash(summary)


def test_levels_hash_depends_on_every_level_and_its_order() -> None:
    facts = {
        "market": "0xabc",
        "asset_id": "1",
        "timestamp": "1",
        "min_order_size": "5",
        "tick_size": "0.01",
        "neg_risk": False,
        "last_trade_price": "",
    }
    bids = [(Decimal("0.47"), Decimal(10)), (Decimal("0.46"), Decimal(20))]
    base = levels_hash(facts, bids, [])
    assert levels_hash(facts, bids[::-1], []) != base
    assert levels_hash(facts, [], bids) != base
    assert levels_hash(facts, [(Decimal("0.47"), Decimal(11)), bids[1]], []) != base
