"""Leader fills: every recorded Data API row parses, non-trades are ignored with a reason, one identity per fill."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from copytrade.fills import FillSource, Ignored, LeaderFill
from copytrade.polymarket_rows import leader_fill
from domain.addresses import valid_wallet
from domain.models import Side, Venue
from tests.venues.polymarket.test_parse import DATA_API_ROWS
from venues.polymarket import parse
from venues.polymarket.messages import PolymarketParseError


@pytest.mark.parametrize("name", DATA_API_ROWS)
def test_every_recorded_row_is_a_fill_or_ignored_with_a_reason(shared_data: Path, name: str) -> None:
    rows = json.loads((shared_data / name).read_text())
    for row in rows:
        got = leader_fill(parse.wallet_activity(row), FillSource.DATA_API)
        kind = row.get("type", "TRADE")
        if kind == "TRADE":
            assert isinstance(got, LeaderFill)
            assert got.size == Decimal(repr(row["size"])) and got.side is (
                Side.BUY if row["side"] == "BUY" else Side.SELL
            )
        else:
            assert isinstance(got, Ignored) and got.reason.startswith(kind)


def _fill(source: FillSource, tx: str = "0x" + "ab" * 32, **kw: object) -> LeaderFill:
    fields: dict[str, object] = {
        "venue": Venue.POLYMARKET,
        "leader": "0x" + "CD" * 20,
        "market_id": "0xcond",
        "token_id": "123",
        "side": Side.BUY,
        "price": Decimal("0.42"),
        "size": Decimal("10"),
        "at": datetime(2026, 12, 1, tzinfo=UTC),
        "source": source,
        "venue_fill_id": tx,
    }
    return LeaderFill.model_validate(fields | kw)


def test_one_fill_seen_by_three_sources_has_one_identity() -> None:
    seen = [_fill(FillSource.RTDS), _fill(FillSource.DATA_API, tx="0x" + "AB" * 32), _fill(FillSource.CHAIN)]
    assert len({f.identity for f in seen}) == 1 and len({f.key for f in seen}) == 1
    assert len(seen[0].key) == 24 and seen[0].leader == "0x" + "cd" * 20
    assert _fill(FillSource.RTDS, side=Side.SELL).key != seen[0].key  # same tx, the other side: another fill
    kalshi = _fill(FillSource.KALSHI_WS, venue=Venue.KALSHI, leader="leader-1", venue_fill_id="f-1")
    assert kalshi.identity == "kx:f-1"


def test_wallet_addresses_are_checked() -> None:
    assert valid_wallet(" 0x" + "AB" * 20) == "0x" + "ab" * 20
    for bad in ("0x12", "ab" * 20, "0x" + "zz" * 20, ""):
        with pytest.raises(ValueError, match="not a wallet"):
            valid_wallet(bad)


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"transactionHash": "0x" + "ab" * 100}, "venue_fill_id"),
        ({"timestamp": 10**15}, "out of range"),
        ({"proxyWallet": "0x1234"}, "is not a wallet address"),
    ],
)
def test_a_row_no_fill_can_be_made_of_is_a_parse_error_found_by_the_fuzzer(
    change: dict[str, object], says: str
) -> None:
    row = {
        "proxyWallet": "0x" + "ab" * 20,
        "type": "TRADE",
        "conditionId": "0xc",
        "asset": "123",
        "side": "BUY",
        "price": 0.5,
        "size": 10,
        "timestamp": 1_700_000_000,
        "transactionHash": "0x" + "cd" * 32,
        **change,
    }
    with pytest.raises(PolymarketParseError, match=says):
        leader_fill(parse.wallet_activity(row), FillSource.DATA_API)
