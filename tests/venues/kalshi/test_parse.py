from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from domain.models import OrderStatus, Outcome, Side, Venue
from venues.kalshi.parse import (
    ErrorMessage,
    FillUpdate,
    KalshiParseError,
    OrderbookDelta,
    OrderbookSnapshot,
    RecorderMeta,
    Subscribed,
    TickerUpdate,
    TradeUpdate,
    UnhandledMessage,
    Unsubscribed,
    parse_balance,
    parse_error_body,
    parse_events_page,
    parse_fill,
    parse_market,
    parse_markets_page,
    parse_order,
    parse_orderbook,
    parse_position,
    parse_recorder_line,
    parse_series,
    parse_trades_page,
    parse_ws_message,
    parse_ws_object,
)

D = Decimal
MDOWIS = "mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"
SYNTH = "nautilus_trader/kalshi_pr3659_synthetic"
TYDOG = "tydog99_polymarket-kalshi-arbitrage-bot/fixtures"


def _lines(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if line.strip()]


def test_every_recorded_ssmd_envelope_parses(shared_data: Path) -> None:
    tickers = [parse_ws_message(line) for line in _lines(shared_data / "ssmd/kalshi_ticker.jsonl")]
    trades = [parse_ws_message(line) for line in _lines(shared_data / "ssmd/kalshi_trade.jsonl")]
    assert len(tickers) == 10 and all(isinstance(t, TickerUpdate) for t in tickers)
    assert len(trades) == 10 and all(isinstance(t, TradeUpdate) for t in trades)
    first = tickers[0]
    assert isinstance(first, TickerUpdate)
    assert (first.ticker, first.yes_bid, first.yes_ask, first.yes_bid_size) == (
        "KXXRP-26FEB1317-B1.3899500",
        D("0.04"),
        D("0.95"),
        D("14"),
    )
    trade = trades[0]
    assert isinstance(trade, TradeUpdate)
    assert (trade.sid, trade.seq, trade.yes_price, trade.no_price, trade.count, trade.taker_side) == (
        2,
        10,
        D("0.77"),
        D("0.23"),
        D(75),
        Outcome.YES,
    )


def test_every_recorder_line_parses(shared_data: Path) -> None:
    parsed = [parse_recorder_line(line) for line in _lines(shared_data / MDOWIS)]
    kinds = [type(p).__name__ for p in parsed]
    assert kinds.count("OrderbookDelta") == 116 and kinds.count("OrderbookSnapshot") == 1
    assert kinds.count("TradeUpdate") == 8 and kinds.count("TickerUpdate") == 1
    assert isinstance(parsed[0], RecorderMeta)
    snap = next(p for p in parsed if isinstance(p, OrderbookSnapshot))
    assert (len(snap.yes_bids), len(snap.no_bids), snap.seq) == (58, 88, 89710)
    assert snap.yes_bids[0] == (D("0.34"), D("3401.76"))
    delta = next(p for p in parsed if isinstance(p, OrderbookDelta))
    assert (delta.side, delta.price, delta.delta, delta.seq) == (Outcome.NO, D("0.42"), D(-750), 89716)


def test_synthetic_nautilus_schema_examples_parse(shared_data: Path) -> None:
    folder = shared_data / SYNTH
    snap = parse_ws_object(json.loads((folder / "ws_orderbook_snapshot.json").read_text()))
    assert isinstance(snap, OrderbookSnapshot)
    assert snap.no_bids == [(D("0.54"), D(400)), (D("0.56"), D(17))]
    delta = parse_ws_object(json.loads((folder / "ws_orderbook_delta.json").read_text()))
    assert isinstance(delta, OrderbookDelta) and delta.delta == D(50) and delta.price == D("0.42")
    assert isinstance(parse_ws_object(json.loads((folder / "ws_trade.json").read_text())), TradeUpdate)
    book = parse_orderbook(json.loads((folder / "http_orderbook.json").read_text()))
    assert book.yes_bids[-1] == (D("0.42"), D(13))
    (trade,) = parse_trades_page(json.loads((folder / "http_trades.json").read_text())).items
    assert (trade.ticker, trade.yes_price, trade.count, trade.taker_side) == (
        "KXBTC-25MAR15-B100000",
        D("0.36"),
        D(136),
        Outcome.NO,
    )
    page = parse_markets_page(json.loads((folder / "http_markets.json").read_text()))
    assert page.cursor is None
    (market,) = page.items
    assert market.market_id == "KXBTC-25MAR15-B100000"
    assert (market.yes_token, market.no_token) == ("KXBTC-25MAR15-B100000:yes", "KXBTC-25MAR15-B100000:no")
    assert market.active and not market.closed and market.event_id == "KXBTC-25MAR15"
    assert market.rules.startswith("Resolves Yes if BTC/USD")
    assert market.end_date is not None and market.end_date.isoformat() == "2025-03-15T23:59:59+00:00"


