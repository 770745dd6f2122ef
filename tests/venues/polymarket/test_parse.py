"""Every recorded Polymarket message family parses, and bad input raises a typed error."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from domain.models import Venue
from venues.polymarket import parse
from venues.polymarket.messages import (
    BestBidAskEvent,
    BookEvent,
    LastTradePriceEvent,
    MarketResolvedEvent,
    NewMarketEvent,
    PolymarketParseError,
    PriceChangeEvent,
    TickSizeChangeEvent,
    UnknownMessageError,
    UserOrderEvent,
    UserTradeEvent,
)

D = Decimal


def read(shared_data: Path, rel: str) -> bytes:
    return (shared_data / rel).read_bytes()


def test_ws_book_full_depth(shared_data: Path) -> None:
    (event,) = parse.market_frame(read(shared_data, "nautilus_trader/ws_messages/book.json"))
    assert isinstance(event, BookEvent)
    raw = json.loads(read(shared_data, "nautilus_trader/ws_messages/book.json"))
    assert len(event.bids) == len(raw["bids"]) and len(event.asks) == len(raw["asks"])
    assert event.asks[0] == (D("0.999"), D("10500100"))
    assert event.hash == raw["hash"]


def test_ws_book_captured_with_tick_size(shared_data: Path) -> None:
    (event,) = parse.market_frame(read(shared_data, "nautilus_trader/test_data/ws_book_snapshot_captured.json"))
    assert isinstance(event, BookEvent)
    assert event.tick_size == D("0.01")
    assert event.last_trade_price == D("0.920")
    assert event.bids[0] == (D("0.01"), D("3149725.72"))


def test_ssmd_books_and_trades(shared_data: Path) -> None:
    books = [parse.market_frame(line) for line in read(shared_data, "ssmd/polymarket_book.jsonl").splitlines()]
    assert len(books) == 10 and all(isinstance(e, BookEvent) for (e,) in books)
    trades = [parse.market_frame(line) for line in read(shared_data, "ssmd/polymarket_trade.jsonl").splitlines()]
    assert len(trades) == 10
    first = trades[0][0]
    assert isinstance(first, LastTradePriceEvent)
    assert (first.price, first.size, first.is_buy) == (D("0.46"), D("0.2"), False)
    assert first.transaction_hash is not None and first.transaction_hash.startswith("0x")


def test_price_change_single_level_2024_form(shared_data: Path) -> None:
    (event,) = parse.market_frame(read(shared_data, "nautilus_trader/ws_messages/price_change.json"))
    assert isinstance(event, PriceChangeEvent)
    (change,) = event.changes
    assert (change.price, change.size, change.is_bid) == (D("0.514"), D("21574.08"), False)
    assert change.hash == "bf32b3746fff40c76c98021b7f3f07261169dd26"


def test_price_change_current_form(shared_data: Path) -> None:
    (event,) = parse.market_frame(read(shared_data, "nautilus_trader/ws_messages/price_change_v2.json"))
    assert isinstance(event, PriceChangeEvent)
    assert [(c.price, c.size, c.is_bid, c.best_bid, c.best_ask) for c in event.changes] == [
        (D("0.6"), D("3300"), True, D("0.6"), D("0.7")),
        (D("0.5"), D("3400"), True, D("0.6"), D("0.7")),
        (D("0.7"), D("3400"), True, D("0.6"), D("0.7")),
    ]
    assert event.timestamp_ms == 1729084877448


def test_price_change_legacy_changes_list() -> None:
    frame = orjson.dumps(
        {
            "event_type": "price_change",
            "asset_id": "123",
            "market": "0xabc",
            "hash": "h1",
            "timestamp": "1700000000000",
            "changes": [{"price": "0.4", "side": "BUY", "size": "10"}, {"price": "0.6", "side": "SELL", "size": "0"}],
        }
    )
    (event,) = parse.market_frame(frame)
    assert isinstance(event, PriceChangeEvent)
    assert [(c.asset_id, c.price, c.size, c.is_bid) for c in event.changes] == [
        ("123", D("0.4"), D("10"), True),
        ("123", D("0.6"), D("0"), False),
    ]


def test_crossing_burst_every_message(shared_data: Path) -> None:
    events = parse.market_frame(
        read(shared_data, "nautilus_trader/test_data/ws_market_price_change_crossing_burst.json")
    )
    assert len(events) == 51
    assert isinstance(events[0], BookEvent) and isinstance(events[-1], BookEvent)
    assert all(isinstance(e, PriceChangeEvent) for e in events[1:-1])
    assert sum(len(e.changes) for e in events[1:-1] if isinstance(e, PriceChangeEvent)) >= 98


def test_tick_size_change(shared_data: Path) -> None:
    for rel, old, new in [
        ("nautilus_trader/ws_messages/tick_size_change.json", "0.01", "0.001"),
        ("nautilus_trader/test_data/ws_market_tick_size_msg.json", "0.1", "0.01"),
    ]:
        (event,) = parse.market_frame(read(shared_data, rel))
        assert isinstance(event, TickSizeChangeEvent)
        assert (event.old_tick_size, event.new_tick_size) == (D(old), D(new))


def test_last_trade_price(shared_data: Path) -> None:
    (event,) = parse.market_frame(read(shared_data, "nautilus_trader/ws_messages/last_trade_price.json"))
    assert isinstance(event, LastTradePriceEvent)
    assert (event.price, event.size, event.is_buy, event.fee_rate_bps) == (D("0.491"), D("85.36"), False, 0)


def test_best_bid_ask_new_market_resolved(shared_data: Path) -> None:
    (bba,) = parse.market_frame(read(shared_data, "nautilus_trader/test_data/ws_market_best_bid_ask_msg.json"))
    assert isinstance(bba, BestBidAskEvent) and (bba.best_bid, bba.best_ask) == (D("0.73"), D("0.77"))
    (new,) = parse.market_frame(read(shared_data, "nautilus_trader/test_data/ws_market_new_market_msg.json"))
    assert isinstance(new, NewMarketEvent)
    assert new.outcomes == ("Yes", "No") and len(new.asset_ids) == 2 and new.tick_size == D("0.01")
    (resolved,) = parse.market_frame(read(shared_data, "nautilus_trader/test_data/ws_market_resolved_msg.json"))
    assert isinstance(resolved, MarketResolvedEvent)
    assert resolved.winning_asset_id == resolved.asset_ids[0] and resolved.winning_outcome == "Yes"


def test_user_channel_trade(shared_data: Path) -> None:
    (event,) = parse.user_frame(read(shared_data, "nautilus_trader/ws_messages/user_trade1.json"))
    assert isinstance(event, UserTradeEvent)
    assert event.status == "MINED" and event.trader_side == "MAKER"
    assert event.size == D("1096.87") and len(event.maker_orders) >= 5
    assert event.maker_orders[0].outcome == "No" and event.maker_orders[0].matched_amount == D("10")


def test_rest_trade_without_event_type(shared_data: Path) -> None:
    event = parse.trade(json.loads(read(shared_data, "nautilus_trader/ws_messages/trades.json")))
    assert event.status == "CONFIRMED" and event.trader_side == "TAKER"
    assert event.maker_orders[0].matched_amount == D("5")


def test_user_channel_order() -> None:
    frame = orjson.dumps(
        {
            "event_type": "order",
            "id": "0xff354cd7ca7539dfa9c28d90943ab5779a4eac34b9b37a757d7b32bdfb11790b",
            "market": "0xbd31dc8a20211944f6b70f31557f1001557b59905b7738480ca09bd4532f84af",
            "asset_id": "52114319501245915516055106046884209969926127482827954674443846427813813222426",
            "side": "SELL",
            "price": "0.57",
            "original_size": "10",
            "size_matched": "0",
            "type": "PLACEMENT",
            "outcome": "YES",
            "owner": "9180014b-33c8-9240-a14b-bdca11c0a465",
            "associate_trades": None,
            "timestamp": "1672290687",
        }
    )
    (event,) = parse.user_frame(frame)
    assert isinstance(event, UserOrderEvent)
    assert (event.type, event.is_buy, event.price, event.original_size) == ("PLACEMENT", False, D("0.57"), D("10"))


def test_rest_book(shared_data: Path) -> None:
    for rel in ("nautilus_trader/http_responses/book.json", "nautilus_trader/test_data/clob_book_response.json"):
        event = parse.book_response(json.loads(read(shared_data, rel)))
        assert event.bids and event.asks


def test_clob_market_and_pages(shared_data: Path) -> None:
    market = parse.clob_market(json.loads(read(shared_data, "nautilus_trader/http_responses/market.json")))
    assert market.venue is Venue.POLYMARKET
    assert market.yes_token.startswith("2174263314") and market.no_token.startswith("4833104333")
    assert market.neg_risk and market.tick_size == D("0.001") and market.min_order_size == D(5)
    assert market.end_date is not None and market.end_date.year == 2024
    assert "Associated Press" in market.rules

    page = parse.clob_markets_page(json.loads(read(shared_data, "nautilus_trader/http_responses/markets.json")))
    assert len(page.markets) == 99 and len(page.rejected) == 1  # one archived test market has no tokens
    assert page.next_cursor == "MTAw" and not page.is_last
    assert parse.clob_markets_page({"data": [], "next_cursor": "LTE="}).is_last

    closed = parse.clob_market(
        json.loads(read(shared_data, "nautilus_trader/test_data/clob_market_closed_binary_accepting_true.json"))
    )
    assert closed.closed and closed.tick_size == D("0.01")


@pytest.mark.parametrize(
    "rel",
    [
        "nautilus_trader/test_data/gamma_market.json",
        "nautilus_trader/test_data/gamma_market_closed_binary_accepting_true.json",
        "nautilus_trader/test_data/gamma_market_sports_market_map_handicap.json",
        "nautilus_trader/test_data/gamma_market_sports_market_money_line.json",
        "jm709_pscanner/market.json",
    ],
)
def test_gamma_markets(shared_data: Path, rel: str) -> None:
    raw = json.loads(read(shared_data, rel))
    market = parse.gamma_market(raw)
    tokens = json.loads(raw["clobTokenIds"])
    assert (market.yes_token, market.no_token) == (tokens[0], tokens[1])
    assert market.market_id == raw["conditionId"]
    assert market.tick_size == D(str(raw["orderPriceMinTickSize"]))
    assert market.end_date is not None


def test_gamma_fee_rates(shared_data: Path) -> None:
    money_line = json.loads(read(shared_data, "nautilus_trader/test_data/gamma_market_sports_market_money_line.json"))
    assert parse.gamma_market(money_line).taker_fee_rate == D("0.03")  # published feeSchedule.rate
    crypto = json.loads(read(shared_data, "nautilus_trader/test_data/gamma_market.json"))
    assert parse.gamma_market(crypto).taker_fee_rate == parse.UNPUBLISHED_FEE_RATE  # fees on, no schedule
    free = json.loads(read(shared_data, "jm709_pscanner/market.json"))
    assert parse.gamma_market(free).taker_fee_rate == 0


def test_gamma_events(shared_data: Path) -> None:
    page = parse.gamma_events(json.loads(read(shared_data, "nautilus_trader/test_data/gamma_event.json")))
    assert len(page.markets) == 2 and not page.rejected
    assert all(m.event_id == page.markets[0].event_id for m in page.markets)
    one = parse.gamma_events(json.loads(read(shared_data, "jm709_pscanner/event.json")))
    assert one.markets and not one.rejected
    search = parse.gamma_events(json.loads(read(shared_data, "nautilus_trader/test_data/search_response.json")))
    assert search.markets and not search.rejected


def test_gamma_nba_events_all_markets(shared_data: Path) -> None:
    page = parse.gamma_events(json.loads(read(shared_data, "steffenmax_arb-bot/poly_nba.json")))
    assert len(page.markets) == 738 and not page.rejected
    assert {m.tick_size for m in page.markets} == {D("0.01"), D("0.001")}
    assert len({m.event_id for m in page.markets}) == 50


def test_vendor_sample_of_raw_gamma_markets(shared_data: Path) -> None:
    """292 BTC 5-minute markets as raw Gamma objects (ligengxin96 sample): all map, fees from feeSchedule."""
    with gzip.open(shared_data / "ligengxin96_polymarket-data-samples/BTC-5m-markets-2026-07-24.jsonl.gz") as f:
        rows = [json.loads(line) for line in f]
    markets = [parse.gamma_market(row["raw"]) for row in rows]
    assert len(markets) == 292
    for row, market in zip(rows, markets, strict=True):
        assert market.market_id == row["condition_id"]
        assert [market.yes_token, market.no_token] == row["token_ids"]
    assert {m.taker_fee_rate for m in markets} == {D("0.07")}


def test_gamma_tags(shared_data: Path) -> None:
    tags = parse.gamma_tags(json.loads(read(shared_data, "nautilus_trader/test_data/gamma_tags.json")))
    assert len(tags) == 5 and tags[0].tag_id == "101259" and tags[0].slug == "health-and-human-services"
    with pytest.raises(PolymarketParseError):
        parse.gamma_tags([{"label": "no id"}])


def test_data_api_wallet_trades(shared_data: Path) -> None:
    trades = [
        parse.wallet_activity(t) for t in json.loads(read(shared_data, "nautilus_trader/http_responses/trades.json"))
    ]
    assert trades[0].price == D("0.998") and trades[0].size == D("5.4") and trades[0].is_buy is False
    assert {t.kind for t in trades} == {"TRADE"}


DATA_API_ROWS = (
    "edulabrador_polymarket-smart-money/activity_all.json",
    "edulabrador_polymarket-smart-money/activity.json",
    "edulabrador_polymarket-smart-money/trades.json",
    "jm709_pscanner/activity.json",
    "polymarket_py-sdk/data_v2/activity.json",
    "polymarket_py-sdk/data_v2/trades.json",
    "nautilus_trader/http_responses/trades.json",
)


@pytest.mark.parametrize("name", DATA_API_ROWS)
def test_every_recorded_data_api_row_parses_exactly(shared_data: Path, name: str) -> None:
    raw = read(shared_data, name)
    rows = json.loads(raw)
    parsed = [parse.wallet_activity(r) for r in rows]
    for row, got in zip(rows, parsed, strict=True):
        assert got.wallet == (row.get("proxyWallet") or row["proxy_wallet"]).lower()
        # floats are read as written: the Decimal is the number's text in the file
        assert got.size == D(repr(row["size"]))
        if got.kind == "TRADE":
            assert got.is_buy is (row["side"] == "BUY") and got.asset_id and got.transaction_hash.startswith("0x")
        else:
            assert got.is_buy is None or row["side"]


def test_recorded_activity_kinds_and_the_v2_format(shared_data: Path) -> None:
    rows = json.loads(read(shared_data, "edulabrador_polymarket-smart-money/activity_all.json"))
    kinds = [parse.wallet_activity(r).kind for r in rows]
    assert {k: kinds.count(k) for k in set(kinds)} == {
        "TRADE": 42,
        "REWARD": 4,
        "REDEEM": 2,
        "MAKER_REBATE": 1,
        "TAKER_REBATE": 1,
    }
    v2 = parse.wallet_activity(json.loads(read(shared_data, "polymarket_py-sdk/data_v2/activity.json"))[0])
    assert (v2.price, v2.size, v2.usdc_size) == (D("0.9300000035"), D("14.285715"), D("13.285715"))
    assert v2.wallet == "0x7c3db723f1d4d8cb9c550095203b686cb11e5c6b" and v2.outcome_index == 0


@pytest.mark.parametrize(
    "row",
    [
        [],
        {"timestamp": 1},
        {"proxyWallet": "0x1", "timestamp": "x"},
        {"proxyWallet": "0x1", "timestamp": 1, "side": "UP"},
        {"proxyWallet": "0x1", "timestamp": 1, "type": "TRADE", "side": "BUY", "price": 1.5},
    ],
)
def test_malformed_data_api_rows_are_parse_errors(row: object) -> None:
    with pytest.raises(PolymarketParseError):
        parse.wallet_activity(row)


def test_order_responses(shared_data: Path) -> None:
    fixtures = shared_data / "tydog99_polymarket-kalshi-arbitrage-bot" / "fixtures"
    full = parse.post_order_result(
        json.loads((fixtures / "poly_full_fill_real.json").read_bytes())["response"]["body_parsed"]
    )
    assert full.success and full.status == "matched"
    assert (full.making_amount, full.taking_amount) == (D("2.65"), D("5"))
    status = parse.open_order(
        json.loads((fixtures / "poly_order_status_partial_real.json").read_bytes())["response"]["body_parsed"]
    )
    assert (status.status, status.size_matched, status.original_size) == ("MATCHED", D("5"), D("10"))


@pytest.mark.parametrize(
    ("frame", "error"),
    [
        (b"not json", PolymarketParseError),
        (b'{"event_type": "mystery"}', UnknownMessageError),
        (b'{"event_type": "price_change", "market": "m"}', PolymarketParseError),
        (
            b'{"event_type": "last_trade_price", "market": "m", "asset_id": "a", "price": "NaN", "size": "1",'
            b' "side": "BUY", "timestamp": "1"}',
            PolymarketParseError,
        ),
        (
            b'{"event_type": "last_trade_price", "market": "m", "asset_id": "a", "price": "1.5", "size": "1",'
            b' "side": "BUY", "timestamp": "1"}',
            PolymarketParseError,
        ),
        (
            b'{"event_type": "last_trade_price", "market": "m", "asset_id": "a", "price": "0.5", "size": "-1",'
            b' "side": "BUY", "timestamp": "1"}',
            PolymarketParseError,
        ),
        (
            b'{"event_type": "last_trade_price", "market": "m", "asset_id": "a", "price": "0.5", "size": "1",'
            b' "side": "HOLD", "timestamp": "1"}',
            PolymarketParseError,
        ),
        (
            b'{"bids": [{"price": "0.5"}], "asks": [], "market": "m", "asset_id": "a", "timestamp": "1"}',
            PolymarketParseError,
        ),
        (b"[1, 2]", PolymarketParseError),
    ],
)
def test_bad_market_frames_raise_typed_errors(frame: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse.market_frame(frame)


def test_unmappable_markets_raise() -> None:
    with pytest.raises(PolymarketParseError):
        parse.gamma_market({"conditionId": "0x1", "clobTokenIds": '["1", "2", "3"]'})
    with pytest.raises(PolymarketParseError):
        parse.gamma_market({"conditionId": "0x1", "clobTokenIds": "not json"})
    with pytest.raises(PolymarketParseError):
        parse.clob_market(
            {"condition_id": "0x1", "tokens": [{"token_id": "1"}, {"token_id": "2"}], "minimum_tick_size": 0.05}
        )


@pytest.mark.parametrize("timestamp", ["99999999999999999", "-5", 10**16])
def test_a_market_message_from_a_time_no_clock_reaches_is_refused(timestamp: object) -> None:
    """Found by fuzz/native_parser.py: the pure path overflowed in datetime (the native one declines)."""
    frame = {"event_type": "price_change", "market": "0xa", "timestamp": timestamp, "price_changes": []}
    with pytest.raises(PolymarketParseError, match="timestamp"):
        parse.market_frame(orjson.dumps(frame))


@pytest.mark.parametrize("kind", [{"a": 1}, [1], 7])
def test_an_event_type_that_is_not_a_name_is_an_unknown_message(kind: object) -> None:
    """Found by fuzz/native_parser.py: a JSON object as event_type raised TypeError (unhashable)."""
    with pytest.raises(UnknownMessageError, match="unknown market event_type"):
        parse.market_frame(orjson.dumps({"event_type": kind, "market": "0xa"}))
