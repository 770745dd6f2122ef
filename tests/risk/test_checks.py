"""Pre-trade checks: each limit rejects with its own code, reservations count, settlement releases."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.models import Outcome, Side, Venue
from risk.checks import RiskBook, check_trade
from risk.models import AccountSnapshot, Holding, Limits, RejectCode, SagaFinished, SagaOutcome, TradeLeg, TradeRequest
from tests.risk.factories import T0, arb_request, funded

TODAY = T0.date()


def book(**balances: str) -> RiskBook:
    b = RiskBook()
    b.sync(funded(**balances))
    return b


def test_leg_at_risk_is_cost_plus_fee_for_buys_and_short_loss_for_sells() -> None:
    buy = TradeLeg(
        venue=Venue.KALSHI,
        market_id="K",
        outcome=Outcome.YES,
        side=Side.BUY,
        price=Decimal("0.37"),
        quantity=Decimal(3),
        fee=Decimal("0.02"),
    )
    sell = buy.model_copy(update={"side": Side.SELL})
    assert buy.at_risk == Decimal("1.13")
    assert sell.at_risk == Decimal("1.91")


def test_approves_within_limits() -> None:
    decision = check_trade(arb_request(), Limits(), book(), today=TODAY)
    assert decision.approved and decision.code is None


@pytest.mark.parametrize(
    ("limits", "code"),
    [
        (Limits(max_contracts_per_market=Decimal(9)), RejectCode.MARKET_POSITION),
        (Limits(max_contracts_per_venue=Decimal(9)), RejectCode.VENUE_POSITION),
        (Limits(max_contracts_total=Decimal(19)), RejectCode.TOTAL_POSITION),
        # polymarket leg: 10 x 0.40 + 0.05 = 4.05 at risk
        (Limits(max_exposure_per_venue=Decimal("4.04")), RejectCode.VENUE_EXPOSURE),
        # both legs: 4.05 + 5.55 = 9.60
        (Limits(max_exposure_total=Decimal("9.59")), RejectCode.TOTAL_EXPOSURE),
        (Limits(max_open_sagas=0), RejectCode.MAX_OPEN_SAGAS),
    ],
)
def test_each_limit_rejects_just_past_its_boundary(limits: Limits, code: RejectCode) -> None:
    decision = check_trade(arb_request(), limits, book(), today=TODAY)
    assert (decision.approved, decision.code) == (False, code)
    assert decision.message


def test_limits_exactly_at_the_boundary_pass() -> None:
    limits = Limits(
        max_contracts_per_market=Decimal(10),
        max_contracts_per_venue=Decimal(10),
        max_contracts_total=Decimal(20),
        max_exposure_per_venue=Decimal("5.55"),
        max_exposure_total=Decimal("9.60"),
        max_open_sagas=1,
    )
    assert check_trade(arb_request(), limits, book(), today=TODAY).approved


def test_balance_is_checked_per_venue_net_of_reservations() -> None:
    b = book(kalshi="11.10")  # exactly two kalshi legs of 5.55
    limits = Limits()
    for saga in ("a", "b"):
        request = arb_request(saga)
        assert check_trade(request, limits, b, today=TODAY).approved
        b.reserve(request, T0)
    third = check_trade(arb_request("c"), limits, b, today=TODAY)
    assert third.code is RejectCode.INSUFFICIENT_BALANCE and "kalshi" in third.message


def test_unknown_balance_is_zero_so_unsynced_books_refuse() -> None:
    decision = check_trade(arb_request(), Limits(), RiskBook(), today=TODAY)
    assert decision.code is RejectCode.INSUFFICIENT_BALANCE


def test_reservations_count_so_two_sagas_cannot_share_the_last_room() -> None:
    limits = Limits(max_exposure_total=Decimal("15"))
    b = book()
    first = arb_request("s1")
    assert check_trade(first, limits, b, today=TODAY).approved
    b.reserve(first, T0)
    assert check_trade(arb_request("s2"), limits, b, today=TODAY).code is RejectCode.TOTAL_EXPOSURE
    b.settle(SagaFinished(saga_id="s1", outcome=SagaOutcome.COMPENSATED), T0)
    assert check_trade(arb_request("s2"), limits, b, today=TODAY).approved


def test_completed_saga_turns_reservation_into_holdings_and_spends_cash() -> None:
    b = book(polymarket="100", kalshi="100")
    limits = Limits(max_contracts_per_market=Decimal(15))
    assert check_trade(arb_request("s1"), limits, b, today=TODAY).approved  # totals of holdings now cached
    b.reserve(arb_request("s1"), T0)
    b.settle(SagaFinished(saga_id="s1", outcome=SagaOutcome.COMPLETED), T0)
    assert not b.reservations
    assert b.holdings["kalshi:KX-1"] == Holding(
        venue=Venue.KALSHI, market_id="KX-1", contracts=Decimal(10), at_risk=Decimal("5.55")
    )
    assert b.balances[Venue.POLYMARKET] == Decimal("95.95")
    assert check_trade(arb_request("s2"), limits, b, today=TODAY).code is RejectCode.MARKET_POSITION


def test_repeated_settlement_is_ignored() -> None:
    b = book()
    b.reserve(arb_request("s1"), T0)
    loss = SagaFinished(saga_id="s1", outcome=SagaOutcome.COMPENSATED, realized_pnl=Decimal(-3), fees=Decimal(1))
    assert b.settle(loss, T0) is not None
    assert b.settle(loss, T0) is None
    assert b.net_pnl_on(TODAY) == Decimal(-4)


def test_daily_loss_limit_counts_fees_and_resets_next_day() -> None:
    b = book()
    b.reserve(arb_request("s1"), T0)
    b.settle(
        SagaFinished(saga_id="s1", outcome=SagaOutcome.FAILED, realized_pnl=Decimal("-9.5"), fees=Decimal("0.5")), T0
    )
    limits = Limits(max_daily_loss=Decimal(10))
    assert check_trade(arb_request("s2"), limits, b, today=TODAY).code is RejectCode.DAILY_LOSS
    tomorrow = TODAY.replace(day=TODAY.day + 1)
    assert check_trade(arb_request("s2"), limits, b, today=tomorrow).approved


def test_kill_switch_and_breaker_come_first() -> None:
    b = RiskBook()
    assert check_trade(arb_request(), Limits(), b, today=TODAY, kill_switch=True).code is RejectCode.KILL_SWITCH
    assert check_trade(arb_request(), Limits(), b, today=TODAY, breaker_open=True).code is RejectCode.CIRCUIT_BREAKER


def test_double_reservation_of_one_saga_is_refused() -> None:
    b = book()
    b.reserve(arb_request("s1"), T0)
    with pytest.raises(ValueError, match="already holds"):
        b.reserve(arb_request("s1"), T0)


def test_book_round_trips_through_json_exactly() -> None:
    b = book(polymarket="12.345678")
    b.reserve(arb_request("s1"), T0)
    b.settle(SagaFinished(saga_id="s1", outcome=SagaOutcome.COMPLETED, realized_pnl=Decimal("0.000001")), T0)
    assert RiskBook.model_validate_json(b.model_dump_json()) == b


def fits_from_scratch(b: RiskBook, request: TradeRequest, limits: Limits) -> bool:
    """The oracle: every total recomputed naively from holdings, reservations and the request."""
    market: defaultdict[str, Decimal] = defaultdict(Decimal)
    venue_contracts: defaultdict[Venue, Decimal] = defaultdict(Decimal)
    venue_risk: defaultdict[Venue, Decimal] = defaultdict(Decimal)
    cash: defaultdict[Venue, Decimal] = defaultdict(Decimal)
    for h in b.holdings.values():
        market[f"{h.venue.value}:{h.market_id}"] += h.contracts
        venue_contracts[h.venue] += h.contracts
        venue_risk[h.venue] += h.at_risk
    for r in [*(res.request for res in b.reservations.values()), request]:
        for leg in r.legs:
            market[f"{leg.venue.value}:{leg.market_id}"] += leg.quantity
            venue_contracts[leg.venue] += leg.quantity
            venue_risk[leg.venue] += leg.at_risk
            cash[leg.venue] += leg.at_risk
    touched_markets = {f"{leg.venue.value}:{leg.market_id}" for leg in request.legs}
    touched_venues = {leg.venue for leg in request.legs}
    return (
        len(b.reservations) < limits.max_open_sagas
        and -b.net_pnl_on(TODAY) < limits.max_daily_loss
        and all(cash[v] <= b.balances.get(v, Decimal(0)) for v in touched_venues)
        and all(market[m] <= limits.max_contracts_per_market for m in touched_markets)
        and all(venue_contracts[v] <= limits.max_contracts_per_venue for v in touched_venues)
        and sum(venue_contracts.values()) <= limits.max_contracts_total
        and all(venue_risk[v] <= limits.max_exposure_per_venue for v in touched_venues)
        and sum(venue_risk.values()) <= limits.max_exposure_total
    )


amounts = st.integers(min_value=0, max_value=200).map(Decimal)
steps = st.lists(
    st.one_of(
        st.tuples(
            st.just("reserve"),
            st.integers(1, 40),
            st.integers(1, 99),
            st.integers(1, 99),
            st.sampled_from("AB"),
            st.sampled_from("AB"),
        ),
        st.tuples(st.just("settle"), st.integers(0, 30), st.sampled_from(SagaOutcome), st.integers(-5, 2)),
        st.tuples(st.just("sync"), st.integers(0, 1000)),
    ),
    max_size=30,
)


@given(steps, amounts, amounts, amounts, st.integers(0, 6), st.integers(1, 8).map(Decimal))
def test_decisions_match_a_from_scratch_oracle_in_any_sequence(
    actions: list[tuple[Any, ...]],
    per_market: Decimal,
    per_venue_exposure: Decimal,
    total_exposure: Decimal,
    max_sagas: int,
    daily_loss: Decimal,
) -> None:
    limits = Limits(
        max_contracts_per_market=per_market,
        max_contracts_per_venue=per_market * 2,
        max_contracts_total=per_market * 3,
        max_exposure_per_venue=per_venue_exposure,
        max_exposure_total=total_exposure,
        max_open_sagas=max_sagas,
        max_daily_loss=daily_loss,
    )
    b = book(polymarket="500", kalshi="500")
    for n, action in enumerate(actions):
        if action[0] == "reserve":
            _, qty, p1, p2, m1, m2 = action
            request = arb_request(
                f"s{n}",
                quantity=str(qty),
                poly_price=str(Decimal(p1) / 100),
                kalshi_price=str(Decimal(p2) / 100),
                poly_market=m1,
                kalshi_market=m2,
            )
            decision = check_trade(request, limits, b, today=TODAY)
            assert decision.approved == fits_from_scratch(b, request, limits), decision.message
            if decision.approved:
                b.reserve(request, T0)
        elif action[0] == "settle" and b.reservations:
            saga = sorted(b.reservations)[action[1] % len(b.reservations)]
            b.settle(SagaFinished(saga_id=saga, outcome=action[2], realized_pnl=Decimal(action[3])), T0)
        elif action[0] == "sync":
            b.sync(funded(polymarket=str(action[1]), kalshi=str(action[1])))


def test_sync_keeps_sagas_completed_after_the_snapshot_was_read() -> None:
    b = book(polymarket="100", kalshi="100")
    for saga, at in (("early", T0), ("late", T0 + timedelta(minutes=5))):
        b.reserve(arb_request(saga), at)
        b.settle(SagaFinished(saga_id=saga, outcome=SagaOutcome.COMPLETED), at)
    # read at T0 + 1 min: includes "early" (completed 60 s before, beyond the 30 s overlap), not "late"
    snapshot = AccountSnapshot(
        balances={Venue.POLYMARKET: Decimal("95.95"), Venue.KALSHI: Decimal("94.45")},
        holdings=(Holding(venue=Venue.KALSHI, market_id="KX-1", contracts=Decimal(10), at_risk=Decimal("5.55")),),
        as_of=T0 + timedelta(minutes=1),
    )
    b.sync(snapshot)
    assert b.holdings["kalshi:KX-1"].contracts == Decimal(20)  # venue's 10 + "late" again
    assert b.holdings["polymarket:0xcond"].contracts == Decimal(10)  # only "late" (venue did not list it)
    assert b.balances[Venue.KALSHI] == Decimal("88.90")
    assert [c.at for c in b.completions] == [T0 + timedelta(minutes=5)]
    b.sync(snapshot.model_copy(update={"as_of": T0 + timedelta(minutes=6)}))
    assert b.holdings["kalshi:KX-1"].contracts == Decimal(10) and not b.completions