def test_recorded_events_listing_parses_with_cursor(shared_data: Path) -> None:
    page = parse_events_page(json.loads((shared_data / "steffenmax_arb-bot/kalshi_nba.json").read_text()))
    assert len(page.items) == 27
    assert page.items[0].event_ticker == "KXNBAGAME-26JAN11HOUSAC"
    assert page.items[0].series_ticker == "KXNBAGAME" and page.items[0].mutually_exclusive


def _fixture_body(shared_data: Path, name: str) -> tuple[int, dict]:
    response = json.loads((shared_data / TYDOG / name).read_text())["response"]
    return response["status"], json.loads(response["body_raw"])


def test_every_recorded_order_response_parses(shared_data: Path) -> None:
    paths = sorted((shared_data / TYDOG).glob("*kalshi*.json"))
    assert len(paths) == 13
    for path in paths:
        status, body = _fixture_body(shared_data, path.name)
        if status >= 400:
            assert parse_error_body(body)[0] in {"insufficient_balance", "market_not_found"}
        else:
            assert parse_order(body).order_id


def test_order_fill_prices_and_fees_from_real_responses(shared_data: Path) -> None:
    partial = parse_order(_fixture_body(shared_data, "kalshi_partial_fill_real.json")[1])
    assert partial.status is OrderStatus.CANCELED  # IOC: 114 of 200 filled, rest killed
    assert (partial.fill_count, partial.fill_cost, partial.fees) == (D(114), D("10.26"), D("0.66"))
    assert partial.average_price == D("0.09")
    # A sell's fill cost is booked on the other side: 7 contracts for 1.12 = sold YES at 0.84.
    sell = parse_order(_fixture_body(shared_data, "kalshi_sell_partial_fill_real.json")[1])
    assert (sell.side, sell.fill_count, sell.average_price) == (Side.SELL, D(7), D("0.84"))
    full = parse_order(_fixture_body(shared_data, "kalshi_full_fill_real.json")[1])
    assert full.status is OrderStatus.FILLED and full.client_order_id == "a17688895560"
    assert full.limit_price == D("0.09") and full.average_price == D("0.09")
    none = parse_order(_fixture_body(shared_data, "kalshi_no_fill_real.json")[1])
    assert none.status is OrderStatus.CANCELED and none.fill_count == 0 and none.average_price is None


def test_resting_order_with_fills_is_partially_filled() -> None:
    order = parse_order(
        {
            "order_id": "o",
            "ticker": "T",
            "side": "no",
            "action": "buy",
            "status": "resting",
            "no_price": 40,
            "fill_count": 2,
            "remaining_count": 3,
            "taker_fill_cost": 80,
        }
    )
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.initial_count == 5
    assert order.limit_price == D("0.40")


def test_dollar_strings_are_preferred_over_cents() -> None:
    snap = parse_ws_object(
        {
            "type": "orderbook_snapshot",
            "sid": 1,
            "seq": 1,
            "msg": {"market_ticker": "T", "yes": [[1, 10]], "yes_dollars": [["0.0150", "10"]], "no_dollars": []},
        }
    )
    assert isinstance(snap, OrderbookSnapshot) and snap.yes_bids == [(D("0.015"), D(10))]
    mixed = parse_orderbook({"orderbook": {"yes_dollars": [["0.4200", "13.00"]], "no": [[55, 5]]}})
    assert mixed.no_bids == [(D("0.55"), D(5))], "a side missing from one spelling must come from another"
    cents_only = parse_orderbook({"orderbook": {"yes": [[42, 13]], "no": None}})
    assert cents_only.yes_bids == [(D("0.42"), D(13))] and cents_only.no_bids == []


