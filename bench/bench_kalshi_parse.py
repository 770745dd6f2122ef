"""Kalshi WebSocket hot path: raw frame -> parse -> book update, against a bare `orjson.loads`.

    .venv/bin/python bench/bench_kalshi_parse.py [--cycles 300] [--rounds 5]

Frames come from the recorded mdowis BTC stream (one snapshot + 116 deltas), put
back into Kalshi's wire envelope (``{type, sid, seq, msg}``), so the measured path is
exactly the live one: `parse_ws_message`, then `KalshiBooks.on_delta` with seq
checking on. To repeat the stream without the book drifting negative or being
reloaded every 116 frames (no live stream does that), each cycle plays the recorded
deltas and then the same deltas negated in reverse order, which returns the book to
the snapshot; `seq` runs contiguously over all cycles. Best of `rounds`.
Target: parse + book update <= 2x the bare decode.

The measured path is the production one, as `KalshiStream` runs it: `KalshiBooks(native=True)
.on_frame` (the plain delta parsed and applied in C), falling back to the parse above. The
pure-Python path (`native=False`) is timed too, for comparison.
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from venues.kalshi.books import KalshiBooks
from venues.kalshi.parse import OrderbookDelta, OrderbookSnapshot, parse_ws_message

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
RECORDING = "mdowis_kalshi-orderbook-streamer/KXBTC15M-26APR191215-15.jsonl"


def recorded_messages(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The recorder's snapshot and delta lines as Kalshi `msg` bodies (the recorder flattened them)."""
    snapshot: dict[str, Any] | None = None
    deltas: list[dict[str, Any]] = []
    for line in path.read_text().splitlines():
        row = orjson.loads(line)
        if row["type"] == "snapshot":
            snapshot = {"market_ticker": row["ticker"], "yes_dollars_fp": row["yes"], "no_dollars_fp": row["no"]}
        elif row["type"] == "delta":
            keep = ("market_id", "price_dollars", "delta_fp", "side", "ts")
            deltas.append({"market_ticker": row["ticker"], **{k: row[k] for k in keep if k in row}})
    if snapshot is None or not deltas:
        raise SystemExit(f"{path} has no snapshot or no deltas")
    return snapshot, deltas


def _negated(msg: dict[str, Any]) -> dict[str, Any]:
    text = msg["delta_fp"]
    return {**msg, "delta_fp": text[1:] if text.startswith("-") else "-" + text}


def wire_frames(snapshot: dict[str, Any], deltas: list[dict[str, Any]], cycles: int) -> tuple[bytes, list[bytes]]:
    cycle = deltas + [_negated(m) for m in reversed(deltas)]
    first = orjson.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": snapshot})
    frames = [
        orjson.dumps({"type": "orderbook_delta", "sid": 1, "seq": 2 + i, "msg": msg})
        for i, msg in enumerate(cycle * cycles)
    ]
    return first, frames


def make_pipeline(snapshot: bytes, native: bool = True) -> Callable[[list[bytes]], None]:
    def run(frames: list[bytes]) -> None:
        books = KalshiBooks(native=native)
        first = parse_ws_message(snapshot)
        assert isinstance(first, OrderbookSnapshot)
        books.on_snapshot(first)
        on_frame = books.on_frame
        on_delta = books.on_delta
        parse = parse_ws_message
        for raw in frames:
            if on_frame(raw) is not None:
                continue
            msg = parse(raw)
            if type(msg) is not OrderbookDelta or on_delta(msg) is not None:
                raise SystemExit(f"unexpected {msg!r}: the book left sync during the benchmark")
        if native and books.counters.deltas != len(frames):
            raise SystemExit(f"only {books.counters.deltas} of {len(frames)} deltas took the native path")

    return run


def run_decode(frames: list[bytes]) -> None:
    loads = orjson.loads
    for raw in frames:
        loads(raw)


def best_time(fn: Callable[[list[bytes]], None], frames: list[bytes], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        fn(frames)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cycles", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--data", type=Path, default=DATA)
    args = parser.parse_args()
    snapshot, deltas = recorded_messages(args.data / RECORDING)
    first, frames = wire_frames(snapshot, deltas, args.cycles)
    pipeline_fn = make_pipeline(first)
    python_fn = make_pipeline(first, native=False)
    pipeline = decode = python = float("inf")
    for _ in range(args.rounds):  # interleaved, so all see the same machine load
        pipeline = min(pipeline, best_time(pipeline_fn, frames, 1))
        decode = min(decode, best_time(run_decode, frames, 1))
        python = min(python, best_time(python_fn, frames, 1))
    count = len(frames)

    def parse_snapshot(_: list[bytes]) -> None:
        parse_ws_message(first)

    snapshot_us = best_time(parse_snapshot, [], 50) * 1e6
    print(f"{count:,} delta frames ({len(deltas)} recorded deltas and their inverses x {args.cycles})")
    print(f"parse + book update (native): {count / pipeline:>12,.0f} msgs/s  ({pipeline / count * 1e6:.2f} us/msg)")
    print(f"pure-Python parse + update  : {count / python:>12,.0f} msgs/s  ({python / count * 1e6:.2f} us/msg)")
    print(f"bare orjson.loads           : {count / decode:>12,.0f} msgs/s  ({decode / count * 1e6:.2f} us/msg)")
    print(f"ratio (target <= 2x): native {pipeline / decode:.2f}x, pure Python {python / decode:.2f}x")
    levels = len(snapshot["yes_dollars_fp"]) + len(snapshot["no_dollars_fp"])
    print(f"snapshot parse ({levels} levels): {snapshot_us:.1f} us")


if __name__ == "__main__":
    main()
