"""Risk hot paths: the gate check every order activity makes, the pre-trade decision the
supervisor makes per saga, and the P&L ledger.

    .venv/bin/python -m bench.bench_risk [--holdings 500] [--fills 200000] [--seed 7]

Targets: gate check <= 1 us (<= 10x a bare method call, the reference), a pre-trade
decision plus reserve/settle <= 100 us with 500 holdings and 5 open sagas (a Temporal
update round trip costs milliseconds), P&L >= 100,000 fills/s.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.models import Fill, Outcome, Side, Venue
from risk.checks import RiskBook, check_trade
from risk.gate import RiskGate
from risk.models import AccountSnapshot, GateState, Holding, Limits, SagaFinished, SagaOutcome, TradeLeg, TradeRequest
from risk.pnl import PnlLedger

T0 = datetime(2026, 11, 25, tzinfo=UTC)


def per_call_ns(fn: Callable[[], object], repeat: int) -> float:
    start = time.perf_counter_ns()
    for _ in range(repeat):
        fn()
    return (time.perf_counter_ns() - start) / repeat


class _Store:
    async def read(self, tenant_id: str) -> GateState | None:
        return GateState(tenant_id=tenant_id, version=1, kill_switch=False, breaker_open=False, updated_at=T0)

    async def write(self, state: GateState) -> bool:
        return True


class _Bare:
    def check(self) -> None:
        return None


def bench_gate() -> tuple[float, float]:
    gate = RiskGate(_Store(), "bench")
    asyncio.run(gate.refresh())
    bare = _Bare()
    reference = per_call_ns(bare.check, 1_000_000)
    measured = per_call_ns(gate.check, 1_000_000)
    return measured, reference


def request(rnd: random.Random, saga_id: str, markets: int) -> TradeRequest:
    def leg(venue: Venue, outcome: Outcome) -> TradeLeg:
        return TradeLeg(
            venue=venue,
            market_id=f"m{rnd.randrange(markets)}",
            outcome=outcome,
            side=Side.BUY,
            price=Decimal(rnd.randint(5, 95)) / 100,
            quantity=Decimal(rnd.randint(1, 50)),
            fee=Decimal("0.07"),
        )

    return TradeRequest(
        saga_id=saga_id, pair_id="p", legs=(leg(Venue.POLYMARKET, Outcome.YES), leg(Venue.KALSHI, Outcome.NO))
    )


def bench_decision(rnd: random.Random, holdings: int, rounds: int) -> float:
    book = RiskBook()
    book.sync(
        AccountSnapshot(
            balances={Venue.POLYMARKET: Decimal(10**9), Venue.KALSHI: Decimal(10**9)},
            holdings=tuple(
                Holding(venue=v, market_id=f"m{i}", contracts=Decimal(10), at_risk=Decimal(5))
                for i in range(holdings // 2)
                for v in Venue
            ),
            as_of=T0,
        )
    )
    limits = Limits(
        max_contracts_per_venue=Decimal(10**9),
        max_contracts_total=Decimal(10**9),
        max_exposure_per_venue=Decimal(10**9),
        max_exposure_total=Decimal(10**9),
        max_open_sagas=6,
    )
    requests = [request(rnd, f"s{i}", holdings // 2) for i in range(rounds + 5)]
    for r in requests[:5]:
        book.reserve(r, T0)
    today = T0.date()
    start = time.perf_counter_ns()
    for i, r in enumerate(requests[5:]):
        decision = check_trade(r, limits, book, today=today)
        assert decision.approved, decision.message
        book.reserve(r, T0)
        book.settle(SagaFinished(saga_id=requests[i].saga_id, outcome=SagaOutcome.COMPENSATED), T0)
    return (time.perf_counter_ns() - start) / rounds


def bench_pnl(rnd: random.Random, count: int) -> float:
    fills = [
        Fill(
            fill_id=str(i),
            venue=Venue.KALSHI,
            venue_order_id="o",
            market_id=f"m{rnd.randrange(50)}",
            outcome=Outcome.YES,
            side=Side.BUY if rnd.random() < 0.55 else Side.SELL,
            price=Decimal(rnd.randint(1, 99)) / 100,
            quantity=Decimal(rnd.randint(1, 100)),
            fee=Decimal(rnd.randint(0, 7)) / 100,
            filled_at=T0 + timedelta(seconds=i),
        )
        for i in range(count)
    ]
    ledger = PnlLedger()
    start = time.perf_counter()
    for fill in fills:
        ledger.apply(fill)
    ledger.report(lambda *_: Decimal("0.5"), T0)
    return count / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--holdings", type=int, default=500)
    parser.add_argument("--fills", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rnd = random.Random(args.seed)

    gate_ns, bare_ns = bench_gate()
    print(f"gate check          {gate_ns:8.0f} ns/call   bare call {bare_ns:.0f} ns   ratio {gate_ns / bare_ns:.1f}x")
    decision_ns = bench_decision(rnd, args.holdings, 20_000)
    print(
        f"pre-trade decision  {decision_ns / 1000:8.1f} us (check + reserve + settle, {args.holdings} holdings, "
        f"5 open sagas)   target 100 us   ratio {decision_ns / 100_000:.2f}"
    )
    rate = bench_pnl(rnd, args.fills)
    print(f"P&L ledger          {rate:8.0f} fills/s   target 100000   ratio {rate / 100_000:.2f}")


if __name__ == "__main__":
    main()