def test_fill_position_balance_series() -> None:
    fill = parse_fill(
        {
            "fill_id": "f1",
            "trade_id": "f1",
            "order_id": "o1",
            "ticker": "T",
            "market_ticker": "T",
            "side": "no",
            "action": "buy",
            "count": 3,
            "yes_price": 61,
            "no_price": 39,
            "yes_price_fixed": "0.6100",
            "no_price_fixed": "0.3900",
            "is_taker": False,
            "created_time": "2026-01-02T03:04:05Z",
        }
    )
    assert (fill.venue, fill.outcome, fill.price, fill.quantity, fill.is_taker) == (
        Venue.KALSHI,
        Outcome.NO,
        D("0.39"),
        D(3),
        False,
    )
    ws_fill = parse_ws_object(
        {
            "type": "fill",
            "sid": 9,
            "seq": 4,
            "msg": {
                "trade_id": "t",
                "order_id": "o",
                "market_ticker": "T",
                "is_taker": True,
                "side": "yes",
                "yes_price_dollars": "0.750",
                "count_fp": "2.00",
                "action": "sell",
                "ts": 1671899397,
            },
        }
    )
    assert isinstance(ws_fill, FillUpdate) and ws_fill.fill.price == D("0.75") and ws_fill.fill.side is Side.SELL
    position = parse_position(
        {
            "ticker": "T",
            "position": -4,
            "market_exposure": 240,
            "market_exposure_dollars": "2.4000",
            "fees_paid": 7,
            "realized_pnl": -12,
        }
    )
    assert position is not None and position.outcome is Outcome.NO and position.quantity == 4
    assert position.cost_basis == D("2.47") and position.realized_pnl == D("-0.12")
    assert parse_position({"ticker": "T", "position": 0}) is None
    balance = parse_balance({"balance": 12345, "portfolio_value": 500, "updated_ts": 1700000000})
    assert balance.available == D("123.45") and balance.as_of.year == 2023
    series = parse_series(
        {"series": {"ticker": "KXBTC", "title": "BTC", "fee_type": "quadratic", "fee_multiplier": 0.035}}
    )
    assert series.fee_multiplier == D("0.035")


def test_market_tick_size_status_and_fee() -> None:
    base = {"ticker": "T", "title": "Q?", "status": "closed", "tick_size": 1, "close_time": "2026-01-01T00:00:00Z"}
    market = parse_market(base, fee_multiplier=D("0.035"))
    assert market.closed and not market.active and market.tick_size == D("0.01") and market.taker_fee_rate == D("0.035")
    deci = parse_market(
        {
            **base,
            "status": "active",
            "price_ranges": [
                {"start": "0.0000", "end": "0.1000", "step": "0.0010"},
                {"start": "0.1000", "end": "0.9000", "step": "0.0100"},
            ],
        }
    )
    assert deci.tick_size == D("0.001") and deci.active and deci.taker_fee_rate == D("0.07")
    with pytest.raises(KalshiParseError):
        parse_market({**base, "market_type": "scalar"})


def test_older_reply_and_trade_forms() -> None:
    assert parse_ws_message('{"type":"subscribed","id":1}') == Subscribed(1, None, None)
    trade = parse_ws_message(
        '{"type":"trade","sid":2,"msg":{"trade_id":"t","market_ticker":"T","price":36,"count":4,"side":"no","ts":1}}'
    )
    assert isinstance(trade, TradeUpdate)
    assert (trade.yes_price, trade.no_price, trade.taker_side, trade.seq) == (D("0.36"), D("0.64"), Outcome.NO, None)


def test_command_replies() -> None:
    assert parse_ws_message(b'{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":7}}') == Subscribed(
        1, 7, "orderbook_delta"
    )
    assert parse_ws_message('{"id":2,"type":"error","msg":{"code":8,"msg":"Unknown channel name"}}') == ErrorMessage(
        2, 8, "Unknown channel name"
    )
    assert parse_ws_message('{"type":"unsubscribed","sid":7,"id":3}') == Unsubscribed(3, [7])
    assert parse_ws_message('{"type":"market_lifecycle_v2","sid":4,"msg":{}}') == UnhandledMessage(
        "market_lifecycle_v2", 4
    )


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[1,2]",
        b'{"sid":1}',
        b'{"type":"orderbook_delta","sid":1,"seq":2}',
        b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price":42,"delta":5,"side":"maybe"}}',
        b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price_dollars":"1.5","delta_fp":"5","side":"yes"}}',
        b'{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"T","price":42,"delta":"x","side":"yes"}}',
        b'{"type":"orderbook_delta","sid":"1","seq":2,"msg":{"market_ticker":"T","price":42,"delta":1,"side":"yes"}}',
        b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","yes":[[42]]}}',
        b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"T","yes_dollars":[["0.4","-1"]]}}',
        b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"yes":[]}}',
        b'{"type":"trade","sid":1,"seq":1,"msg":{"market_ticker":"T","trade_id":"x","count":1,"taker_side":"yes"}}',
    ],
)
def test_malformed_messages_raise_a_typed_parse_error(raw: bytes) -> None:
    with pytest.raises(KalshiParseError) as info:
        parse_ws_message(raw)
    assert info.value.payload is not None
