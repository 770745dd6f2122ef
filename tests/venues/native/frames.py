"""Raw venue frames: the recorded ones under ../shared/data, and Hypothesis strategies for valid, odd,
malformed, truncated and hostile ones (the native-parser tests and fuzz/native_parser.py use both)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from hypothesis import strategies as st


def recorded_frames(path: Path) -> list[bytes]:
    """One frame per message of a recording (a JSON array, one message, or JSON lines)."""
    raw = path.read_bytes()
    if path.suffix == ".jsonl":
        return [orjson.dumps(orjson.loads(line)) for line in raw.splitlines() if line.strip()]
    decoded = orjson.loads(raw)
    return [orjson.dumps(m) for m in decoded] if isinstance(decoded, list) else [orjson.dumps(decoded)]


def poly_markets(frames: list[bytes]) -> dict[str, tuple[str, str]]:
    """The markets the frames speak of: condition id -> (YES token, NO token)."""
    markets: dict[str, list[str]] = {}
    for frame in frames:
        message = orjson.loads(frame)
        ids = [c["asset_id"] for c in message.get("price_changes", [])] + [message.get("asset_id")]
        for asset in ids:
            if asset and asset not in markets.setdefault(message["market"], []):
                markets[message["market"]].append(asset)
    return {m: (ids[0], ids[1] if len(ids) > 1 else f"{ids[0]}-no") for m, ids in markets.items()}


def kalshi_envelopes(path: Path, ticker: str) -> list[bytes]:
    """The mdowis recording in Kalshi's wire envelope, seq renumbered contiguously (its sid was shared)."""
    frames: list[bytes] = []
    for line in path.read_text().splitlines():
        row = orjson.loads(line)
        if row["type"] == "snapshot":
            body: dict[str, Any] = {"market_ticker": ticker, "yes_dollars_fp": row["yes"], "no_dollars_fp": row["no"]}
            kind = "orderbook_snapshot"
        elif row["type"] == "delta":
            body = {k: row[k] for k in ("price_dollars", "delta_fp", "side", "market_id", "ts")}
            body["market_ticker"] = ticker
            kind = "orderbook_delta"
        else:
            continue
        frames.append(orjson.dumps({"type": kind, "sid": 7, "seq": len(frames) + 1, "msg": body}))
    return frames


POLY_ASSETS = ["0xa-yes", "0xa-no", "0xb-yes", "0xb-no", "0xunknown"]
TICKERS = ["KX-A", "KX-B", "KX-UNKNOWN"]

good_prices = st.integers(0, 10_000).map(lambda u: str(Decimal(u) / 10_000))
odd_prices = st.sampled_from(
    ["0.5", "0.50", "0.5000000", "0.00001", "0.12345", "1", "1.0", "0", "1.5", "-0.1", "1e-2", " 0.5", "", ".5", "5.",
     "0.5a", "Infinity", "NaN", "0.99", "1_0", "00.25", "0.2500001"]
)  # fmt: skip
json_odd: st.SearchStrategy[Any] = st.sampled_from([None, True, 0.5, 1, 0, [], {}])
prices: st.SearchStrategy[Any] = st.one_of(good_prices, good_prices, odd_prices, json_odd)
good_sizes = st.integers(0, 10**7).map(lambda u: str(Decimal(u) / 100))
odd_sizes = st.sampled_from(
    ["0", "10", "10.5", "10.50", "10.55", "10.555", "10.550", "-5", "-0", "1_0", "99999999999999",
     "9999999999999", "999999999999999999999", "1e3", "", "0.001", "12.3456789", " 7", "-0.00", ".5", "-.5", "5."]
)  # fmt: skip
sizes: st.SearchStrategy[Any] = st.one_of(good_sizes, good_sizes, odd_sizes, json_odd)
sides = st.sampled_from(["BUY", "SELL", "BUY", "SELL", "HOLD", None, 1])
hashes = st.one_of(st.sampled_from(["a" * 40, "b" * 40, "", None, 7]), st.text("0123456789abcdef", max_size=40))
timestamps = st.one_of(st.integers(0, 2_000_000_000_000).map(str), st.sampled_from([1790000000000, "x", None, "1.5"]))


def _maybe_drop(draw: st.DrawFn, obj: dict[str, Any], keys: list[str], clean: bool = False) -> dict[str, Any]:
    if clean:
        return obj
    for key in keys:
        if draw(st.integers(0, 15)) == 0:
            obj.pop(key, None)
    return obj


def _price(draw: st.DrawFn, clean: bool) -> Any:
    return draw(good_prices if clean else prices)


def _size(draw: st.DrawFn, clean: bool) -> Any:
    return draw(good_sizes if clean else sizes)


def _side(draw: st.DrawFn, clean: bool) -> Any:
    return draw(st.sampled_from(["BUY", "SELL"]) if clean else sides)


