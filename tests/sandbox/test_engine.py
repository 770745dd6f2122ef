"""The shared sandbox matching engine: matching rules, ledger effects and invariants."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sandbox.engine as engine_module
from domain.models import OrderStatus, Outcome, Side, TimeInForce
from sandbox.engine import (
    BookSide,
    CancelReason,
    LevelChanged,
    MarketRules,
    MatchingEngine,
    OrderCanceled,
    OrderNotOpenError,
    OrderRequest,
    RejectReason,
    Trade,
    UnknownOrderError,
)
from sandbox.ledger import KalshiFees, Ledger, LedgerError, PolymarketFees

D = Decimal
YES, NO = Outcome.YES, Outcome.NO
BUY, SELL = Side.BUY, Side.SELL
M = "m1"


@dataclass
class Clock:
    now: datetime = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def make(fees=None, clock=None, **rules) -> tuple[MatchingEngine, Ledger]:
    ledger = Ledger()
    for who in ("alice", "bob", "carol"):
        ledger.deposit(who, D(1000))
    counter = iter(range(1, 10**9))
    engine = MatchingEngine(
        MarketRules(M, **rules), ledger, fees, clock=clock or Clock(), new_id=lambda: f"id{next(counter)}"
    )
    return engine, ledger


def req(owner, outcome, side, price, qty, tif=TimeInForce.GTC, **kw) -> OrderRequest:
    return OrderRequest(owner, outcome, side, D(price), D(qty), tif, **kw)


def trades(events) -> list[Trade]:
    return [e for e in events if isinstance(e, Trade)]


def test_buy_yes_trades_at_maker_price_and_refunds_improvement():
    engine, ledger = make()
    ledger.grant_position("bob", M, YES, D(10))
    rest = engine.submit(req("bob", YES, SELL, "0.40", 10))
    assert rest.order.status is OrderStatus.OPEN
    assert ledger.account("bob").holding(M, YES).available == 0

    done = engine.submit(req("alice", YES, BUY, "0.55", 4))
    [trade] = trades(done.events)
    assert (trade.yes_price, trade.quantity) == (D("0.40"), D(4))
    assert trade.maker.order.order_id == rest.order.order_id
    assert trade.taker.price == D("0.40")
    assert done.order.status is OrderStatus.FILLED
    alice, bob = ledger.account("alice"), ledger.account("bob")
    assert alice.cash == D("998.40") and alice.reserved_cash == 0
    assert alice.holding(M, YES).quantity == 4
    assert bob.cash == D("1001.60") and bob.holding(M, YES).quantity == 6
    assert engine.levels(BookSide.ASK) == ((D("0.40"), D(6)),)
    assert LevelChanged(M, BookSide.ASK, D("0.40"), D(6)) in done.events
    assert engine.last_trade_price == D("0.40")


def test_yes_buyer_meeting_no_buyer_mints_a_pair():
    engine, ledger = make()
    engine.submit(req("bob", NO, BUY, "0.35", 10))  # rests as a YES ask at 0.65
    assert engine.levels(BookSide.ASK) == ((D("0.65"), D(10)),)
    done = engine.submit(req("alice", YES, BUY, "0.70", 10))
    [trade] = trades(done.events)
    assert trade.yes_price == D("0.65") and trade.maker.price == D("0.35") and trade.taker.price == D("0.65")
    alice, bob = ledger.account("alice"), ledger.account("bob")
    assert alice.cash == D("993.50") and alice.holding(M, YES).quantity == 10
    assert bob.cash == D("996.50") and bob.holding(M, NO).quantity == 10
    assert bob.reserved_cash == 0 and alice.reserved_cash == 0


def test_yes_seller_meeting_no_seller_merges_a_pair():
    engine, ledger = make()
    ledger.grant_position("alice", M, YES, D(5))
    ledger.grant_position("bob", M, NO, D(5))
    engine.submit(req("bob", NO, SELL, "0.45", 5))  # rests as a YES bid at 0.55
    done = engine.submit(req("alice", YES, SELL, "0.50", 5))
    [trade] = trades(done.events)
    assert trade.yes_price == D("0.55")
    assert ledger.account("alice").cash == D("1002.75")
    assert ledger.account("bob").cash == D("1002.25")
    assert ledger.account("alice").holding(M, YES).quantity == 0
    assert ledger.account("bob").holding(M, NO).quantity == 0


def test_price_then_time_priority():
    engine, ledger = make()
    for who in ("bob", "carol"):
        ledger.grant_position(who, M, YES, D(10))
    first = engine.submit(req("bob", YES, SELL, "0.50", 5)).order.order_id
    second = engine.submit(req("carol", YES, SELL, "0.50", 5)).order.order_id
    better = engine.submit(req("carol", YES, SELL, "0.49", 2)).order.order_id
    done = engine.submit(req("alice", YES, BUY, "0.50", 8))
    assert [(t.maker.order.order_id, t.quantity, t.yes_price) for t in trades(done.events)] == [
        (better, D(2), D("0.49")),
        (first, D(5), D("0.50")),
        (second, D(1), D("0.50")),
    ]


def test_fok_is_all_or_nothing():
    engine, ledger = make()
    ledger.grant_position("bob", M, YES, D(5))
    engine.submit(req("bob", YES, SELL, "0.50", 5))
    before = (ledger.account("alice").cash, ledger.account("alice").reserved_cash, engine.levels(BookSide.ASK))
    rejected = engine.submit(req("alice", YES, BUY, "0.60", 6, TimeInForce.FOK))
    assert rejected.order.status is OrderStatus.REJECTED
    assert rejected.order.reject_reason is RejectReason.FOK_NOT_FILLED
    assert not trades(rejected.events)
    assert (ledger.account("alice").cash, ledger.account("alice").reserved_cash, engine.levels(BookSide.ASK)) == before
    filled = engine.submit(req("alice", YES, BUY, "0.60", 5, TimeInForce.FOK))
    assert filled.order.status is OrderStatus.FILLED and filled.order.filled == 5


def test_fak_fills_what_it_can_and_cancels_the_rest():
    engine, ledger = make()
    ledger.grant_position("bob", M, YES, D(3))
    engine.submit(req("bob", YES, SELL, "0.50", 3))
    done = engine.submit(req("alice", YES, BUY, "0.50", 10, TimeInForce.FAK))
    assert done.order.status is OrderStatus.CANCELED and done.order.filled == 3
    assert done.order.cancel_reason is CancelReason.UNFILLED
    assert engine.levels(BookSide.BID) == ()
    assert ledger.account("alice").reserved_cash == 0 and ledger.account("alice").cash == D("998.50")


def test_gtd_expires_on_the_clock():
    clock = Clock()
    engine, ledger = make(clock=clock)
    expires = clock.now + timedelta(minutes=5)
    order = engine.submit(req("alice", YES, BUY, "0.30", 10, TimeInForce.GTD, expires_at=expires)).order
    assert ledger.account("alice").reserved_cash == D(3)
    assert engine.expire() == ()
    clock.now = expires
    events = engine.expire()
    assert OrderCanceled in {type(e) for e in events}
    expired = engine.order(order.order_id)
    assert expired is not None and expired.cancel_reason is CancelReason.EXPIRED
    assert ledger.account("alice").reserved_cash == 0
    assert engine.levels(BookSide.BID) == ()
    past = engine.submit(req("alice", YES, BUY, "0.30", 1, TimeInForce.GTD, expires_at=expires))
    assert past.order.reject_reason is RejectReason.INVALID_EXPIRATION
    missing = engine.submit(req("alice", YES, BUY, "0.30", 1, TimeInForce.GTD))
    assert missing.order.reject_reason is RejectReason.INVALID_EXPIRATION


def test_self_trade_cancels_the_resting_order_and_matching_goes_on():
    engine, ledger = make()
    ledger.grant_position("alice", M, YES, D(5))
    ledger.grant_position("bob", M, YES, D(5))
    own = engine.submit(req("alice", YES, SELL, "0.40", 5)).order.order_id
    other = engine.submit(req("bob", YES, SELL, "0.45", 5)).order.order_id
    done = engine.submit(req("alice", YES, BUY, "0.50", 5))
    cancelled = engine.order(own)
    assert cancelled is not None and cancelled.cancel_reason is CancelReason.SELF_TRADE
    [trade] = trades(done.events)
    assert trade.maker.order.order_id == other and trade.yes_price == D("0.45")
    assert ledger.account("alice").holding(M, YES).reserved == 0


@pytest.mark.parametrize(
    ("price", "qty", "reason"),
    [
        ("0.555", 10, RejectReason.INVALID_TICK),
        ("0.995", 10, RejectReason.INVALID_TICK),
        ("1", 10, RejectReason.INVALID_PRICE),
        ("0", 10, RejectReason.INVALID_PRICE),
        ("0.50", 4, RejectReason.BELOW_MIN_SIZE),
        ("0.50", "5.001", RejectReason.INVALID_SIZE),
        ("0.50", 0, RejectReason.INVALID_SIZE),
        ("0.50", 3000, RejectReason.INSUFFICIENT_BALANCE),
    ],
)
def test_rejects_bad_orders_without_side_effects(price, qty, reason):
    engine, ledger = make(min_size=D(5), size_step=D("0.01"))
    done = engine.submit(req("alice", YES, BUY, price, qty))
    assert done.order.status is OrderStatus.REJECTED and done.order.reject_reason is reason
    assert ledger.account("alice").reserved_cash == 0 and engine.levels(BookSide.BID) == ()


def test_selling_tokens_you_do_not_hold_is_rejected():
    engine, _ = make()
    assert engine.submit(req("alice", NO, SELL, "0.5", 1)).order.reject_reason is RejectReason.INSUFFICIENT_POSITION


def test_duplicate_client_order_id_is_rejected_per_owner():
    engine, _ = make()
    assert engine.submit(req("alice", YES, BUY, "0.1", 1, client_order_id="c1")).order.status is OrderStatus.OPEN
    dup = engine.submit(req("alice", YES, BUY, "0.1", 1, client_order_id="c1"))
    assert dup.order.reject_reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID
    assert engine.submit(req("bob", YES, BUY, "0.1", 1, client_order_id="c1")).order.status is OrderStatus.OPEN


def test_post_only_that_would_cross_is_rejected():
    engine, ledger = make()
    ledger.grant_position("bob", M, YES, D(5))
    engine.submit(req("bob", YES, SELL, "0.40", 5))
    crossing = engine.submit(req("alice", YES, BUY, "0.40", 5, post_only=True))
    assert crossing.order.reject_reason is RejectReason.POST_ONLY_WOULD_CROSS
    assert engine.submit(req("alice", YES, BUY, "0.39", 5, post_only=True)).order.status is OrderStatus.OPEN


def test_cancel_one_by_owner_and_all():
    engine, ledger = make()
    a1 = engine.submit(req("alice", YES, BUY, "0.10", 10)).order.order_id
    engine.submit(req("alice", NO, BUY, "0.10", 10))
    engine.submit(req("bob", YES, BUY, "0.20", 10))
    with pytest.raises(UnknownOrderError):
        engine.cancel(a1, owner="bob")
    assert engine.cancel(a1, owner="alice").order.status is OrderStatus.CANCELED
    with pytest.raises(OrderNotOpenError):
        engine.cancel(a1)
    assert len([e for e in engine.cancel_owner("alice") if isinstance(e, OrderCanceled)]) == 1
    assert ledger.account("alice").reserved_cash == 0
    assert len(engine.orders(open_only=True)) == 1
    engine.cancel_all()
    assert engine.orders(open_only=True) == []
    assert engine.levels(BookSide.BID) == () and engine.levels(BookSide.ASK) == ()


def test_polymarket_taker_fee_is_charged_to_the_taker_only():
    engine, ledger = make(fees=PolymarketFees(D("0.02")))
    ledger.grant_position("bob", M, YES, D(100))
    engine.submit(req("bob", YES, SELL, "0.30", 100))
    done = engine.submit(req("alice", YES, BUY, "0.30", 100))
    [trade] = trades(done.events)
    assert trade.taker.fee == D("0.42")  # 100 x 0.02 x 0.3 x 0.7
    assert trade.maker.fee == 0
    assert ledger.account("alice").cash == D(1000) - D(30) - D("0.42")
    assert ledger.fees_collected == D("0.42")


def test_kalshi_fee_accumulates_per_order_not_per_fill():
    engine, ledger = make(fees=KalshiFees())
    for who in ("bob", "carol"):
        ledger.grant_position(who, M, YES, D(1))
        engine.submit(req(who, YES, SELL, "0.50", 1))
    done = engine.submit(req("alice", YES, BUY, "0.50", 2))
    fees = [t.taker.fee for t in trades(done.events)]
    assert fees == [D("0.02"), D("0.02")]  # ceil(0.0175) then ceil(0.035) - 0.02
    assert done.order.fees_paid == D("0.04")
    assert all(t.maker.fee == 0 for t in trades(done.events))
    assert ledger.account("alice").cash == D(1000) - D(1) - D("0.04")


def test_market_close_cancels_and_rejects():
    engine, ledger = make()
    engine.submit(req("alice", YES, BUY, "0.10", 10))
    engine.close()
    assert ledger.account("alice").reserved_cash == 0
    assert engine.submit(req("alice", YES, BUY, "0.10", 10)).order.reject_reason is RejectReason.MARKET_CLOSED


def test_settlement_refuses_reserved_tokens_and_pays_winners():
    engine, ledger = make()
    engine.submit(req("bob", NO, BUY, "0.40", 10))
    engine.submit(req("alice", YES, BUY, "0.60", 10))
    ledger.grant_position("carol", M, YES, D(1))
    engine.submit(req("carol", YES, SELL, "0.99", 1))
    with pytest.raises(LedgerError):
        ledger.settle(M, D(1))
    engine.close()
    ledger.settle(M, D(1))
    assert ledger.account("alice").cash == D(1000) - D(6) + D(10)
    assert ledger.account("bob").cash == D(1000) - D(4)


# ---- properties -------------------------------------------------------------------------

OWNERS = ("alice", "bob", "carol")
order_strategy = st.tuples(
    st.sampled_from(OWNERS),
    st.sampled_from((YES, NO)),
    st.sampled_from((BUY, SELL)),
    st.integers(1, 99),
    st.integers(1, 40),
    st.sampled_from(tuple(TimeInForce)),
)
action_strategy = st.one_of(
    st.tuples(st.just("order"), order_strategy),
    st.tuples(st.just("cancel"), st.integers(0, 200)),
)


def _value(ledger: Ledger, yes_payout: Decimal) -> Decimal:
    total = ledger.fees_collected
    for acct in ledger.accounts():
        total += acct.cash
        total += acct.holding(M, YES).quantity * yes_payout + acct.holding(M, NO).quantity * (1 - yes_payout)
    return total


def _check_invariants(engine: MatchingEngine, ledger: Ledger, initial: Decimal) -> None:
    bid, ask = engine.best(BookSide.BID), engine.best(BookSide.ASK)
    assert bid is None or ask is None or bid < ask, "crossed book"
    for payout in (D(0), D(1)):
        assert _value(ledger, payout) == initial
    open_orders = engine.orders(open_only=True)
    for acct in ledger.accounts():
        assert 0 <= acct.reserved_cash <= acct.cash
        for outcome in (YES, NO):
            holding = acct.holding(M, outcome)
            assert 0 <= holding.reserved <= holding.quantity
            offered = sum(
                (
                    o.remaining
                    for o in open_orders
                    if o.owner == acct.account_id and o.request.side is SELL and o.request.outcome is outcome
                ),
                D(0),
            )
            assert holding.reserved == offered
    for side in BookSide:
        for price, size in engine.levels(side):
            assert size == sum(
                (o.remaining for o in open_orders if o.request.book_side is side and o.request.yes_price == price),
                D(0),
            )


FEE_MODELS = (
    PolymarketFees(D(0)),
    PolymarketFees(D("0.02")),
    PolymarketFees(D("0.07")),
    KalshiFees(),
    KalshiFees(maker_multiplier=D("0.0175")),
)


@settings(max_examples=150, deadline=None)
@given(actions=st.lists(action_strategy, max_size=60), fees=st.sampled_from(FEE_MODELS))
def test_random_flow_conserves_value_and_never_crosses(actions, fees):
    engine, ledger = make(fees=fees)
    for who in OWNERS:
        ledger.grant_position(who, M, YES, D(50))
        ledger.grant_position(who, M, NO, D(50))
    initial = _value(ledger, D(0))
    assert initial == _value(ledger, D(1))
    ids: list[str] = []
    for kind, payload in actions:
        if kind == "cancel":
            if ids:
                target = engine.order(ids[payload % len(ids)])
                if target is not None and target.remaining:
                    engine.cancel(target.order_id)
            continue
        owner, outcome, side, cents, qty, tif = payload
        expires = datetime(2030, 1, 1, tzinfo=UTC) if tif is TimeInForce.GTD else None
        before = {a.account_id: (a.cash, a.reserved_cash) for a in ledger.accounts()}
        levels_before = (engine.levels(BookSide.BID), engine.levels(BookSide.ASK))
        done = engine.submit(req(owner, outcome, side, D(cents) / 100, qty, tif, expires_at=expires))
        ids.append(done.order.order_id)
        if tif is TimeInForce.FOK:
            if done.order.status is OrderStatus.REJECTED:
                assert {a.account_id: (a.cash, a.reserved_cash) for a in ledger.accounts()} == before
                assert (engine.levels(BookSide.BID), engine.levels(BookSide.ASK)) == levels_before
                assert done.events and not trades(done.events)
            else:
                assert done.order.status is OrderStatus.FILLED and done.order.filled == qty
        _check_invariants(engine, ledger, initial)


def test_finished_orders_and_events_are_kept_only_up_to_their_caps(monkeypatch: pytest.MonkeyPatch):
    """A market that runs for days must not keep every order it ever saw; open orders are never dropped."""
    monkeypatch.setattr(engine_module, "FINISHED_ORDER_HISTORY", 3)
    monkeypatch.setattr(engine_module, "EVENT_HISTORY", 10)
    engine, _ = make()
    resting = engine.submit(req("alice", YES, BUY, "0.10", 1, client_order_id="keep")).order.order_id
    churned = []
    for i in range(6):
        order_id = engine.submit(req("bob", YES, BUY, "0.20", 1, client_order_id=f"c{i}")).order.order_id
        engine.cancel(order_id, "bob")
        churned.append(order_id)
    assert [engine.order(i) is not None for i in churned] == [False, False, False, True, True, True]
    kept = engine.order(resting)
    assert kept is not None and kept.status is OrderStatus.OPEN
    assert len(engine.events) == 10 and isinstance(engine.events[-1], LevelChanged)
    # A forgotten order's client id may be reused; a remembered one's may not.
    assert engine.submit(req("bob", YES, BUY, "0.20", 1, client_order_id="c0")).order.reject_reason is None
    dup = engine.submit(req("bob", YES, BUY, "0.20", 1, client_order_id="c5")).order
    assert dup.reject_reason is RejectReason.DUPLICATE_CLIENT_ORDER_ID
    assert engine.submit(req("carol", YES, BUY, "0.10", 1, client_order_id="keep")).order.reject_reason is None
    assert engine.submit(req("alice", YES, BUY, "0.10", 1, client_order_id="keep")).order.reject_reason is not None


def test_filled_orders_are_forgotten_past_the_cap(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(engine_module, "FINISHED_ORDER_HISTORY", 2)
    engine, _ = make()
    ids = []
    for _ in range(3):
        maker = engine.submit(req("alice", YES, BUY, "0.40", 1)).order.order_id
        taker = engine.submit(req("bob", NO, BUY, "0.60", 1)).order
        assert taker.status is OrderStatus.FILLED
        ids += [maker, taker.order_id]
    assert [engine.order(i) is not None for i in ids] == [False, False, False, False, True, True]


def test_forget_drops_a_finished_order_only():
    engine, _ = make()
    done = engine.submit(req("bob", YES, BUY, "0.20", 1, client_order_id="a")).order.order_id
    engine.cancel(done, "bob")
    live = engine.submit(req("bob", YES, BUY, "0.20", 1, client_order_id="b")).order.order_id
    engine.forget(done)
    engine.forget(live)
    engine.forget("never-seen")
    assert engine.order(done) is None
    still_open = engine.order(live)
    assert still_open is not None and still_open.status is OrderStatus.OPEN
    assert engine.submit(req("bob", YES, BUY, "0.20", 1, client_order_id="a")).order.reject_reason is None
