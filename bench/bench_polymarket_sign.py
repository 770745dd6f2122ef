"""Build + sign time per Polymarket order: our signer vs py-clob-client's `ClobClient.create_order`.

Both sign the same orders (random tick-aligned prices on every tick size, sizes,
sides, neg-risk or not). py-clob-client runs its real code path with its tick-size,
neg-risk and fee-rate lookups answered once by a local mock transport and then
served from its own caches, so only building and signing are timed. Target: >= 10x.

Run: .venv/bin/python -m bench.bench_polymarket_sign [--orders 2000]
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal

from py_clob_client.client import ClobClient
from py_clob_client.clob_types import OrderArgs, PartialCreateOrderOptions

from tests.venues.polymarket.clob_reference import TokenInfo, install
from venues.polymarket.eip712 import Wallet
from venues.polymarket.orders import OrderSide, OrderSigner

KEY = "0x" + "4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"
TICKS = ["0.1", "0.01", "0.001", "0.0001"]


def random_orders(n: int, seed: int = 7) -> list[tuple[str, str, Decimal, Decimal, str, bool]]:
    rng = random.Random(seed)
    orders = []
    for _ in range(n):
        tick = rng.choice(TICKS)
        steps = int(1 / Decimal(tick))
        price = Decimal(rng.randint(1, steps - 1)) * Decimal(tick)
        size = Decimal(rng.randint(500, 100_000)) / 100
        token = str(rng.getrandbits(255))
        orders.append((token, tick, price, size, rng.choice(["BUY", "SELL"]), rng.random() < 0.5))
    return orders


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000)
    args = parser.parse_args()
    orders = random_orders(args.orders)
    install({token: TokenInfo(tick, neg_risk, 0) for token, tick, _, _, _, neg_risk in orders})

    client = ClobClient("http://clob.test", chain_id=137, key=KEY)
    for token, tick, price, size, side, neg_risk in orders:  # fill py-clob-client's lookup caches
        client.create_order(
            OrderArgs(token_id=token, price=float(price), size=float(size), side=side),
            PartialCreateOrderOptions(tick_size=tick, neg_risk=neg_risk),
        )
    start = time.perf_counter()
    for token, tick, price, size, side, neg_risk in orders:
        client.create_order(
            OrderArgs(token_id=token, price=float(price), size=float(size), side=side),
            PartialCreateOrderOptions(tick_size=tick, neg_risk=neg_risk),
        )
    reference_us = (time.perf_counter() - start) / len(orders) * 1e6

    signer = OrderSigner(Wallet(KEY))
    ticks = {t: Decimal(t) for t in TICKS}
    start = time.perf_counter()
    for n, (token, tick, price, size, side, neg_risk) in enumerate(orders):
        signer.sign(
            token_id=token,
            side=OrderSide[side],
            price=price,
            size=size,
            tick_size=ticks[tick],
            neg_risk=neg_risk,
            salt=n,
        )
    ours_us = (time.perf_counter() - start) / len(orders) * 1e6

    print(f"{len(orders)} orders, build + EIP-712 sign, per order:")
    print(f"py-clob-client create_order : {reference_us:8.1f} us")
    print(f"venues.polymarket signer    : {ours_us:8.1f} us")
    print(f"speed-up                    : {reference_us / ours_us:8.1f}x   (target >= 10x)")


if __name__ == "__main__":
    main()