@st.composite
def poly_change(draw: st.DrawFn, clean: bool = False) -> dict[str, Any]:
    entry = {
        "asset_id": draw(st.sampled_from(POLY_ASSETS)),
        "price": _price(draw, clean),
        "size": _size(draw, clean),
        "side": _side(draw, clean),
        "hash": draw(hashes),
        "best_bid": draw(st.one_of(good_prices, st.sampled_from(["", "0", "1", None]))),
        "best_ask": draw(st.one_of(good_prices, st.sampled_from(["", "0", "1", None]))),
    }
    return _maybe_drop(draw, entry, list(entry), clean)


@st.composite
def poly_level(draw: st.DrawFn, clean: bool = False) -> dict[str, Any]:
    return _maybe_drop(draw, {"price": _price(draw, clean), "size": _size(draw, clean)}, ["price", "size"], clean)


@st.composite
def poly_event(draw: st.DrawFn, clean: bool = False) -> dict[str, Any]:
    kind = draw(st.sampled_from(["price_change", "price_change", "legacy", "legacy_changes", "book", "book", "other"]))
    market = draw(st.sampled_from(["0xa", "0xb"]))
    stamp = draw(st.integers(0, 2_000_000_000_000).map(str) if clean else timestamps)
    base: dict[str, Any] = {"market": market, "timestamp": stamp}
    if kind == "price_change":
        event = base | {"event_type": "price_change", "price_changes": draw(st.lists(poly_change(clean), max_size=4))}
    elif kind == "legacy":
        event = base | {"event_type": "price_change", "hash": draw(hashes)} | draw(poly_change(clean))
        event.pop("best_bid", None)
        event.pop("best_ask", None)
    elif kind == "legacy_changes":
        entry: dict[str, st.SearchStrategy[Any]] = {
            "price": good_prices,
            "size": good_sizes,
            "side": st.sampled_from(["BUY", "SELL"]),
        }
        if not clean:
            entry = {"price": prices, "size": sizes, "side": sides}
        changes = draw(st.lists(st.fixed_dictionaries(entry), max_size=3))
        event = base | {"event_type": "price_change", "asset_id": draw(st.sampled_from(POLY_ASSETS))}
        event |= {"changes": changes, "hash": draw(hashes)}
    elif kind == "book":
        event = base | {
            "event_type": "book",
            "asset_id": draw(st.sampled_from(POLY_ASSETS)),
            "bids": draw(st.lists(poly_level(clean), max_size=6)),
            "asks": draw(st.lists(poly_level(clean), max_size=6)),
            "hash": draw(hashes),
        }
        if draw(st.booleans()):
            event["tick_size"] = "0.01"
        if draw(st.booleans()):
            event["last_trade_price"] = draw(st.sampled_from(["0.5", "", "2", None]))
    else:
        event = base | {"event_type": draw(st.sampled_from(["last_trade_price", "tick_size_change", "unknown"]))}
        event |= {"asset_id": draw(st.sampled_from(POLY_ASSETS)), "price": "0.5", "size": "1", "side": "BUY"}
        event |= {"old_tick_size": "0.01", "new_tick_size": "0.001"}
    return _maybe_drop(draw, event, ["event_type", "market", "timestamp", "asset_id"], clean)


# Hand-written frames orjson would decode differently or reject; the native parser must decline them.
RAW_ODDITIES = [
    b'{"event_type":"book","event_type":"price_change","asset_id":"0xa-yes","bids":[],"asks":[]}',
    b'{"event_type":"book","asset_id":"0xa-yes","bids":[{"price":"0.5","size":"1","price":"0.6"}],"asks":[]}',
    b'{"event_type":"book","asset_id":"0xa-yes","bids":[],"asks":[],}',
    b'{"event_type":"book","asset_id":"0xa-yes","bids":[],"asks":[]} x',
    b'{"event_type":"book","asset_id":"0xa\\u002dyes","bids":[{"price":"0.5","size":"1"}],"asks":[]}',
    b'{"event_type":"book","asset_id":"0xa-yes","bids":[{"price":"0.5","size":"1"}],"asks":[],"n":01}',
    b'{"event_type":"book","asset_id":"0xa-yes","bids":[{"price":"0.5","size":"1"}],"asks":[],"n":1e999}',
    b'{"event_type":"book","asset_id":"0xa-yes","bids":[{"price":"0.5","size":"1"}],"asks":[],"n":"\xff"}',
    b'{"event_type":"book","asset_id":"0xa-yes","bids":[{"price":"0.5","size":"1"}],"asks":[],"n":"\xc3\xa9"}',
    b'[{"event_type":"book","asset_id":"0xa-yes","bids":[],"asks":[]},{"event_type":"book","asset_id":"0xa-no","bids":[],"asks":[]}]',
    b'[]',
    b'{}',
    b'',
    b'null',
    b'{"type":"orderbook_delta","type":"x","sid":1,"seq":1,"msg":{}}',
    b'{"type":"orderbook_delta","sid":1,"seq":1.0,"msg":{"market_ticker":"KX-A","price":40,"delta":1,"side":"yes"}}',
    b'{"type":"orderbook_delta","sid":true,"seq":1,"msg":{"market_ticker":"KX-A","price":40,"delta":1,"side":"yes"}}',
    b'{"type":"orderbook_delta","sid":1,"seq":99999999999999999999,"msg":{"market_ticker":"KX-A","price":40,"delta":1,"side":"yes"}}',
    b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"KX-A","yes":[[40,1,2]]}}',
    b'{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"KX-A","yes":0}}',
]  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn, frame: bytes) -> bytes:
    """Mostly the frame itself; sometimes truncated, a byte changed, or whitespace/garbage added."""
    how = draw(st.integers(0, 9))
    if how == 0 and frame:
        return frame[: draw(st.integers(0, len(frame) - 1))]
    if how == 1 and frame:
        at = draw(st.integers(0, len(frame) - 1))
        return frame[:at] + bytes([draw(st.integers(0, 255))]) + frame[at + 1 :]
    if how == 2:
        return b" \n" + frame + b"\t "
    if how == 3:
        return frame + draw(st.sampled_from([b",", b"}", b"]", b"x", b"\x00"]))
    return frame


