"""Sandbox throughput: the twin-market scenario at its claimed rates, measured from real clients.

For each target rate the sandbox runs as its own process (`inertial sandbox
--scenario twin --rate R`), exactly as developers run it. This process then:

* subscribes to Kalshi `orderbook_delta` for every twin market (signed handshake)
  and to the Polymarket market channel for every twin token, and counts what
  arrives (Kalshi: deltas, checking `seq` has no gap; Polymarket: level changes);
* places and cancels small resting Kalshi orders in a loop through the signed
  REST API and records each request's round trip.

Figures: book updates/s delivered to each subscriber, their sum less the
client's own order deltas (what the scenario produced) and its ratio to the
target, Kalshi seq gaps, order/cancel round-trip latency p50/p99 (ms), and two
figures that depend little on how loaded the shared machine is: the venues' CPU
time per update delivered (µs, both venue processes together, everything
included: scenario, matching, messages, sockets, the order requests) and the
share of a core this client used (subscribers and order loop).
Each row also shows the load average when it finished (the machine is shared, and
a loaded machine delivers less) and its verdict: PASS when the scenario's rate
reached at least `--tolerance` of the target with no seq gap. The last line says
whether the sandbox sustains the rate it claims (`--claim`, 10,000/s): every rate
measured must pass, and one of them must be at least the claim.
Subscribers decline permessage-deflate, so the figures measure the venues rather
than zlib (a compressing client costs the sandbox about 10% more CPU per message).

Run: `.venv/bin/python bench/bench_sandbox.py [--rates 1000 5000 10000 15000] [--seconds 5]`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sandbox.runner import sandbox_process  # noqa: E402
from venues.kalshi.auth import KalshiSigner  # noqa: E402

WARMUP_S = 1.0
CLAIMED_RATE = 10_000
TOLERANCE = 0.9


@dataclass
class Tally:
    kalshi_updates: int = 0
    kalshi_gaps: int = 0
    poly_updates: int = 0
    order_latency_ms: list[float] = field(default_factory=list)
    counting: bool = False


async def kalshi_subscriber(ws_url: str, signer: KalshiSigner, tickers: list[str], tally: Tally) -> None:
    async with connect(ws_url, additional_headers=signer.ws_headers(), max_queue=None, compression=None) as ws:
        command = {"id": 1, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_tickers": tickers}}
        await ws.send(orjson.dumps(command).decode())
        last_seq = 0
        async for raw in ws:
            msg = orjson.loads(raw)
            seq = msg.get("seq")
            if seq is None:
                continue
            if last_seq and seq != last_seq + 1:
                tally.kalshi_gaps += 1
            last_seq = seq
            if tally.counting and msg["type"] == "orderbook_delta":
                tally.kalshi_updates += 1


async def poly_subscriber(ws_url: str, tokens: list[str], tally: Tally) -> None:
    async with connect(ws_url, max_queue=None, compression=None) as ws:
        await ws.send(orjson.dumps({"assets_ids": tokens, "type": "market"}).decode())
        async for raw in ws:
            msg = orjson.loads(raw)
            if tally.counting and isinstance(msg, dict) and msg.get("event_type") == "price_change":
                # One level change is listed once per token (YES and its NO mirror).
                tally.poly_updates += len(msg["price_changes"]) // 2


async def order_client(base: str, signer: KalshiSigner, ticker: str, tally: Tally) -> None:
    path = "/trade-api/v2/portfolio/orders"
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        while True:
            body = {
                "ticker": ticker,
                "side": "yes",
                "action": "buy",
                "count": 1,
                "yes_price": 1,
                "client_order_id": uuid.uuid4().hex,
            }
            started = time.perf_counter()
            placed = await client.post(path, json=body, headers=signer.headers("POST", path))
            elapsed = time.perf_counter() - started
            if placed.status_code == 201:
                order_id = placed.json()["order"]["order_id"]
                cancel_path = f"{path}/{order_id}"
                started = time.perf_counter()
                await client.delete(cancel_path, headers=signer.headers("DELETE", cancel_path))
                if tally.counting:
                    tally.order_latency_ms += [elapsed * 1000, (time.perf_counter() - started) * 1000]


def sandbox_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by the sandbox process and its children (the
    Polymarket venue runs in one); NaN where /proc is not there to ask."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        for each in [str(pid), *children]:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    except OSError:
        return float("nan")
    return total / tick


async def measure(rate: int, seconds: float, seed: int) -> dict[str, float]:
    args = ("--scenario", "twin", "--rate", str(rate), "--seed", str(seed))
    tasks: list[asyncio.Task[None]] = []
    async with sandbox_process(*args) as sandbox:
        kalshi, poly = sandbox.kalshi_url, sandbox.polymarket_url
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem = (
            key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )
        async with httpx.AsyncClient() as admin:
            registered = await admin.post(f"{kalshi}/_sandbox/keys", json={"account": "bench", "public_key_pem": pem})
            await admin.post(f"{kalshi}/_sandbox/accounts/bench/fund", json={"cents": 10_000_000})
            markets = (await admin.get(f"{kalshi}/trade-api/v2/markets")).json()["markets"]
            listing = (await admin.get(f"{poly}/markets")).json()["data"]
        signer = KalshiSigner(registered.json()["key_id"], key)
        tickers = [m["ticker"] for m in markets]
        tokens = [t["token_id"] for m in listing for t in m["tokens"]]
        tally = Tally()
        ws_base = kalshi.replace("http://", "ws://")
        poly_ws = poly.replace("http://", "ws://")
        tasks = [
            asyncio.create_task(kalshi_subscriber(f"{ws_base}/trade-api/ws/v2", signer, tickers, tally)),
            asyncio.create_task(poly_subscriber(f"{poly_ws}/ws/market", tokens, tally)),
            asyncio.create_task(order_client(kalshi, signer, tickers[0], tally)),
        ]
        try:
            await asyncio.sleep(WARMUP_S)
            venue_cpu = sandbox_cpu_s(sandbox.process.pid)
            client_cpu = time.process_time()
            tally.counting = True
            started = time.perf_counter()
            await asyncio.sleep(seconds)
            tally.counting = False
            elapsed = time.perf_counter() - started
            venue_cpu = sandbox_cpu_s(sandbox.process.pid) - venue_cpu
            client_cpu = time.process_time() - client_cpu
            for task in tasks:
                if task.done() and task.exception():
                    raise RuntimeError(f"client failed: {task.exception()!r}")
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(BaseException):
                    await task
    latencies = sorted(tally.order_latency_ms) or [float("nan")]
    orders = len(tally.order_latency_ms) / 2
    # Each of the client's own order/cancel pairs adds two Kalshi deltas; the ratio is the scenario's.
    delivered = (tally.kalshi_updates + tally.poly_updates - 2 * orders) / elapsed
    return {
        "target": rate,
        "kalshi_per_s": tally.kalshi_updates / elapsed,
        "poly_per_s": tally.poly_updates / elapsed,
        "delivered_per_s": delivered,
        "ratio": delivered / rate,
        "kalshi_seq_gaps": tally.kalshi_gaps,
        "orders": orders,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "venue_us": venue_cpu / max(1, tally.kalshi_updates + tally.poly_updates) * 1e6,
        "client_cpu": client_cpu / elapsed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rates", type=int, nargs="+", default=[1_000, 5_000, 10_000, 15_000])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--claim", type=int, default=CLAIMED_RATE, help="Update rate the sandbox claims (per s).")
    parser.add_argument("--tolerance", type=float, default=TOLERANCE, help="Share of each target to deliver.")
    args = parser.parse_args()
    print(
        f"{'target/s':>9} {'kalshi/s':>9} {'poly/s':>9} {'scen/s':>9} {'ratio':>6} {'gaps':>5} "
        f"{'orders':>7} {'p50 ms':>7} {'p99 ms':>7} {'venue µs/upd':>12} {'client cpu':>10} {'load1':>6}  verdict"
    )
    failed = []
    for rate in args.rates:
        r = asyncio.run(measure(rate, args.seconds, args.seed))
        passed = r["ratio"] >= args.tolerance and r["kalshi_seq_gaps"] == 0
        if not passed:
            failed.append(rate)
        print(
            f"{r['target']:>9.0f} {r['kalshi_per_s']:>9.0f} {r['poly_per_s']:>9.0f} {r['delivered_per_s']:>9.0f} "
            f"{r['ratio']:>6.2f} {r['kalshi_seq_gaps']:>5.0f} {r['orders']:>7.0f} {r['p50_ms']:>7.1f} "
            f"{r['p99_ms']:>7.1f} {r['venue_us']:>12.1f} {r['client_cpu']:>10.2f} {os.getloadavg()[0]:>6.2f}  "
            f"{'PASS' if passed else 'FAIL'}"
        )
    reached = max(args.rates) >= args.claim
    verdict = "PASS" if reached and not failed else "FAIL"
    why = f"rates below {args.tolerance:.0%} of target or with seq gaps: {failed}" if failed else "every rate passed"
    if not reached:
        why = f"no rate measured at or above the claim ({max(args.rates)}/s)"
    print(f"{verdict}: claimed {args.claim:,} updates/s while matching orders — {why}")


if __name__ == "__main__":
    main()