@st.composite
def poly_frame(draw: st.DrawFn) -> bytes:
    """Half the frames are clean (every value valid), the rest may hold anything."""
    clean = draw(st.booleans())
    if not clean and draw(st.integers(0, 9)) == 0:
        return draw(st.sampled_from(RAW_ODDITIES))
    events = draw(st.lists(poly_event(clean), min_size=1, max_size=1 if clean else 2))
    body: object = events[0] if len(events) == 1 and draw(st.booleans()) else events
    return orjson.dumps(body) if clean else draw(mutated(orjson.dumps(body)))


def _price_s(clean: bool) -> st.SearchStrategy[Any]:
    return good_prices if clean else prices


def _size_s(clean: bool) -> st.SearchStrategy[Any]:
    return good_sizes if clean else sizes


@st.composite
def kalshi_frames(draw: st.DrawFn) -> list[bytes]:
    """A stream: seq mostly contiguous per sid, with gaps, repeats and odd sids."""
    seqs = {1: 0, 2: 0}
    frames: list[bytes] = []
    if draw(st.booleans()):  # usually a stream opens with the subscription's snapshots
        for ticker in TICKERS[:2]:
            seqs[1] += 1
            rows = [[str(Decimal(c) / 100), "100.00"] for c in range(30, 40)]
            opening = {"market_ticker": ticker, "yes_dollars_fp": rows, "no_dollars_fp": rows}
            frames.append(orjson.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": seqs[1], "msg": opening}))
    for _ in range(draw(st.integers(1, 25))):
        clean = draw(st.booleans())
        sid = draw(st.sampled_from([1, 1, 1, 2] if clean else [1, 1, 1, 2, None, "s"]))
        step = draw(st.sampled_from([1] * 20 + [2, 0, -1]))
        seq: Any
        if sid in seqs:
            seqs[sid] += step
            seq = seqs[sid]
        else:
            seq = draw(st.sampled_from([1, None, "3"]))
        ticker = draw(st.sampled_from(TICKERS))
        top: dict[str, Any] = {"sid": sid, "seq": seq}
        if draw(st.integers(0, 4)) == 0:
            dollars = draw(st.booleans())
            body: dict[str, Any] = {"market_ticker": ticker}
            for side in ("yes", "no"):
                if dollars:
                    pairs: list[Any] = draw(st.lists(st.tuples(_price_s(clean), _size_s(clean)), max_size=5))
                    body[f"{side}_dollars_fp" if draw(st.booleans()) else f"{side}_dollars"] = [list(r) for r in pairs]
                else:
                    cents = draw(st.lists(st.tuples(st.integers(-1, 101), st.integers(-5, 10**6)), max_size=5))
                    body[side] = [list(r) for r in cents]
            frame = top | {"type": "orderbook_snapshot", "msg": body}
        else:
            sides_k: list[Any] = ["yes", "no"] if clean else ["yes", "no", "yes", "no", "maybe", None]
            body = {"market_ticker": ticker, "side": draw(st.sampled_from(sides_k))}
            fp = st.integers(-(10**4), 10**6).map(lambda u: str(Decimal(u) / 100))
            if draw(st.integers(0, 3)):
                body["price_dollars"] = _price(draw, clean)
                body["delta_fp"] = draw(fp if clean else st.one_of(fp, sizes))
            else:
                body["price"] = draw(st.one_of(st.integers(-1, 101), json_odd))
                body["delta"] = draw(st.one_of(st.integers(-(10**4), 10**4), json_odd, st.just(10**17)))
            body = _maybe_drop(draw, body, ["market_ticker", "side"], clean)
            kinds = ["orderbook_delta"] if clean else ["orderbook_delta"] * 6 + ["ticker", "trade"]
            frame = top | {"type": draw(st.sampled_from(kinds)), "msg": body}
        raw = orjson.dumps(_maybe_drop(draw, frame, ["sid", "seq", "msg"], clean))
        frames.append(draw(mutated(raw)) if not clean and draw(st.integers(0, 4)) == 0 else raw)
        if not clean and draw(st.integers(0, 9)) == 0:
            frames.append(draw(st.sampled_from(RAW_ODDITIES)))
    return frames
